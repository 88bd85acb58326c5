"""Feedback flywheel: feedback -> PHI-free Parquet datasets (raw, SFT, DPO). Arrives with issue 6."""
