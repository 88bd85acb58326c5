"""Print the event catalogue (serve_app.contracts.EVENT_DATA) as a Markdown table.

    python scripts/event_catalogue.py

docs/api.md carries this table; a unit test fails when they differ.
"""
from __future__ import annotations

from pydantic import TypeAdapter

from serve_app.contracts import EVENT_DATA


def _fields(model: type) -> str:
    """The data fields, optional ones marked ``?`` (pydantic reads ``NotRequired``)."""
    schema = TypeAdapter(model).json_schema()
    required = set(schema.get("required", []))
    names = [name if name in required else f"{name}?" for name in schema.get("properties", {})]
    return ", ".join(f"`{n}`" for n in names) or "—"


def catalogue_table() -> str:
    rows = ["| event | sent when | `data` fields |", "|---|---|---|"]
    rows += [f"| `{kind}` | {description} | {_fields(model)} |" for kind, (model, description) in EVENT_DATA.items()]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(catalogue_table(), end="")
