"""Short spoken Swedish test episodes: espeak-ng voices, ffmpeg MP3, reference transcripts.

Used by the tests' fixtures and the batch benchmark.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# Short Swedish episodes, two speakers each: a few seconds of audio keep the Whisper runs
# cheap on a shared 2-core machine.
SPOKEN_EPISODES: dict[str, list[tuple[str, str]]] = {
    "halsa": [
        ("Anna", "Hej och välkommen till podden om folkhälsa."),
        ("Erik", "Idag pratar vi om sömn och motion."),
    ],
    "vaccin": [
        ("Anna", "Vaccinet skyddar barn mot mässling."),
        ("Erik", "Det är gratis för alla i Finland."),
    ],
    "kost": [
        ("Anna", "Grönsaker och fisk är bra mat."),
        ("Erik", "Socker ska man äta mindre av."),
    ],
}


@dataclass(frozen=True)
class SpokenEpisode:
    name: str
    mp3: Path
    transcript: Path  # "Speaker: sentence" lines, as the reference reader expects

    @property
    def audio_bytes(self) -> bytes:
        return self.mp3.read_bytes()


def speak_episode(name: str, lines: list[tuple[str, str]], out_dir: Path) -> SpokenEpisode:
    """Write name.mp3 (espeak-ng Swedish, a voice per speaker) and name.txt into out_dir."""
    voices = {"Anna": "sv+f3", "Erik": "sv+m3"}
    out_dir.mkdir(parents=True, exist_ok=True)
    wavs = []
    for index, (speaker, text) in enumerate(lines):
        wav = out_dir / f"{name}-{index}.wav"
        subprocess.run(["espeak-ng", "-v", voices[speaker], "-s", "150", "-w", str(wav), text],
                       check=True)  # fmt: skip
        wavs.append(wav)
    mp3 = out_dir / f"{name}.mp3"
    inputs = [arg for wav in wavs for arg in ("-i", str(wav))]
    streams = "".join(f"[{i}:a]" for i in range(len(wavs)))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex",
         f"{streams}concat=n={len(wavs)}:v=0:a=1,apad=pad_dur=0.5", "-ac", "1", "-ar", "16000",
         "-b:a", "32k", str(mp3)],
        check=True,
    )  # fmt: skip
    transcript = out_dir / f"{name}.txt"
    transcript.write_text("".join(f"{who}: {text}\n\n" for who, text in lines), encoding="utf-8")
    return SpokenEpisode(name, mp3, transcript)
