"""A frozen, untuned test split of identifier-bearing clinical sentences (issue 14).

    python -m bench.eval.phi_split generate   # once: writes bench/data/phi_untuned/ + MANIFEST.json
    python -m bench.eval.phi_split verify     # the test split still has its frozen hash

Sentences are built from clinical templates filled with Faker values in 13 locales, for the
HIPAA Safe Harbor classes a scribe hears or a clinician types: NAME, PHONE, STREET_ADDRESS,
POSTAL_CODE, CITY, EMAIL, DATE.  Templates are split in two before anything is tuned: the
``tune`` half (and data/dev) may be used to improve masking; the ``test`` half is frozen (its
SHA-256 is in the manifest and a unit test holds it) and only ever measured, so its figure
says how masking does on sentence shapes and values it was never fitted to.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

__all__ = ["CLASSES", "TEMPLATES", "generate", "SPLIT_DIR", "load"]

SPLIT_DIR = Path(__file__).resolve().parents[1] / "data" / "phi_untuned"
SEED = 20261202
PER_TEMPLATE = 14
LOCALES = ["en_US", "en_GB", "en_AU", "en_CA", "en_IN", "de_DE", "fr_FR", "pl_PL", "hu_HU", "es_ES", "it_IT",
           "nl_NL", "pt_BR"]
CLASSES = ("NAME", "PHONE", "STREET_ADDRESS", "POSTAL_CODE", "CITY", "EMAIL", "DATE")

#: Clinical sentences a consultation or a typed edit may contain.  {NAME_LOWER} is a name typed in
#: lower case; {NAME} at the start tests sentence-initial names; {ADDRESS_BLOCK} is a multi-line address.
TEMPLATES = [
    "{NAME} is a {AGE} year old seen today for a cough.",
    "Call {NAME} about the results.",
    "I spoke to {NAME} on the phone, she can be reached on {PHONE}.",
    "Her daughter's number is {PHONE} if we need her.",
    "Patient lives at {STREET_ADDRESS}, {CITY} {POSTAL_CODE}.",
    "Send the letter to {ADDRESS_BLOCK}",
    "He was admitted on {DATE} with chest pain.",
    "Follow-up booked for {DATE}.",
    "Email the discharge summary to {EMAIL}.",
    "please ring {NAME_LOWER} back tomorrow re bloods",
    "Moved here from {CITY} last year.",
    "Postcode {POSTAL_CODE}, no cue needed.",
    "Seen by {NAME} at the clinic on {DATE}, next review in six weeks.",
    "ok so I live on {STREET_ADDRESS} in {CITY}",
    "My mobile is {PHONE}, the landline is {PHONE2}.",
    "DOB {DATE}. Allergic to penicillin.",
    "Referral from {NAME}, contact {EMAIL} or {PHONE}.",
    "{NAME_LOWER} says the pain started on {DATE}",
    "Lives alone at {STREET_ADDRESS}; his son {NAME} visits daily.",
    "Pharmacy in {CITY}, {POSTAL_CODE}, will deliver the atorvastatin.",
    "The scan on {DATE} showed no carcinoma.",
    "Her sister in {CITY} can be reached at {PHONE}.",
    "Appointment at {DATE_TIME} with {NAME}.",
    "Next of kin: {NAME}, {STREET_ADDRESS}, {POSTAL_CODE} {CITY}, tel. {PHONE}.",
]


def _date(fake, rng: random.Random) -> str:
    d = fake.date_between(start_date="-90y", end_date="+1y")
    return rng.choice([d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), d.isoformat(), d.strftime("%d.%m.%Y"),
                       d.strftime("%-d %B %Y"), d.strftime("%B %-d, %Y"), d.strftime("%d-%m-%y"),
                       d.strftime("%-d %b")])


def _values(fake, rng: random.Random) -> dict[str, tuple[str, str]]:
    """placeholder -> (label, value) for one sentence."""
    name = fake.name()
    moment = fake.date_time_between(start_date="-1y", end_date="+1y")
    street = fake.street_address().replace("\n", ", ")
    city, postcode = fake.city(), fake.postcode()
    return {
        "NAME": ("NAME", name), "NAME_LOWER": ("NAME", name.lower()), "PHONE": ("PHONE", fake.phone_number()),
        "PHONE2": ("PHONE", fake.phone_number()), "STREET_ADDRESS": ("STREET_ADDRESS", street),
        "CITY": ("CITY", city), "POSTAL_CODE": ("POSTAL_CODE", postcode), "EMAIL": ("EMAIL", fake.email()),
        "DATE": ("DATE", _date(fake, rng)),
        "DATE_TIME": ("DATE", rng.choice([moment.strftime("%Y-%m-%dT%H:%M"), moment.strftime("%d/%m/%Y %H:%M")])),
        "AGE": ("", str(rng.randint(18, 95))),
    }


def _fill(template: str, values: dict[str, tuple[str, str]]) -> tuple[str, list[dict]]:
    text, spans, rest = "", [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        text += before
        if key == "ADDRESS_BLOCK":
            parts = [("STREET_ADDRESS", values["STREET_ADDRESS"][1]), ("", "\n"),
                     ("POSTAL_CODE", values["POSTAL_CODE"][1]), ("", " "), ("CITY", values["CITY"][1]), ("", ".")]
        else:
            parts = [values[key]]
        for label, value in parts:
            if label:
                spans.append({"start": len(text), "end": len(text) + len(value), "label": label, "value": value})
            text += value
    return text + rest, spans


def _classes_of(template: str) -> set[str]:
    keys = {k.partition("}")[0] for k in template.split("{")[1:]}
    mapping = {"NAME_LOWER": "NAME", "PHONE2": "PHONE", "DATE_TIME": "DATE", "AGE": None,
               "ADDRESS_BLOCK": "STREET_ADDRESS"}
    return {mapping.get(k, k) for k in keys} - {None}


def _split_templates(rng: random.Random) -> set[int]:
    """Template ids of the test half: shuffled, then each template goes to the half where its
    classes are rarer, so every class is in both halves (stratified, decided before any tuning)."""
    order = list(range(len(TEMPLATES)))
    rng.shuffle(order)
    count = {"tune": {c: 0 for c in CLASSES}, "test": {c: 0 for c in CLASSES}}
    size = {"tune": 0, "test": 0}
    test: set[int] = set()
    for tid in order:
        classes = _classes_of(TEMPLATES[tid])
        score = {h: (sum(count[h][c] for c in classes), size[h]) for h in ("tune", "test")}
        half = min(("test", "tune"), key=lambda h: score[h])
        for c in classes:
            count[half][c] += 1
        size[half] += 1
        if half == "test":
            test.add(tid)
    return test


def generate() -> dict[str, list[dict]]:
    """Both splits, deterministic for :data:`SEED` and the pinned Faker version."""
    from faker import Faker

    rng = random.Random(SEED)
    test_ids = _split_templates(rng)
    out: dict[str, list[dict]] = {"tune": [], "test": []}
    for tid, template in enumerate(TEMPLATES):
        split = "test" if tid in test_ids else "tune"
        for k in range(PER_TEMPLATE):
            locale = LOCALES[(tid + k) % len(LOCALES)]
            fake = Faker(locale)
            fake.seed_instance(SEED + 1000 * tid + k)
            text, spans = _fill(template, _values(fake, rng))
            out[split].append({"id": f"{split}/{tid}/{k}", "template_id": tid, "locale": locale, "text": text,
                               "spans": spans})
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(split: str) -> list[dict]:
    return [json.loads(line) for line in (SPLIT_DIR / f"{split}.jsonl").read_text().splitlines()]


def main(argv: list[str]) -> int:
    import faker

    command = argv[0] if argv else "verify"
    manifest_path = SPLIT_DIR / "MANIFEST.json"
    if command == "generate":
        if manifest_path.exists():
            print("already frozen: refusing to regenerate (delete the folder on purpose to start over)")
            return 1
        SPLIT_DIR.mkdir(parents=True, exist_ok=True)
        splits = generate()
        manifest = {"seed": SEED, "faker": faker.VERSION, "locales": LOCALES, "classes": list(CLASSES),
                    "templates": {s: sorted({r["template_id"] for r in rows}) for s, rows in splits.items()}}
        for split, rows in splits.items():
            path = SPLIT_DIR / f"{split}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            manifest[f"{split}_sha256"] = _digest(path)
            manifest[f"{split}_sentences"] = len(rows)
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(json.dumps({k: v for k, v in manifest.items() if k.endswith(("sha256", "sentences"))}))
        return 0
    manifest = json.loads(manifest_path.read_text())
    ok = _digest(SPLIT_DIR / "test.jsonl") == manifest["test_sha256"]
    print("test split frozen and intact" if ok else "test split CHANGED since it was frozen")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
