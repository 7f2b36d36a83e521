"""What comes in: audio fetched (yt-dlp) and decoded, reference transcripts read."""
