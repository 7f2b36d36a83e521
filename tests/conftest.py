"""Shared pytest fixtures. Each owner keeps its fixtures in its own clearly named section."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback import LoopbackServer
from spoken import SPOKEN_EPISODES, SpokenEpisode, speak_episode

# --- fetch / feed / batch: loopback HTTP server and short spoken episodes -----------------


@pytest.fixture(scope="session")
def spoken_episodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SpokenEpisode]:
    """Three short spoken Swedish episodes with their reference transcripts."""
    out_dir = tmp_path_factory.mktemp("spoken")
    return {name: speak_episode(name, lines, out_dir) for name, lines in SPOKEN_EPISODES.items()}


@pytest.fixture()
def loopback() -> Iterator[LoopbackServer]:
    """A real HTTP server on 127.0.0.1:<ephemeral>; add routes with .add(path, Route(...))."""
    with LoopbackServer() as server:
        yield server
