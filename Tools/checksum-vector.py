#!/usr/bin/env python3
"""Writes Protocol/vectors/checksum.json: merge-semantics.md §8 worked by hand, from the text alone.

A small state (a deal with fields of several kinds, an activity, and a deleted deal), every term
with the exact bytes it hashes, and the sum. Tests/OppsCoreTests/ChecksumVectorTests.swift reads
it in place and checks the Swift checksum term by term.

    python3 Tools/checksum-vector.py
"""
import json
import pathlib
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Protocol" / "vectors" / "checksum.json"

TAGS = {"text": 1, "integer": 2, "decimal": 3, "date": 4, "member": 5, "boolean": 6, "reference": 7, "timestamp": 8}


def canonical(value):
    """§1: the tag byte, then the UTF-8 canonical text; null is the single byte 00."""
    if value is None:
        return b"\x00"
    (kind, v), = value.items()
    text = {True: "true", False: "false"}[v] if kind == "boolean" else str(v)
    return bytes([TAGS[kind]]) + text.encode("utf-8")


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def term_bytes(record, number, value, hlc, replica):
    return (uuid.UUID(record).bytes + number.to_bytes(4, "big") + canonical(value)
            + hlc.to_bytes(8, "big") + uuid.UUID(replica).bytes)


SAM = "00000000-0000-0000-0000-000000000007"
EVE = "00000000-0000-0000-0000-000000000009"
HUB = "0190a1b2-0000-7000-8000-0000000000ff"
DEAL = "0190a1b2-c3d5-7a0b-9c1d-2e3f40516273"
ACTIVITY = "0190a1b2-c3d6-7a0b-9c1d-2e3f40516274"
GONE = "0190a1b2-c3d7-7a0b-9c1d-2e3f40516275"
HLC = 117_699_702_611_247_104  # 2026-11-29T… in the high 48 bits, counter 0

RECORDS = [
    {"id": DEAL, "entity": "opportunity",
     "created": {"value": {"member": "discovery"}, "hlc": HLC, "replica": SAM},
     "fields": [
         {"field": "name", "number": 1, "value": {"text": "北辰物流 续约"}, "hlc": HLC + 1, "replica": SAM},
         {"field": "amount", "number": 4, "value": {"decimal": "120000.00"}, "hlc": HLC + 2, "replica": SAM},
         {"field": "close_date", "number": 7, "value": {"date": "2027-03-31"}, "hlc": HLC + 3, "replica": SAM},
         {"field": "owner", "number": 9, "value": {"text": "sam"}, "hlc": HLC, "replica": SAM},
         {"field": "check_need", "number": 24, "value": {"boolean": True}, "hlc": HLC + 4, "replica": SAM},
         {"field": "probability", "number": 6, "value": {"integer": 40}, "hlc": HLC + 5, "replica": SAM},
         {"field": "stage_log", "number": 35, "value": {"text": "1795916628123 solution eve"}, "hlc": HLC + 65536, "replica": HUB},
     ]},
    {"id": ACTIVITY, "entity": "activity",
     "created": {"value": None, "hlc": HLC + 10, "replica": EVE},
     "fields": [
         {"field": "opportunity", "number": 1, "value": {"reference": DEAL}, "hlc": HLC + 11, "replica": EVE},
         {"field": "at", "number": 4, "value": {"timestamp": "2026-11-29T08:30:00.000Z"}, "hlc": HLC + 12, "replica": EVE},
     ]},
    {"id": GONE, "entity": "opportunity",
     "created": {"value": {"member": "discovery"}, "hlc": HLC + 20, "replica": SAM},
     "fields": [{"field": "name", "number": 1, "value": {"text": "duplicate"}, "hlc": HLC + 21, "replica": SAM}],
     "deleted": {"hlc": HLC + 22, "replica": SAM}},
]


def main():
    terms, total, live = [], 0, 0
    for r in RECORDS:
        if r.get("deleted"):
            continue  # a tombstone has no terms and is not counted (§8)
        live += 1
        states = [(0, "(creation)", r["created"])] + [(f["number"], f["field"], f) for f in r["fields"]]
        for number, name, s in states:
            data = term_bytes(r["id"], number, s["value"], s["hlc"], s["replica"])
            t = fnv1a(data)
            total = (total + t) & 0xFFFFFFFFFFFFFFFF
            terms.append({"record": r["id"], "field": name, "number": number, "bytes": data.hex(), "term": f"{t:016x}"})
    doc = {
        "description": "merge-semantics.md §8 by hand: each term is FNV-1a 64 of `bytes` (record id, field number as 4 "
                       "big-endian bytes, canonical value bytes, hlc as 8 big-endian bytes, replica id); the checksum is "
                       "their sum modulo 2^64; the deleted record counts nothing. Written by Tools/checksum-vector.py.",
        "records": RECORDS,
        "terms": terms,
        "records_counted": live,
        "checksum": str(total),
        "checksum_hex": f"{total:016x}",
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(terms)} terms, checksum {total:016x}")


if __name__ == "__main__":
    main()
