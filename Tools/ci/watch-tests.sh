#!/usr/bin/env bash
# Runs `swift test` with the arguments given (output as usual) and bounds it: past
# OPPS_TEST_LIMIT seconds (default 1800; the whole suite takes 2–4 minutes on CI), it says
# which tests were still running and where the test process's threads were, then stops it
# and exits 124. A hang then fails CI in half an hour with its place named, not at CI's
# ninety-minute limit with the output cut mid-line (the sixty-first session found one so:
# Foundation's Process hanging in the simulator's hub test). Exits with swift test's status.
set -uo pipefail
limit=${OPPS_TEST_LIMIT:-1800}
events=$(mktemp)
fired=$(mktemp)
trap 'rm -f "$events" "$fired"' EXIT

# The processes under `pid`, all the way down.
descendants() {
    local child
    for child in $(pgrep -P "$1"); do
        echo "$child"
        descendants "$child"
    done
}

swift test --experimental-event-stream-output "$events" --experimental-event-stream-version 0 "$@" &
runner=$!
(
    # A second at a time, so that it ends with the run (nothing is left to kill).
    for ((waited = 0; waited < limit; waited++)); do
        sleep 1
        kill -0 "$runner" 2>/dev/null || exit 0
    done
    echo fired > "$fired"
    echo "=== swift test has run for ${limit} s: stopping it. Tests still running (longest first):"
    python3 "$(dirname "$0")/in-flight.py" "$events" 40
    for pid in $(descendants "$runner"); do
        grep -q "PackageTests.xctest" "/proc/$pid/cmdline" 2>/dev/null || continue
        echo "=== where the test process $pid was (each thread's frames in this project's code; gdb):"
        if command -v gdb >/dev/null; then
            timeout 300 gdb -p "$pid" -batch -ex "thread apply all bt" 2>/dev/null |
                awk '/^Thread /{ header = $0; next } /^#[0-9]+ .*[Oo]pps/{ if (header != "") { print header; header = "" } print }' |
                cut -c1-240 | head -200
        fi
        kill -KILL "$pid" 2>/dev/null
    done
    kill "$runner" 2>/dev/null
) &
watchdog=$!
wait "$runner"
status=$?
wait "$watchdog"
# Stopped by the watchdog: its own code, whatever the runner said.
if [ -s "$fired" ]; then status=124; fi
exit $status
