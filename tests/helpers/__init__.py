"""Shared test helpers (audio chunking, text normalisation, data paths)."""
