"""Packaged configuration: prompts, allow-lists, model and app configs."""
