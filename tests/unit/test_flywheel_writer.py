"""Flywheel writer: classification, exactly-once publication, crash repair, quarantine, compaction (no Ray)."""
from __future__ import annotations

import json
import os
import re

import pyarrow.dataset as pads
import pytest

from flywheel.compact import compact
from flywheel.phi_scan import PhiScanner
from flywheel.records import Feedback, FlywheelRules, rows_for
from flywheel.schemas import DATASETS, SCHEMA_VERSION
from flywheel.writer import FlywheelWriter, quarantine_root_for

NOTE = {"subjective": [{"id": "n0", "text": "Cough for two weeks.", "citations": ["s0"]}],
        "objective": [], "assessment": [{"id": "n1", "text": "Likely viral bronchitis.", "citations": ["s1"]}],
        "plan": [{"id": "n2", "text": "Rest and fluids.", "citations": ["s1"]}]}
SEGMENTS = [{"id": "s0", "text": "[PERSON_1] has had a cough for two weeks.", "role": "patient"},
            {"id": "s1", "text": "It sounds viral, rest and drink fluids.", "role": "doctor"}]


def _find(text):
    """A stand-in PII engine: 'John Smith' is a name."""
    return [(m.start(), m.end(), "PERSON") for m in re.finditer(r"John Smith", text)]


def feedback(fid, action="accept", final=None, reason=None, t=1_790_000_000.0):
    return Feedback(feedback_id=fid, session="sess-a", clinician="clin-a", action=action, note_version=3,
                    generated_note=NOTE, segments=SEGMENTS, received_at=t, final_note=final, reason=reason,
                    model_id="smollm2-135m", prompt_version="p1", config={"mode": "fact"})


def edited(text):
    return {**NOTE, "plan": [{"id": "n2", "text": text, "citations": ["s1"]}]}


def dataset_path(root, dataset):
    """Where a dataset lives: the quarantine under its own root, the others under ``root``."""
    return os.path.join(quarantine_root_for(str(root)) if dataset == "quarantine" else str(root), dataset)


def rows(root, dataset):
    return pads.dataset(dataset_path(root, dataset), format="parquet", partitioning="hive").to_table().to_pylist()


def test_classification_accept_edit_reject():
    rules = FlywheelRules(dpo_max_similarity=0.9)
    acc = rows_for(feedback("a"), rules)
    assert [len(acc[k]) for k in ("feedback", "sft", "dpo")] == [1, 1, 0]
    assert [m["role"] for m in acc["sft"][0]["messages"]] == ["system", "user", "assistant"]
    assert json.loads(acc["sft"][0]["messages"][2]["content"])["plan"][0]["text"] == "Rest and fluids."
    big = rows_for(feedback("b", "edit", edited("Start amoxicillin 500 mg three times a day for a week.")), rules)
    assert [len(big[k]) for k in ("feedback", "sft", "dpo")] == [1, 1, 1]
    assert "amoxicillin" in big["dpo"][0]["chosen"] and "amoxicillin" not in big["dpo"][0]["rejected"]
    assert big["dpo"][0]["similarity"] < 0.9 and big["feedback"][0]["substantive"] is True
    small = rows_for(feedback("c", "edit", edited("Rest and fluid.")), rules)
    assert [len(small[k]) for k in ("feedback", "sft", "dpo")] == [1, 1, 0]
    same = rows_for(feedback("d", "edit", edited("Rest and fluids.")), rules)
    assert same["sft"][0]["source"] == "accept"
    rej = rows_for(feedback("e", "reject", reason="Wrong patient history."), rules)
    assert [len(rej[k]) for k in ("feedback", "sft", "dpo")] == [1, 0, 0]
    assert rej["feedback"][0]["reason"] == "Wrong patient history." and rej["feedback"][0]["final_note"] is None
    assert all(r["schema_version"] == SCHEMA_VERSION and r["note_version"] == 3 for r in acc["feedback"])


def test_published_rows_match_the_pinned_schemas_and_retries_are_not_duplicated(tmp_path):
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    assert w.submit(feedback("f1")) and w.submit(feedback("f2", "edit", edited("Start amoxicillin 500 mg.")))
    assert not w.submit(feedback("f1"))  # a retry with the same id
    assert w.publish() == 2
    assert not w.submit(feedback("f2"))  # still known after publication
    assert sorted(r["feedback_id"] for r in rows(tmp_path, "feedback")) == ["f1", "f2"]
    assert len(rows(tmp_path, "sft")) == 2 and len(rows(tmp_path, "dpo")) == 1
    for name, schema in DATASETS.items():
        ds = pads.dataset(dataset_path(tmp_path, name), format="parquet", partitioning="hive")
        if ds.files:
            assert ds.schema.names == schema.names + ["date"]
    assert FlywheelWriter(str(tmp_path), FlywheelRules(), None).submit(feedback("f1")) is False  # after restart


def test_planted_phi_goes_to_quarantine_redacted_never_to_sft(tmp_path):
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    w.submit(feedback("q1", "edit", edited("Call John Smith about the results.")))
    w.publish()
    assert rows(tmp_path, "sft") == [] and rows(tmp_path, "dpo") == []
    quarantined = rows(tmp_path, "quarantine")
    assert {q["dataset"] for q in quarantined} == {"feedback", "sft", "dpo"}
    assert all(q["entity_types"] == ["PERSON"] for q in quarantined)
    assert not os.path.exists(os.path.join(tmp_path, "quarantine"))  # not beside the datasets readers are given
    for top in (str(tmp_path), quarantine_root_for(str(tmp_path))):
        for path, _, files in os.walk(top):
            for f in files:
                assert b"John Smith" not in open(os.path.join(path, f), "rb").read()


@pytest.mark.parametrize("crash_after", ["manifest", "one_target", "ledger", "half_spool_deleted"])
def test_a_publication_cut_anywhere_is_finished_exactly_once(tmp_path, crash_after):
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    for i in range(5):
        w.submit(feedback(f"c{i}", "edit" if i % 2 else "accept", edited(f"Start drug {i} at 10 mg daily.")))
    real_apply = w._apply

    def crashing(batch, manifest, routed=None):
        targets = manifest["targets"]
        if crash_after in ("one_target", "ledger", "half_spool_deleted"):
            w.root.write_table(targets[0], __import__("pyarrow").Table.from_pylist(
                routed[(targets[0].split("/")[0], targets[0].split("/")[1][5:])], schema=DATASETS[targets[0].split("/")[0]]))
        if crash_after in ("ledger", "half_spool_deleted"):
            for t in targets[1:]:
                ds, part, _ = t.split("/")
                w.root.write_table(t, __import__("pyarrow").Table.from_pylist(routed[(ds, part[5:])],
                                                                                schema=DATASETS[ds]))
            w.root.write_bytes(f"_ledger/{batch}.json", json.dumps({"feedback_ids": manifest["feedback_ids"]}).encode())
        if crash_after == "half_spool_deleted":
            for fid in manifest["feedback_ids"][:2]:
                w.root.delete(f"_spool/{fid}.json")
        raise SystemExit("killed")

    w._apply = crashing
    with pytest.raises(SystemExit):
        w.publish()
    w._apply = real_apply
    fresh = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))  # a restarted writer
    fresh.publish()
    assert sorted(r["feedback_id"] for r in rows(tmp_path, "feedback")) == [f"c{i}" for i in range(5)]
    assert len(rows(tmp_path, "sft")) == 5
    assert fresh.pending() == 0 and not fresh.root.list("_batches", ".json")


def test_compaction_merges_files_and_keeps_every_row_once(tmp_path):
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    for i in range(4):
        w.submit(feedback(f"k{i}", t=1_790_000_000.0 + i))
        w.publish()
    before = sorted(r["feedback_id"] for r in rows(tmp_path, "feedback"))
    assert len(pads.dataset(os.path.join(tmp_path, "feedback")).files) == 4
    report = compact(str(tmp_path))
    assert report["feedback"] == {"files_before": 4, "files_after": 1, "rows": 4}
    assert sorted(r["feedback_id"] for r in rows(tmp_path, "feedback")) == before
    w.submit(feedback("k9"))  # the writer keeps appending through the swapped link
    w.publish()
    assert len(rows(tmp_path, "feedback")) == 5


def test_the_projects_own_instruction_is_not_scanned_but_every_session_text_is():
    seen = []
    scanner = PhiScanner(lambda t: seen.append(t) or [])
    for rows_ in rows_for(feedback("s", "edit", edited("Start amoxicillin 500 mg twice daily for ten days.")),
                          FlywheelRules()).values():
        for row in rows_:
            scanner.scan(row)
    from flywheel.records import SYSTEM_PROMPT
    assert not any(SYSTEM_PROMPT in t for t in seen)
    assert any("[PERSON_1] has had a cough" in t for t in seen) and any("amoxicillin" in t for t in seen)


def test_real_pii_engine_scan_finds_planted_phi_but_not_drugs_or_the_json_around_notes():
    from serve_app.config import PiiConfig

    scanner = PhiScanner.from_config(PiiConfig())
    clean = rows_for(feedback("r1", "edit", edited("Salbutamol inhaler two puffs twice a day; review in 3 weeks.")),
                     FlywheelRules())
    assert all(scanner.scan(row)[0] == [] for rows_ in clean.values() for row in rows_)
    dirty = rows_for(feedback("r2", "edit", edited("Walter Kowalski called from 617-555-0123 about the results.")),
                     FlywheelRules())
    kinds, redacted = scanner.scan(dirty["sft"][0])
    assert {"PERSON", "PHONE_NUMBER"} <= set(kinds)
    assert "617-555-0123" not in json.dumps(redacted, default=str) and "Kowalski" not in json.dumps(redacted, default=str)


def test_a_compaction_cut_before_the_swap_changes_nothing_and_can_be_rerun(tmp_path, monkeypatch):
    import flywheel.compact as compact_mod

    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    for i in range(3):
        w.submit(feedback(f"m{i}"))
        w.publish()
    monkeypatch.setattr(compact_mod, "swap_snapshot", lambda *a: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        compact(str(tmp_path))
    assert len(pads.dataset(os.path.join(tmp_path, "feedback")).files) == 3  # readers still see the old files
    monkeypatch.undo()
    assert compact(str(tmp_path))["feedback"] == {"files_before": 3, "files_after": 1, "rows": 3}
    assert sorted(r["feedback_id"] for r in rows(tmp_path, "feedback")) == ["m0", "m1", "m2"]


def test_a_pyarrow_fs_uri_root_works(tmp_path):
    w = FlywheelWriter(f"file://{tmp_path}/fw", FlywheelRules(), PhiScanner(_find))
    w.submit(feedback("u1"))
    assert w.publish() == 1
    assert [r["feedback_id"] for r in rows(tmp_path / "fw", "feedback")] == ["u1"]


def test_a_publication_cut_then_resumed_with_a_stricter_scanner_loses_nothing(tmp_path):
    """Review M3: cut after the manifest with scanner v1, restart with v2 that flags 'Springfield':
    every acknowledged feedback still lands (the rows decided at the cut), and none is marked
    published without being in a dataset."""
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    for i in range(3):
        w.submit(feedback(f"m{i}", "edit", edited(f"Refer to Springfield clinic, dose {i} mg.")))
    w._apply = lambda batch, manifest, routed=None: (_ for _ in ()).throw(SystemExit("killed"))
    with pytest.raises(SystemExit):
        w.publish()

    def stricter(text):
        return _find(text) + [(m.start(), m.end(), "LOCATION") for m in re.finditer("Springfield", text)]

    fresh = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(stricter))
    fresh.publish()
    assert sorted(r["feedback_id"] for r in rows(tmp_path, "feedback")) == ["m0", "m1", "m2"]
    assert fresh.pending() == 0 and not fresh.root.list("_batches", ".json")
    assert not fresh.root.list("_staged")  # staging is cleaned up with the batch


def test_a_legacy_manifest_resumed_with_a_stricter_scanner_adds_the_new_targets(tmp_path):
    w = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(_find))
    for i in range(3):
        w.submit(feedback(f"l{i}", "edit", edited(f"Refer to Springfield clinic, dose {i} mg.")))
    real_apply = w._apply

    def legacy_cut(batch, manifest, routed=None):  # a manifest written before staging existed
        legacy = {"feedback_ids": manifest["feedback_ids"], "targets": manifest["targets"]}
        w.root.write_bytes(f"_batches/{batch}.json", json.dumps(legacy).encode())
        raise SystemExit("killed")

    w._apply = legacy_cut
    with pytest.raises(SystemExit):
        w.publish()
    w._apply = real_apply

    def stricter(text):
        return _find(text) + [(m.start(), m.end(), "LOCATION") for m in re.finditer("Springfield", text)]

    fresh = FlywheelWriter(str(tmp_path), FlywheelRules(), PhiScanner(stricter))
    fresh.publish()
    published = {r["feedback_id"] for r in rows(tmp_path, "feedback")} | \
        {r["feedback_id"] for r in rows(tmp_path, "quarantine")}
    assert published == {"l0", "l1", "l2"}
