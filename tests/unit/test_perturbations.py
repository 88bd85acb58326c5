"""The guardrail perturbation generator (bench/perturbations.py): each kind changes what it says."""
from __future__ import annotations

from bench.eval.perturbations import KINDS, generate, perturb, sentences

DIALOGUE = "[doctor] take lisinopril 10 mg twice a day [patient] my left knee hurts for 3 weeks, no fever"


def _one(sentence, kind):
    return perturb(sentence, kind, DIALOGUE, seed=7)


def test_each_kind_changes_only_its_span():
    assert _one("Continue lisinopril 10 mg twice a day.", "changed_dose")[1] == "10"
    assert _one("Continue lisinopril 10 mg twice a day.", "changed_unit")[1:] == ("mg", "mcg")
    assert _one("Continue lisinopril 10 mg twice a day.", "changed_frequency")[1:] == ("twice a day",
                                                                                        "four times a day")
    assert _one("She denies fever.", "flipped_negation")[0] == "She reports fever."
    assert _one("No history of diabetes.", "flipped_negation")[0] == "A history of diabetes."
    assert _one("Left knee pain.", "wrong_side")[0] == "Right knee pain."
    out = _one("Knee pain for 3 weeks.", "wrong_duration")[0]
    assert out != "Knee pain for 3 weeks." and "weekss" not in out and "monthss" not in out
    invented = _one("Continue lisinopril 10 mg.", "invented_medication")
    assert invented[1] == "lisinopril" and invented[2] not in DIALOGUE


def test_kinds_that_do_not_apply_give_nothing_and_frequencies_are_not_durations():
    assert _one("The abdomen is soft.", "changed_dose") is None
    assert _one("The abdomen is soft.", "wrong_side") is None
    assert _one("Take it once a day.", "wrong_duration") is None
    assert _one("The cough keeps him up at night.", "changed_frequency") is None


def test_generation_is_deterministic_and_keeps_unchanged_copies():
    record = {"id": "r1", "dialogue": DIALOGUE,
              "note": "PLAN\n\nContinue lisinopril 10 mg twice a day. She denies fever in the left knee for 3 weeks."}
    rows = generate([("aci_bench", "dev", record)])
    assert rows == generate([("aci_bench", "dev", record)])
    assert sentences(record["note"]) == ["Continue lisinopril 10 mg twice a day.",
                                         "She denies fever in the left knee for 3 weeks."]
    kinds = {r.kind for r in rows}
    assert "unchanged" in kinds and kinds - {"unchanged"} <= set(KINDS)
    assert all(r.sentence != r.original for r in rows if r.kind != "unchanged")
