"""The audio signal itself: voice activity, voice changes, the condensed timeline."""
