"""A feed's episodes: listing, matching transcripts, planning, state, engines, reports."""
