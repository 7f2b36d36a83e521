"""Time spans as every stage handles and states them: joined into disjoint intervals, and
written for a person reading a warning (times as a player shows them, sentences 1-based)."""

from __future__ import annotations

from collections.abc import Sequence

# A span shorter than this is written to the tenth of a second: whole seconds would give
# its two ends the same name.
SHORT_SPAN_SECONDS = 10.0


def merged(spans: Sequence[tuple[float, float]], pad: float = 0.0) -> list[tuple[float, float]]:
    """The spans, each widened by `pad` on both sides, sorted, touching ones joined."""
    out: list[list[float]] = []
    for a, b in sorted((a - pad, b + pad) for a, b in spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def clock(seconds: float, tenths: bool = False) -> str:
    """42:10, or 42:10.3 (minutes may pass 59: an episode's times as a player shows them)."""
    if tenths:
        minutes, rest = divmod(round(seconds * 10), 600)
        return f"{minutes}:{rest / 10:04.1f}"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def time_range(start: float, end: float) -> str:
    """42:10–56:00; a short span to the tenth (0:50.0–0:50.4)."""
    tenths = end - start < SHORT_SPAN_SECONDS
    return f"{clock(start, tenths)}–{clock(end, tenths)}"


def numbered_ranges(indices: Sequence[int]) -> str:
    """0-based positions written 1-based and compact: [2, 3, 4, 8] -> "3-5, 9"."""
    parts: list[str] = []
    run = [indices[0]]
    for i in indices[1:]:
        if i == run[-1] + 1:
            run.append(i)
            continue
        parts.append(_run_text(run))
        run = [i]
    parts.append(_run_text(run))
    return ", ".join(parts)


def _run_text(run: list[int]) -> str:
    return f"{run[0] + 1}" if len(run) == 1 else f"{run[0] + 1}-{run[-1] + 1}"
