"""The flywheel's re-scan runs a second, independent detector (philter-lite's rules) besides the masking engine."""
from __future__ import annotations

import pytest

from flywheel.phi_scan import PhiScanner, independent_detector
from serve_app.config import PiiConfig
from serve_app.engines.pii.engine import PiiEngine


@pytest.fixture(scope="module")
def engine():
    return PiiEngine()


@pytest.fixture(scope="module")
def scanner(engine):
    return PhiScanner.from_config(PiiConfig(), engine)


@pytest.mark.parametrize("text,value", [
    ("my son russell drove me here this morning", "russell"),
    ("she saw dr gutierrez last week", "gutierrez"),
])
def test_a_value_the_masking_misses_is_caught_by_the_independent_detector(text, value):
    blind_masking = lambda t: []  # stands for a masking engine that missed it
    scanner = PhiScanner(blind_masking, independent_detector(PiiConfig()))
    kinds, redacted = scanner.scan({"reason": text})
    assert kinds and value not in redacted["reason"]


@pytest.mark.parametrize("text", [
    "I've had a cough since October and I take atorvastatin 20 mg at night.",
    "[PERSON_1] has had chest pain for two days; no carcinoma on the biopsy from [DATE_1].",
    "Blood pressure 128/82, heart rate 72, saturations 97 percent on room air.",
])
def test_clinical_text_and_placeholders_are_not_findings(scanner, text):
    assert scanner.scan({"reason": text}) == ([], None)


def test_both_detectors_run(scanner):
    assert len(scanner._finders) == 2
