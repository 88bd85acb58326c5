"""Thin Ray Serve wrappers, one per file, each building its engine from config."""
