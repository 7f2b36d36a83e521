"""Reference text onto audio: same-language forced alignment, cross-lingual
alignment, their refinement, and how much of each is well aligned."""
