"""Feedback flywheel: clinician feedback -> PHI-free Parquet datasets (feedback, sft, dpo) for Ray Data.

``records`` turns one feedback into rows, ``phi_scan`` re-scans every row, ``writer`` spools and
publishes exactly once, ``compact`` and ``layout`` keep the datasets readable, ``cli`` is the
``flywheel`` command.  The ``Flywheel`` deployment (``deployments/flywheel.py``) hosts the writer.
"""
