"""The `podalign` command line."""
