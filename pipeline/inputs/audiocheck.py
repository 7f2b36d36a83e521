"""Check that a downloaded file is whole, decodable audio before spending a model on it.

A web server that sends an HTML error page as audio/mpeg, or a download cut short, must
fail here with a reason the user can act on, not deep inside the aligner.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipeline.errors import PodalignError

# A file whose header promises this much more than decodes is truncated; encoder padding
# and VBR estimates account for far less.
_TRUNCATION_TOLERANCE = 0.9
_TRUNCATION_SLACK_SECONDS = 0.5


def header_duration(path: Path, label: str | None = None) -> float | None:
    """Return the duration the container claims, or None if it claims none.

    Raises PodalignError when ffprobe finds no audio stream: the file is not audio.
    """
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type:format=duration",
         "-of", "json", "--", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    info = json.loads(proc.stdout or "{}") if proc.returncode == 0 else {}
    if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
        raise PodalignError(f"{label or path}: not an audio file (ffprobe finds no audio stream)")
    duration = info.get("format", {}).get("duration")
    return float(duration) if duration not in (None, "N/A") else None


def decoded_duration(path: Path) -> float:
    """Return how many seconds of the first audio stream actually decode."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
         "-f", "null", "-", "-progress", "pipe:1", "-nostats"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    micros = [
        int(line.split("=", 1)[1])
        for line in proc.stdout.splitlines()
        if line.startswith("out_time_us=") and line.split("=", 1)[1].lstrip("-").isdigit()
    ]
    return max(micros, default=0) / 1_000_000


def check_audio(path: Path, label: str | None = None) -> float:
    """Return the playable duration of path in seconds; raise PodalignError if it is not
    audio, decodes to nothing, or is shorter than its own header says (a cut-off download).

    label (the URL it came from) names the input in errors; the path otherwise.
    """
    label = label or str(path)
    claimed = header_duration(path, label)
    decoded = decoded_duration(path)
    if decoded <= 0:
        raise PodalignError(f"{label}: audio stream decodes to nothing; the file is damaged")
    check_not_truncated(label, claimed, decoded, "download it again or fix the file at its source")
    return decoded


def check_not_truncated(label: str, claimed: float | None, decoded: float, remedy: str) -> None:
    """Raise PodalignError when far less decodes than the header promises (a cut-off file)."""
    if claimed and decoded < claimed * _TRUNCATION_TOLERANCE - _TRUNCATION_SLACK_SECONDS:
        raise PodalignError(
            f"{label}: truncated audio: its header says {claimed:.1f} s but only "
            f"{decoded:.1f} s decode; {remedy}"
        )
