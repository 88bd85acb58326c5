"""Fitting the models the service ships (the role model) on ../shared/data/train."""
