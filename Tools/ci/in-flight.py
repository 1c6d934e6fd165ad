#!/usr/bin/env python3
"""The tests a Swift Testing event stream (version 0, JSON lines) shows started and not ended,
longest running first: what a run that hung was doing. Usage: in-flight.py EVENTS [MOST]

"Started" is when Swift Testing scheduled the test, which may be long before it ran: early in a
run every test is listed; after a hang, only what the hang holds up."""
import json
import sys

started = {}
last = 0.0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        continue  # a line cut short by the stop
    if event.get("kind") != "event":
        continue
    payload = event["payload"]
    kind, when = payload.get("kind"), payload.get("instant", {}).get("since1970", 0.0)
    last = max(last, when)
    case = payload.get("_testCase")
    key = (payload.get("testID"), json.dumps(case.get("id")) if case else None)
    if kind in ("testStarted", "testCaseStarted"):
        name = (case or {}).get("displayName")
        started[key] = (when, payload.get("testID", "?") + (f" [{name}]" if name else ""))
    elif kind in ("testEnded", "testCaseEnded", "testSkipped"):
        started.pop(key, None)
# A suite is "running" while any of its tests is; name the tests, not the suites.
tests = [(when, name) for (test, _), (when, name) in started.items() if test and "/" in test]
most = int(sys.argv[2]) if len(sys.argv) > 2 else len(tests)
for when, name in sorted(tests)[:most]:
    print(f"  {last - when:7.1f} s  {name}")
if len(tests) > most:
    print(f"  … and {len(tests) - most} more")
if not tests:
    print("  (none: every test had ended; the process itself had not)")
