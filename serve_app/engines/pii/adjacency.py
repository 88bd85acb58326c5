"""Grow address detections into the postcode and town written next to them.

A postcode is a bare number ("94528", "34-156", "110 001") and a town an ordinary capitalised
word; alone neither is recognisable, but written beside a street address, a town or another
postcode ("..., Hamel 94528", "20237 Gransee") they are part of the address.  Spans found by
the analyzer are extended to their neighbours until nothing more is added.
"""
from __future__ import annotations

import re

__all__ = ["extend_addresses"]

_PLACE_TYPES = {"STREET_ADDRESS", "LOCATION", "ZIP_CODE"}
_POSTAL = r"(?:[A-Z]{1,2}-?)?\d{2,6}(?:[\s-]\d{3,4})?(?:\s?[A-Z]{2}(?![a-z]))?"
_TOWN = r"[A-ZÀ-ÖØ-Ý][\wÀ-ÖØ-öø-ÿ'’.-]*(?:[ -][A-ZÀ-ÖØ-Ý][\wÀ-ÖØ-öø-ÿ'’.-]*){0,2}"
_SEP = r"[,\s]{1,3}(?:\n\s*)?"
_RIGHT_POSTAL = re.compile(rf"{_SEP}({_POSTAL})(?![\w/]|[.,]\d)")
_HOUSE_NUMBER = re.compile(r"(?<![\w/.,-])(\d{1,5}(?:\s?[-/]\s?\d{1,5})?[A-Za-z]?),?\s+$")
_RIGHT_TOWN = re.compile(rf"{_SEP}({_TOWN})")
_LEFT_POSTAL = re.compile(rf"(?<![\w/.,-])({_POSTAL}){_SEP}$")


def extend_addresses(text: str, spans: list[tuple[int, int, str]], keep_word) -> list[tuple[int, int, str]]:
    """``spans`` (start, end, type), sorted and non-overlapping, plus the postcodes and towns
    adjacent to an address-like span; ``keep_word(word)`` is true for words never masked
    (clinical terms), which stop a town."""
    found = list(spans)
    for i in range(1, len(found)):  # a "name" written right after an address part is its town
        (_, prev_end, prev_type), (start, end, entity) = found[i - 1], found[i]
        if entity == "PERSON" and prev_type in _PLACE_TYPES and re.fullmatch(r"[,\s]{1,3}", text[prev_end:start]):
            found[i] = (start, end, "LOCATION")
    found = _join_street_names(text, found)
    for _ in range(4):
        taken = [(s, e) for s, e, _ in found]
        added = [span for start, end, entity in found for span in _neighbours(text, start, end, entity, keep_word)
                 if not any(span[0] < te and span[1] > ts for ts, te in taken)]
        if not added:
            break
        found = sorted(set(found + added))
    return found


def _neighbours(text: str, start: int, end: int, entity: str, keep_word) -> list[tuple[int, int, str]]:
    """The postcode or town written right after an address-like span, and a postcode right before a town."""
    if entity not in _PLACE_TYPES:
        return []
    out = []
    rest = text[end:end + 60]
    if m := _RIGHT_POSTAL.match(rest):
        out.append((end + m.start(1), end + m.end(1), "ZIP_CODE"))
    elif entity != "LOCATION" and (m := _RIGHT_TOWN.match(rest)) and "\n" not in m.group(0)[:m.start(1)] \
            and not any(keep_word(w) for w in re.findall(r"\w+", m.group(1))):
        out.append((end + m.start(1), end + m.end(1), "LOCATION"))
    head = text[max(0, start - 20):start]
    if entity == "LOCATION" and (m := _LEFT_POSTAL.search(head)):
        begin = start - len(head) + m.start(1)
        out.append((begin, begin + len(m.group(1)), "ZIP_CODE"))
    return out


def _join_street_names(text: str, found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """"3181 [Goodwin] [Lane]": a name span right before a street address is the street's name, and
    a house number right before that belongs to it too."""
    out: list[tuple[int, int, str]] = []
    for start, end, entity in found:
        if entity == "STREET_ADDRESS" and out and out[-1][2] in ("PERSON", "LOCATION") \
                and text[out[-1][1]:start].strip(" ") == "":
            start = out.pop()[0]
        if entity == "STREET_ADDRESS" and (m := _HOUSE_NUMBER.search(text[max(0, start - 16):start])):
            number_start = start - len(text[max(0, start - 16):start]) + m.start(1)
            if not out or out[-1][1] <= number_start:
                start = number_start
        out.append((start, end, entity))
    return out
