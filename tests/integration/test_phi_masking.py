"""Planted PHI posted as text segments never appears in the state; recall per label."""
from __future__ import annotations

import re
import time
from collections import Counter

from bench.harness.data import phi_records

#: Labels the issue names (names, phones, e-mails, SSNs, addresses, ZIP codes, IPs, record numbers).
TARGET = {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN", "STREET_ADDRESS", "ZIP_CODE",
          "IP_ADDRESS", "US_DRIVER_LICENSE"}
#: Overall recall over TARGET reached on data/dev (27/28); the test fails below it.
RECALL_FLOOR = 27 / 28


def _leaked(value: str, masked: str) -> bool:
    """True if an identifying token of ``value`` (one with a digit or a capital,
    so not "the" of "the corner of ...") survives in ``masked`` as a whole token."""
    tokens = [t for t in re.findall(r"\w+", value) if any(c.isdigit() or c.isupper() for c in t)]
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", masked) for t in tokens)


def _wait_segments(client, sid, n, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.state(sid)
        if len(state["segments"]) >= n:
            return state
        time.sleep(0.2)
    raise AssertionError("segments were not processed")


def test_phi_recall_per_label(alice):
    records = phi_records()
    sid = alice.create_session()
    r = alice.http.post(f"/v1/sessions/{sid}/segments",
                        json={"segments": [{"text": rec["text"], "role": None} for rec in records]})
    assert r.status_code == 202, r.text
    state = _wait_segments(alice, sid, len(records))
    total, caught = Counter(), Counter()
    for rec, seg in zip(records, state["segments"]):
        for span in rec["spans"]:
            total[span["label"]] += 1
            caught[span["label"]] += not _leaked(span["value"], seg["text"])
    print("\nPHI recall per label (caught/total):")
    for label in sorted(total):
        print(f"  {label:18s} {caught[label]}/{total[label]}")
    hit = sum(caught[label] for label in TARGET)
    n = sum(total[label] for label in TARGET)
    print(f"  TARGET overall {hit}/{n} = {hit / n:.3f}")
    assert hit / n >= RECALL_FLOOR
    names = alice.http.get(f"/v1/sessions/{sid}/names").json()
    assert names and all(re.fullmatch(r"\[[A-Z]+_\d+\]", k) for k in names)


def test_placeholders_are_consistent_and_clinical_words_survive(alice, bob):
    sid = alice.create_session()
    texts = [
        "Hello, I'm Dr. Patel. Is it Mr. John Carter?",
        "Yes, John Carter. My number is 07700 900 123.",
        "Mr. Carter, you've had chest pain for two days? Any history of Parkinson's?",
        "I take Tylenol 500 mg twice a day and metformin. My date of birth is 4 March 1951.",
    ]
    r = alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": t} for t in texts]})
    assert r.status_code == 202
    state = _wait_segments(alice, sid, len(texts))
    masked = [s["text"] for s in state["segments"]]
    joined = " ".join(masked)
    for phi in ("Patel", "Carter", "John", "07700", "1951"):
        assert phi not in joined
    for clinical in ("two days", "Parkinson's", "Tylenol", "500 mg", "twice a day", "metformin", "chest pain"):
        assert clinical in joined, clinical
    person = re.search(r"Mr\. (\[PERSON_\d+\])", masked[0]).group(1)
    assert person in masked[1] and person in masked[2]
    names = alice.http.get(f"/v1/sessions/{sid}/names").json()
    assert names[person] == "John Carter"
    assert bob.http.get(f"/v1/sessions/{sid}/names").status_code == 404
    assert bob.http.get(f"/v1/sessions/{sid}").status_code == 404
