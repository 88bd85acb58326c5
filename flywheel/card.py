"""The dataset card written next to the data (``<root>/README.md``)."""
from __future__ import annotations

from flywheel.records import FlywheelRules
from flywheel.schemas import DATASETS, SCHEMA_VERSION
from flywheel.storage import Root

__all__ = ["card_text", "write_card"]


def _fields(name: str) -> str:
    return "\n".join(f"| `{f.name}` | `{f.type}` |" for f in DATASETS[name])


def card_text(rules: FlywheelRules) -> str:
    sections = "\n\n".join(f"### `{name}/`\n\n| field | type |\n|---|---|\n{_fields(name)}" for name in DATASETS)
    return f"""# Clinical scribe feedback datasets (schema version {SCHEMA_VERSION})

Clinician feedback on SOAP notes written by the clinical scribe, as Parquet, partitioned by
`date=YYYY-MM-DD` (UTC day the feedback was received).

```python
import ray
sft = ray.data.read_parquet("<this directory>/sft")        # chat `messages` (system, user, assistant)
dpo = ray.data.read_parquet("<this directory>/dpo")        # `prompt`, `chosen`, `rejected`
raw = ray.data.read_parquet("<this directory>/feedback")   # every accept / edit / reject
```

`flywheel stats`, `flywheel export sft|dpo|feedback --out FILE.jsonl` and `flywheel compact` work on
this directory (`--root`).

## How rows are made

* **accept**: one `sft` row, masked transcript -> the generated note.
* **edit**: one `sft` row, masked transcript -> the clinician's note; plus one `dpo` row (chosen =
  edited, rejected = generated) when the edit is substantive: RapidFuzz normalised Indel similarity
  of the rendered notes below `{rules.dpo_max_similarity}` (`flywheel.dpo_max_similarity`).
* **reject**: the `feedback` row only: the generated note kept as a rejected example, with the reason.
* Every row records the note version judged (`note_version`), the model id, the prompt version (a
  hash of the prompt files) and the configuration in force.

## Privacy

Only masked text enters: PHI is replaced by session-consistent placeholders (`[PERSON_1]`), and a
clinician's edited note is masked with the session's own placeholder map and the PII engine before
the feedback is acknowledged. The writer scans every row again with two different detectors (the
masking engine and philter-lite's rules); a row where anything is still found goes to the quarantine,
a separate root (`<root>-quarantine` unless configured) with the finding redacted to its type (never
into `sft/` or `dpo/`), is counted by `flywheel stats`, and is purged after the review window.
Clinicians and sessions appear only as keyed pseudonyms (HMAC-SHA256). Deleting a session (consent
withdrawn) removes its rows here too (every file holding them is rewritten atomically, older
snapshots included), because masking is never perfect.

## Guarantees

A feedback is acknowledged (201) only once it is durable; every acknowledged feedback appears exactly
once, even if the writer is killed (a spool, a publication manifest and deterministic file names
repair any cut). Files appear complete or not at all. `flywheel compact` swaps a dataset to its
merged files in one atomic step.

## Schemas

{sections}

Transcripts come from clinical conversations recorded through this service; the evaluation data of
the project (PriMock57, ACI-Bench, MTS-Dialog) is never written here.
"""


def write_card(root: Root, rules: FlywheelRules) -> None:
    root.write_bytes("README.md", card_text(rules).encode())
