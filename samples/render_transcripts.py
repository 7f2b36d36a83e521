"""Render a transcript's turns in every speaker-label form and file form podalign reads.

The fixtures for pipeline.inputs.transcript: each rendering must read back as the turns it was
made from. `python -m samples.render_transcripts [TRANSCRIPT] --out DIR` renders the seed
transcript (default samples/seed-sv.txt) into DIR, plus files podalign cannot read
(an encrypted PDF, a scanned one, a .docx that is no document, JSON that is no transcript).
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.subtitles.writers import vtt_timestamp

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "seed-sv.txt"
TITLE = "Vilken nytta har en expert av kunddelaktighet?"
LINK = "https://soundcloud.com/user-841203804/mita-hyotya-asiakastosallisuudesta-on-asiantuntijalle"
# The seed's speakers' full names, as the seed text itself gives them.
FULL_NAMES = {"Lehtinen": "Satu Lehtinen", "Linnanmäki": "Eila Linnanmäki"}
ROLES = ("Intervjuare", "Host", "Gäst", "Haastateltava", "Moderator", "Expert")
# A turn is broken into paragraphs of this many sentences; only the first is labelled.
PARAGRAPH_SENTENCES = 4
# Cues of old subtitles hold this many words: sentences run over cue boundaries.
CUE_WORDS = 7
TURN_SECONDS = 37  # made-up time stamps: each turn starts this much after the previous
# A Unicode font for the PDFs (Debian's fonts-dejavu-core, in the Makefile's APT_PACKAGES):
# PDF core fonts have no "…" or "’".
PDF_FONTS = Path("/usr/share/fonts/truetype/dejavu")

Turns = Sequence[tuple[str, Sequence[str]]]  # (speaker, sentences) per turn


@dataclass(frozen=True)
class Mention:
    """One label in the text: who, the speaker's number by first appearance, whether it is
    the speaker's first label, and the turn's time stamp."""

    speaker: str
    number: int
    first: bool
    stamp: str


def _full(speaker: str) -> str:
    return FULL_NAMES.get(speaker, speaker)


def _short(speaker: str) -> str:
    return speaker.split()[-1]


@dataclass(frozen=True)
class LabelForm:
    label: Callable[[Mention], str]  # the label with what separates it from the text
    voice: Callable[[Mention], str]  # the speaker name podalign should read from it


def _as_written(m: Mention) -> str:
    return m.speaker


LABEL_FORMS: dict[str, LabelForm] = {
    "plain": LabelForm(lambda m: f"{m.speaker}: ", _as_written),
    "talare": LabelForm(lambda m: f"Talare {m.number}: ", lambda m: f"Talare {m.number}"),
    "speaker": LabelForm(lambda m: f"Speaker {m.number}: ", lambda m: f"Speaker {m.number}"),
    "speaker_00": LabelForm(
        lambda m: f"SPEAKER_{m.number - 1:02d}: ", lambda m: f"SPEAKER_{m.number - 1:02d}"
    ),
    "puhuja": LabelForm(lambda m: f"Puhuja {m.number}: ", lambda m: f"Puhuja {m.number}"),
    "roles": LabelForm(lambda m: f"{ROLES[m.number - 1]}: ", lambda m: ROLES[m.number - 1]),
    "capitals": LabelForm(lambda m: f"{m.speaker.upper()}: ", _as_written),
    "title": LabelForm(
        lambda m: f"Dr. {_full(m.speaker)}: " if m.first else f"{_short(m.speaker)}: ",
        lambda m: _full(m.speaker),
    ),
    "affiliation": LabelForm(
        lambda m: f"{_full(m.speaker)} (THL): " if m.first else f"{_short(m.speaker)}: ",
        lambda m: _full(m.speaker),
    ),
    "bold": LabelForm(lambda m: f"**{m.speaker}:** ", _as_written),
    "bold name": LabelForm(lambda m: f"**{m.speaker}**: ", _as_written),
    "list": LabelForm(lambda m: f"- {m.speaker}: ", _as_written),
    "bracket time": LabelForm(lambda m: f"[{m.stamp}] {m.speaker}: ", _as_written),
    "paren time": LabelForm(lambda m: f"{m.speaker} ({m.stamp}): ", _as_written),
    "time line": LabelForm(lambda m: f"{m.speaker}  {m.stamp}\n", _as_written),
    "label line": LabelForm(lambda m: f"{m.speaker}:\n", _as_written),
}


@dataclass(frozen=True)
class Paragraph:
    label: str  # "" for a paragraph continuing its speaker
    text: str


def mentions(turns: Turns) -> list[Mention]:
    """The mention that starts each turn."""
    numbers: dict[str, int] = {}
    out = []
    for index, (speaker, _) in enumerate(turns):
        first = speaker not in numbers
        numbers.setdefault(speaker, len(numbers) + 1)
        seconds = index * TURN_SECONDS
        stamp = vtt_timestamp(seconds * 1000)[:8]  # HH:MM:SS
        out.append(Mention(speaker, numbers[speaker], first, stamp))
    return out


def expected_turns(turns: Turns, form: str) -> list[tuple[str, tuple[str, ...]]]:
    """The turns podalign should read from `turns` rendered with label form `form`."""
    voice = LABEL_FORMS[form].voice
    return [(voice(m), tuple(s)) for m, (_, s) in zip(mentions(turns), turns, strict=True)]


def paragraphs(turns: Turns, form: str) -> list[Paragraph]:
    label = LABEL_FORMS[form].label
    out = []
    for mention, (_, sentences) in zip(mentions(turns), turns, strict=True):
        for start in range(0, len(sentences), PARAGRAPH_SENTENCES):
            text = " ".join(sentences[start : start + PARAGRAPH_SENTENCES])
            out.append(Paragraph(label(mention) if start == 0 else "", text))
    return out


def render_text(turns: Turns, form: str = "plain") -> str:
    header = f"Podcast: **{TITLE}**\n\nLänk till podcasten, transkriberad nedan: <{LINK}>\n\n"
    return header + "\n\n".join(p.label + p.text for p in paragraphs(turns, form)) + "\n"


def write_text(turns: Turns, path: Path, form: str = "plain") -> Path:
    path.write_text(render_text(turns, form), encoding="utf-8")
    return path


def write_pdf(turns: Turns, path: Path, form: str = "plain") -> Path:
    """A real PDF, as a word processor exports one: a running header and page numbers,
    lines wrapped mid-sentence, paragraphs broken across pages."""
    from fpdf import FPDF

    class Document(FPDF):
        def header(self) -> None:
            # From page 2 on, as word processors' "different first page" does: a header on
            # a single page cannot be told from the text by recurring.
            if self.page_no() > 1:
                self.set_font("DejaVu", "", 9)
                self.cell(0, 8, TITLE, align="R", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("DejaVu", "", 9)
            self.cell(0, 8, f"Sida {self.page_no()}", align="C")

    pdf = Document(format="A4")
    for style, file in (("", "DejaVuSans"), ("B", "DejaVuSans-Bold")):
        pdf.add_font("DejaVu", style, PDF_FONTS / f"{file}.ttf")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, f"Podcast: {TITLE}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, f"Länk till podcasten, transkriberad nedan: {LINK}",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    for paragraph in paragraphs(turns, form):
        pdf.ln(4)
        label = paragraph.label.strip()
        bold = f"**{label}** " if label else ""
        if paragraph.label.endswith("\n"):  # the label on a line of its own
            pdf.multi_cell(0, 6, bold.strip(), markdown=True, new_x="LMARGIN", new_y="NEXT")
            bold = ""
        pdf.multi_cell(0, 6, bold + paragraph.text, markdown=True, new_x="LMARGIN",
                       new_y="NEXT")  # fmt: skip
    pdf.output(str(path))
    return path


def write_docx(turns: Turns, path: Path, form: str = "plain") -> Path:
    """A real Word document: a title, the link, one paragraph each with its label in bold."""
    import docx

    document = docx.Document()
    document.add_heading(TITLE, level=0)
    document.add_paragraph(f"Länk till podcasten, transkriberad nedan: {LINK}")
    for paragraph in paragraphs(turns, form):
        label = paragraph.label.rstrip(" ")
        if label.endswith("\n"):  # the label on a line of its own
            label = label.strip()
            document.add_paragraph().add_run(label).bold = True
            label = ""
        p = document.add_paragraph()
        if label.strip():
            p.add_run(label.strip()).bold = True
            p.add_run(" ")
        p.add_run(paragraph.text)
    document.save(str(path))
    return path


def write_json(turns: Turns, path: Path, form: str = "plain") -> Path:
    """Podcasting 2.0 transcript JSON, one segment per sentence, made-up times."""
    segments, time = [], 0.0
    for speaker, sentences in turns:
        for sentence in sentences:
            end = time + 0.07 * len(sentence)
            segments.append({"speaker": speaker, "startTime": round(time, 3),
                             "endTime": round(end, 3), "body": sentence})  # fmt: skip
            time = end
    document = {"version": "1.0.0", "segments": segments}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_html(turns: Turns, path: Path, form: str = "plain") -> Path:
    """An HTML transcript as the podcast namespace describes it: `<cite>`, `<time>`, `<p>`."""
    from html import escape

    body = [f"<header><nav><a href='/'>Hem</a></nav></header>\n<h1>{escape(TITLE)}</h1>",
            f'<p>Länk till podcasten: <a href="{LINK}">{LINK}</a></p>']  # fmt: skip
    for mention, (_, sentences) in zip(mentions(turns), turns, strict=True):
        label = LABEL_FORMS[form].label(mention).strip()
        body.append(f"<cite>{escape(label)}</cite>\n<time>{mention.stamp}</time>")
        for start in range(0, len(sentences), PARAGRAPH_SENTENCES):
            text = " ".join(sentences[start : start + PARAGRAPH_SENTENCES])
            body.append(f"<p>{escape(text)}</p>")
    page = (
        f"<!DOCTYPE html>\n<html lang='sv'><head><meta charset='utf-8'><title>{escape(TITLE)}"
        "</title><style>cite{font-weight:bold}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n<footer>© Arbetshälsoinstitutet</footer><script>var x = 1;</script></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def _cues(turns: Turns, form: str) -> list[tuple[str, str, str]]:
    """(start, end, text) per cue of CUE_WORDS words; the speaker's label on each turn's
    first cue (`form` "vtt": a voice span on every cue)."""
    cues, index = [], 0
    for mention, (speaker, sentences) in zip(mentions(turns), turns, strict=True):
        words = " ".join(sentences).split()
        for start in range(0, len(words), CUE_WORDS):
            text = " ".join(words[start : start + CUE_WORDS])
            if form == "vtt":
                text = f"<v {speaker}>{text}"
            elif start == 0:
                text = LABEL_FORMS[form].label(mention) + text
            cues.append((vtt_timestamp(index * 2000), vtt_timestamp(index * 2000 + 2000), text))
            index += 1
    return cues


def write_vtt(turns: Turns, path: Path, form: str = "plain") -> Path:
    cues = [f"{a} --> {b}\n{text}" for a, b, text in _cues(turns, "vtt")]
    path.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")
    return path


def write_srt(turns: Turns, path: Path, form: str = "plain") -> Path:
    cues = [f"{i}\n{a.replace('.', ',')} --> {b.replace('.', ',')}\n{text}"
            for i, (a, b, text) in enumerate(_cues(turns, form), 1)]  # fmt: skip
    path.write_text("\n\n".join(cues) + "\n", encoding="utf-8")
    return path


# File forms by suffix; vtt and json carry speakers in markup (always read as written).
FILE_FORMS: dict[str, Callable[[Turns, Path, str], Path]] = {
    ".txt": write_text,
    ".pdf": write_pdf,
    ".docx": write_docx,
    ".json": write_json,
    ".html": write_html,
    ".vtt": write_vtt,
    ".srt": write_srt,
}
MARKUP_SPEAKERS = {".vtt", ".json"}


# (suffix, label form) of every fixture: each label form as text, each file form with plain
# labels, and file forms with other labels.
FIXTURES: tuple[tuple[str, str], ...] = (
    *((".txt", form) for form in LABEL_FORMS),
    *((suffix, "plain") for suffix in FILE_FORMS if suffix != ".txt"),
    (".pdf", "talare"), (".pdf", "label line"), (".docx", "bracket time"),
    (".docx", "title"), (".html", "affiliation"), (".srt", "speaker_00"),
)  # fmt: skip


def fixture_name(suffix: str, form: str) -> str:
    return f"{form.replace(' ', '-')}{suffix}"


def render_all(turns: Turns, out: Path) -> dict[str, tuple[Path, str]]:
    """Every fixture of FIXTURES: {file name: (path, label form)}."""
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for suffix, form in FIXTURES:
        name = fixture_name(suffix, form)
        made[name] = (FILE_FORMS[suffix](turns, out / name, form), form)
    return made


# --- files that are not readable transcripts -----------------------------------------


def write_encrypted_pdf(turns: Turns, path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(turns, path.with_name(f"{path.stem}-open.pdf"))
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="hemligt", owner_password="hemligt", algorithm="RC4-128")
    writer.write(str(path))
    plain.unlink()
    return path


def write_scanned_pdf(turns: Turns, path: Path) -> Path:
    """A PDF whose page is only a picture of the text, as a scanner makes."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    picture = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(picture)
    for row, paragraph in enumerate(paragraphs(turns, "plain")[:20]):
        draw.text((80, 80 + 40 * row), (paragraph.label + paragraph.text)[:90], fill=0)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(picture, x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def write_non_document_docx(path: Path) -> Path:
    """A zip archive named .docx that holds no Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Avsnitt 1 och 2\n")
    path.write_bytes(buffer.getvalue())
    return path


def write_non_transcript_json(path: Path) -> Path:
    """JSON of another kind: a podcast's episode list."""
    listing = {"title": TITLE, "episodes": [{"title": "Avsnitt 1", "url": LINK}]}
    path.write_text(json.dumps(listing, ensure_ascii=False), encoding="utf-8")
    return path


def render_unreadable(turns: Turns, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    return {
        "encrypted pdf": write_encrypted_pdf(turns, out / "encrypted.pdf"),
        "scanned pdf": write_scanned_pdf(turns, out / "scanned.pdf"),
        "docx not a document": write_non_document_docx(out / "archive.docx"),
        "json not a transcript": write_non_transcript_json(out / "episodes.json"),
    }


def seed_turns(path: Path = SEED) -> list[tuple[str, tuple[str, ...]]]:
    """The turns of a clean transcript, as podalign reads it."""
    from pipeline.inputs.transcript import read_reference

    return [(t.speaker or "Talare", t.sentences) for t in read_reference(path).turns]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcript", type=Path, nargs="?", default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    turns = seed_turns(args.transcript)
    for path, _ in render_all(turns, args.out).values():
        print(path)
    for path in render_unreadable(turns, args.out / "unreadable").values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
