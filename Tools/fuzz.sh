#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder a user's bytes reach (Tools/Fuzzing/Fuzzing.swift),
# with libFuzzer and AddressSanitizer from the Swift toolchain.
#   Tools/fuzz.sh [SECONDS]   (default 60; CI runs a short one)
# Builds opps-fuzz in its own scratch path (.build-fuzz), so the normal build is not rebuilt
# with sanitizers. Findings are written to .build-fuzz/findings/; add each as a seed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: Tools/fuzz.sh [SECONDS]   (a whole number of seconds above 0; default 60)" >&2
    exit 64
fi
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
start=$(date +%s)
OPPS_FUZZ=1 swift build --scratch-path .build-fuzz --product opps-fuzz \
    -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol" | tail -3
echo "fuzz build: $(( $(date +%s) - start )) s"
bin=$(OPPS_FUZZ=1 swift build --scratch-path .build-fuzz --product opps-fuzz --show-bin-path \
    -Xswiftc -sanitize=fuzzer,address)/opps-fuzz
corpus=.build-fuzz/corpus
mkdir -p "$corpus" .build-fuzz/findings
# Swift's own crash handler would read the stack ASan guards: let libFuzzer and ASan report.
SWIFT_BACKTRACE=enable=no OPPS_FUZZ_SEEDS="$corpus" "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=.build-fuzz/findings/ \
    -max_len=65536 -rss_limit_mb=4096 "$corpus" > .build-fuzz/last-run.log 2>&1 || { tail -40 .build-fuzz/last-run.log; exit 1; }
grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added" .build-fuzz/last-run.log
echo "corpus: $(ls "$corpus" | wc -l) inputs; findings: $(ls .build-fuzz/findings | wc -l)"
