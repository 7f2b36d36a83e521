"""podalign: timed, speaker-labelled subtitles from podcast audio and a reference transcript."""

__version__ = "0.1.0"
