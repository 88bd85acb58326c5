"""Guardrail entity check (issue 5, in progress): normalisation and findings per kind."""
from __future__ import annotations

from serve_app.engines.guardrails.entities import extract
from serve_app.engines.guardrails.entity_check import check_entities

SAID = ("[doctor] I'll start you on Protonix, forty milligrams once a day, for two weeks. "
        "[patient] Okay. My right knee also hurts. [doctor] Blood pressure is 120 over 80.")


def kinds(claim):
    return sorted(f.kind for f in check_entities(claim, SAID))


def test_spoken_numbers_brands_and_units_are_normalised():
    e = extract("take forty milligrams of Protonix twice daily for a couple of weeks")
    assert e.drugs == {"pantoprazole"} and e.dose_amounts == {(40.0, "mass")}
    assert e.per_day == {2.0} and e.vague_durations_days == {14.0} and not e.durations_days
    assert extract("for two weeks").durations_days == {14.0}


def test_dates_times_codes_and_handedness_are_not_checked():
    e = extract("Seen on 11/24/2020 at 7:00 for COVID-19; right-hand dominant; L4-5 stenosis")
    assert not e.numbers and not e.sides
    assert extract("a 31-year-old with left knee pain").numbers == {31.0}
    assert not check_entities("It started a few weeks ago.", "It started three weeks ago.")
    assert extract("0.5 g").dose_amounts == extract("500 mg").dose_amounts


def test_a_faithful_item_has_no_findings():
    assert kinds("Pantoprazole 40 mg once daily for 2 weeks.") == []
    assert kinds("Right knee pain. BP 120/80.") == []


def test_each_changed_entity_is_found():
    assert kinds("Pantoprazole 80 mg once daily for 2 weeks.") == ["dose"]
    assert kinds("Pantoprazole 40 mcg once daily for 2 weeks.") == ["unit"]
    assert kinds("Pantoprazole 40 mg twice daily for 2 weeks.") == ["frequency"]
    assert kinds("Pantoprazole 40 mg once daily for 2 months.") == ["duration"]
    assert kinds("Left knee pain.") == ["laterality"]
    assert kinds("Started lisinopril.") == ["medication"]
    assert kinds("BP 150/80.") == ["number"]


def test_a_side_is_checked_against_the_same_body_part():
    said = "My right knee hurts. I also twisted my left ankle last week."
    assert [f.kind for f in check_entities("Left knee pain.", said)] == ["laterality"]
    assert check_entities("Right knee pain and left ankle sprain.", said) == []
