"""Journal records framed with their length and a CRC-32, so one bad record is skipped, not everything after it.

A record is one line: ``<length hex> <crc32 hex> <json>\\n``.  JSON never holds a raw newline, so a
line is a record; a line whose length or checksum does not match (a torn write in the middle of a
file, a flipped bit) is skipped and counted, and the records after it still load.  A last line
without its newline is a write cut by a crash: it was never acknowledged and is cut off.  Lines
written before framing (plain JSON objects) are still read.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

__all__ = ["frame", "read_frames"]


def frame(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%x %08x " % (len(payload), zlib.crc32(payload)) + payload + b"\n"


def _parse(line: bytes) -> dict[str, Any] | None:
    if line.startswith(b"{"):  # a record written before framing
        return json.loads(line)
    size, crc, payload = line.split(b" ", 2)
    if int(size, 16) != len(payload) or int(crc, 16) != zlib.crc32(payload):
        return None
    return json.loads(payload)


def read_frames(raw: bytes) -> tuple[list[dict[str, Any]], int, int]:
    """``(records, length of the complete lines, bad records skipped)`` of a journal's bytes."""
    complete = raw.rfind(b"\n") + 1
    records, bad = [], 0
    for line in raw[:complete].split(b"\n")[:-1]:
        try:
            record = _parse(line)
        except (ValueError, UnicodeDecodeError):
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            bad += 1
    return records, complete, bad
