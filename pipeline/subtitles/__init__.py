"""Timed sentences into cues, cues into subtitle files and the preview page."""
