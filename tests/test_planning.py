"""pipeline.batch.planning: what a rerun redoes. Real state files in tmp, no model."""

from __future__ import annotations

from pathlib import Path

from pipeline import __version__
from pipeline.batch.feed import FeedEntry
from pipeline.batch.matching import TranscriptFolder
from pipeline.batch.planning import Work, plan_entry, settings_hash
from pipeline.batch.reports import EpisodeOutcome
from pipeline.batch.state import StateStore
from pipeline.episode import AlignOptions

ENTRY = FeedEntry("guid-1", "Hälsa", "http://127.0.0.1/halsa.mp3", guid="guid-1")


def test_the_settings_hash_changes_with_podalign_version() -> None:
    options = AlignOptions(formats=("vtt",))
    assert settings_hash(options) == settings_hash(options, __version__)
    assert settings_hash(options, "0.1.0") != settings_hash(options, "0.2.0")
    assert settings_hash(options, "0.1.0") != settings_hash(AlignOptions(), "0.1.0")
    # where the transcription cache lives shapes no output
    assert settings_hash(options) == settings_hash(
        AlignOptions(formats=("vtt",), cache_dir=Path("/c"))
    )


def _plan_after_a_done_run(tmp_path: Path, done_with: str, now: str) -> Work | EpisodeOutcome:
    state = StateStore(tmp_path)
    state.claim_stem(ENTRY.key, "halsa", "x")
    (tmp_path / "halsa.vtt").write_text("WEBVTT\n", encoding="utf-8")
    state.update(
        ENTRY.key, status="done", source_url=ENTRY.enclosure_url, settings=done_with,
        outputs={"vtt": "halsa.vtt"},
    )  # fmt: skip
    try:
        return plan_entry(ENTRY, state, TranscriptFolder(None), now, frozenset(), tmp_path)
    finally:
        state.close()


def test_a_rerun_after_an_upgrade_redoes_the_episode(tmp_path: Path) -> None:
    options = AlignOptions(formats=("vtt",))
    before, after = settings_hash(options, "0.1.0"), settings_hash(options, "0.2.0")
    unchanged = _plan_after_a_done_run(tmp_path / "same", before, before)
    assert isinstance(unchanged, EpisodeOutcome) and unchanged.status == "skipped"
    upgraded = _plan_after_a_done_run(tmp_path / "upgraded", before, after)
    assert isinstance(upgraded, Work) and upgraded.stem == "halsa"
