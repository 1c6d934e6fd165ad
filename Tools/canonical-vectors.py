#!/usr/bin/env python3
"""Writes Protocol/vectors/canonical.json: merge-semantics.md §1's canonical text of every kind,
from the value's wire form (oppsync.proto `Value`), worked from the text alone.

The checksum (§8) hashes the canonical bytes; checksum.json gives values already as text, so
these vectors pin the step before it — days, milliseconds, units and scale, 16 id bytes to text —
at the ends of each kind's range (§1.1) and where signs, zeros and padding matter.
Tests/OppsCoreTests/CanonicalVectorTests.swift reads it in place.

    python3 Tools/canonical-vectors.py
"""
import datetime
import json
import pathlib
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Protocol" / "vectors" / "canonical.json"
TAGS = {"text": 1, "integer": 2, "decimal": 3, "date": 4, "member": 5, "boolean": 6, "reference": 7, "timestamp": 8}
EPOCH = datetime.datetime(1970, 1, 1)


def decimal_text(units, scale):
    """`-?D+(.D+)?`: no leading zeros before the point (`0` below one), exactly `scale` after it."""
    sign = "-" if units < 0 else ""
    digits = str(abs(units))
    if scale == 0:
        return sign + digits
    digits = digits.rjust(scale + 1, "0")
    return sign + digits[:-scale] + "." + digits[-scale:]


def date_text(days):
    d = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def timestamp_text(ms):
    t = EPOCH + datetime.timedelta(milliseconds=ms)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond // 1000:03d}Z"


def case(kind, wire, text):
    return {"kind": kind, "wire": wire, "text": text, "bytes": (bytes([TAGS[kind]]) + text.encode("utf-8")).hex()}


cases = []
for i in [0, 7, -42, 10, -10, 999_999_999_999_999_999, 2**63 - 1, -(2**63)]:
    cases.append(case("integer", {"integer": i}, str(i)))
for units, scale in [(0, 0), (0, 2), (5, 2), (-5, 2), (1_200_000, 2), (-1_200_000, 2), (7, 0), (-7, 0), (100, 2),
                     (1, 18), (-1, 18), (999_999_999_999_999_999, 18), (-999_999_999_999_999_999, 0), (123_456_789, 3)]:
    cases.append(case("decimal", {"units": units, "scale": scale}, decimal_text(units, scale)))
first_day = (datetime.date(1, 1, 1) - datetime.date(1970, 1, 1)).days
last_day = (datetime.date(9999, 12, 31) - datetime.date(1970, 1, 1)).days
for days in [0, -1, 1, 20_500, 11_016, 10_957, -25_567, first_day, last_day, 59, 789]:
    cases.append(case("date", {"date": days}, date_text(days)))
first_ms = first_day * 86_400_000
last_ms = (last_day + 1) * 86_400_000 - 1
for ms in [0, -1, 1, 999, 1_795_000_123_456, -86_400_000, -86_400_001, 86_399_999, first_ms, last_ms, 951_782_400_000]:
    cases.append(case("timestamp", {"timestamp": ms}, timestamp_text(ms)))
for raw in ["00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff", "0190a1b2c3d57a0b9c1d2e3f40516273",
            "0000000000000000000000000000000a", "a0000000000000000000000000000000"]:
    cases.append(case("reference", {"reference": raw}, str(uuid.UUID(hex=raw))))
for b in [True, False]:
    cases.append(case("boolean", {"boolean": b}, "true" if b else "false"))
cases.append(case("text", {"text": "北辰物流 续约"}, "北辰物流 续约"))
cases.append(case("member", {"member": "谈判"}, "谈判"))

doc = {
    "description": "merge-semantics.md §1: each value's canonical text and canonical bytes (tag byte, then the UTF-8 text) "
                   "from its wire form: integer (sint64), decimal (units, scale), date (days since 1970-01-01), timestamp "
                   "(ms since the epoch, UTC), reference (16 bytes, hex here). Null is the single byte 00. "
                   "Written by Tools/canonical-vectors.py.",
    "cases": cases,
}
OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")
