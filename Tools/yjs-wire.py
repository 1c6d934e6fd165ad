#!/usr/bin/env python3
"""What a CRDT document sync (Yjs, through pycrdt) sends for the wire benchmark's batch, for
comparison with OppSync's push (opps-bench --only wire runs this when pycrdt is importable).

The same shape as the benchmark's batch: a document of 200 deals (one Y.Map each, 11 fields of
about 1 KB in all) made by one client and synced to a second; the second then makes 200 field
changes, one per deal, in the benchmark's rotation (amount, next_step, next_step_due, stage),
and the update it sends is measured against the first client's state vector, raw and deflated
(zlib level 6, as our bodies). Then one more change alone, after 20 more rounds of such edits on
the same deals (Yjs keeps a delete set for every overwritten value). Yjs carries less than our
writes: no author, no base version, no authority.

    pip install pycrdt && python3 Tools/yjs-wire.py      # prints one JSON line
"""
import json
import random
import zlib

from pycrdt import Doc, Map

N = 200


def deal(i):
    return {
        "name": f"Opportunity {i} — multi-site CRM rollout",
        "amount": (i * 1234 % 90_000_000) / 100,
        "currency": "CNY",
        "probability": i % 100,
        "close_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "next_step": "Prepare the technical workshop with the customer's IT team and confirm the budget owner",
        "stage": "discovery",
        "owner": "sam",
        "account": f"Account {i % 50}",
        "description": "Replace three regional CRMs with one system; rollout in two phases, pilot in the north region first. " * 4,
        "next_step_due": "2026-12-01",
    }


def change(i, rng):
    k = i % 4
    if k == 0:
        return "amount", rng.randrange(100_000_000) / 100
    if k == 1:
        return "next_step", "call the CFO about the quote"
    if k == 2:
        return "next_step_due", f"2026-{1 + (i % 60) // 28:02d}-{1 + i % 28:02d}"
    return "stage", "proposal"


def main():
    rng = random.Random(7)
    a = Doc(client_id=1)
    deals = a.get("deals", type=Map)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(N)]
    with a.transaction():
        for i, rid in enumerate(ids):
            deals[rid] = Map(deal(i))
    b = Doc(client_id=2)
    b.apply_update(a.get_update())
    b_deals = b.get("deals", type=Map)

    before = a.get_state()
    with b.transaction():
        for i, rid in enumerate(ids):
            field, value = change(i, rng)
            b_deals[rid][field] = value
    batch = b.get_update(before)
    a.apply_update(batch)

    for r in range(20):
        for i, rid in enumerate(ids):
            field, value = change(i + r, rng)
            b_deals[rid][field] = value
    a.apply_update(b.get_update(a.get_state()))
    before = a.get_state()
    b_deals[ids[0]]["next_step"] = "send the revised quote"
    lone = b.get_update(before)

    print(json.dumps({
        "batch_raw_per_change": len(batch) / N,
        "batch_deflated_per_change": len(zlib.compress(batch, 6)) / N,
        "lone_raw": len(lone),
        "lone_deflated": len(zlib.compress(lone, 6)),
    }))


if __name__ == "__main__":
    main()
