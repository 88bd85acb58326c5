"""Read the flywheel datasets with Ray Data in a fresh local Ray, as a data scientist would.

    python -m tests.integration.ray_data_read ROOT   -> JSON {dataset: {count, columns, feedback_ids}}

The integration tests run it in a subprocess: inside the test driver every CPU of the
2-core Ray cluster is reserved by Serve replicas, and Ray Data's read tasks need whole CPUs.
"""
from __future__ import annotations

import json
import sys
import tempfile


def main(root: str) -> None:
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             _temp_dir=tempfile.mkdtemp(prefix="raydata", dir="/tmp"))
    out = {}
    from flywheel.storage import Root
    from flywheel.writer import quarantine_root_for

    for name in ("feedback", "sft", "dpo", "quarantine"):
        base = quarantine_root_for(root) if name == "quarantine" else root
        if not Root(base).files(name):  # Ray Data refuses a directory with no files yet
            out[name] = {"count": 0, "columns": [], "feedback_ids": []}
            continue
        ds = ray.data.read_parquet(f"{base}/{name}")
        rows = ds.select_columns(["feedback_id"]).take_all() if ds.count() else []
        out[name] = {"count": ds.count(), "columns": ds.schema().names,
                     "feedback_ids": [r["feedback_id"] for r in rows]}
    ray.shutdown()
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
