"""Whisper through faster-whisper: models, transcription, language detection."""
