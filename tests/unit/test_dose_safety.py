"""Dose limits and allergy conflicts (guardrails, issue 5 in progress)."""
from __future__ import annotations

from serve_app.engines.guardrails.dose_safety import allergies, allergy_findings, dose_findings


def kinds(text):
    return [f.kind for f in dose_findings(text)]


def test_single_and_daily_limits_with_unit_normalisation():
    assert kinds("Tylenol 1 g every 6 hours as needed.") == []              # 1000 mg x 4 = 4000 mg
    assert kinds("Tylenol 1 g every 4 hours.") == ["dose"]                   # 6000 mg a day
    assert kinds("Acetaminophen 1500 mg once.") == ["dose"]                  # single dose
    assert kinds("Lisinopril 10 mg daily.") == []
    assert kinds("Lisinopril 100 mg daily.") == ["dose"]
    assert kinds("Levothyroxine 100 mcg daily.") == []
    assert kinds("Methotrexate 15 mg daily.") == ["dose"]                    # weekly drug given daily
    assert kinds("Methotrexate 15 mg once a week.") == []


def test_allergy_conflict_between_transcript_and_plan():
    said = "[patient] I'm allergic to penicillin, I get a rash. [doctor] Okay."
    assert allergies(said) == {"penicillin"}
    assert [f.kind for f in allergy_findings("Start amoxicillin 500 mg three times a day.", allergies(said))] == [
        "allergy"]
    assert allergy_findings("Start azithromycin 500 mg daily.", allergies(said)) == []
