"""The docs a newcomer reads first stay true: the event table, the quick start's files, the README's size."""
from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_event_table_in_docs_is_the_catalogue():
    table = runpy.run_path(str(ROOT / "scripts" / "event_catalogue.py"))["catalogue_table"]()
    assert table in (ROOT / "docs" / "api.md").read_text()


def test_every_file_and_doc_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text()
    for path in set(re.findall(r"@(docs/[\w./-]+)", readme)) | set(re.findall(r"\]\((docs/[\w./-]+)\)", readme)):
        if not path.endswith("-"):  # chunk-$seq.flac
            assert (ROOT / path).exists(), path
    assert all((ROOT / "docs" / "quickstart" / f"chunk-{k}.flac").exists() for k in range(5))
    for script in ("scripts/show_session.py", "scripts/quickstart.sh"):
        assert script in readme and (ROOT / script).exists()


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().encode()) < 8000


def test_the_readme_names_every_event_type():
    from serve_app.contracts import EVENT_DATA

    readme = (ROOT / "README.md").read_text()
    assert [kind for kind in EVENT_DATA if f"`{kind}`" not in readme] == []
