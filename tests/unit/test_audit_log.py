"""The audit log: every record chained by hash, tampering found, no session id or PHI in it."""
from __future__ import annotations

import json

import pytest

from serve_app.audit import AuditLog, verify_log
from serve_app.cli import main as scribe

pytestmark = pytest.mark.unit


def _log(tmp_path):
    return AuditLog(tmp_path / "audit" / "audit.jsonl", lambda sid: f"session_{sid[::-1]}")


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_chain_and_verify(tmp_path, capsys):
    log = _log(tmp_path)
    log.append("alice", "names_revealed", "SECRETSID1", count=2)
    log.append("alice", "exported", "SECRETSID1", format="fhir", note_version=3)
    log.append("bob", "deleted", "SECRETSID2")
    records = _records(log.path)
    assert [r["seq"] for r in records] == [1, 2, 3] and records[1]["prev"] == records[0]["hash"]
    assert "SECRETSID" not in log.path.read_text()  # the session id is a bearer of access: pseudonym only
    assert verify_log(log.path).ok and verify_log(log.path).records == 3
    assert scribe(["audit", "verify", "--path", str(log.path)]) == 0
    assert "3 records, chain intact" in capsys.readouterr().out


@pytest.mark.parametrize("tamper", ["edit", "delete", "swap"])
def test_tampering_is_detected(tmp_path, tamper, capsys):
    log = _log(tmp_path)
    for k in range(4):
        log.append("alice", "feedback", f"sid{k}", action="accept", note_version=k + 1)
    lines = log.path.read_text().splitlines()
    if tamper == "edit":
        record = json.loads(lines[1])
        record["actor"] = "mallory"
        lines[1] = json.dumps(record)
    elif tamper == "delete":
        del lines[2]
    else:
        lines[1], lines[2] = lines[2], lines[1]
    log.path.write_text("\n".join(lines) + "\n")
    check = verify_log(log.path)
    assert not check.ok and check.first_bad == 2 + (tamper == "delete")
    assert scribe(["audit", "verify", "--path", str(log.path)]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_appends_continue_the_chain_across_writers(tmp_path):
    first, second = _log(tmp_path), _log(tmp_path)  # two ingress replicas on one log
    first.append("alice", "exported", "a", format="text", note_version=1)
    second.append("alice", "exported", "b", format="text", note_version=1)
    first.append("alice", "deleted", "a")
    assert verify_log(first.path).records == 3
    with pytest.raises(ValueError):
        first.append("alice", "read_everything", "a")
