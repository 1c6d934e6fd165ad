#!/usr/bin/env bash
# Scale curves (issue 20 item 3): how each cost grows with the work. Runs opps-bench at several
# sizes, appends every figure (and its raw floor) to docs/scale.csv, and plots it into
# docs/scale-deals.png and docs/scale-replicas.png with gnuplot (apt-get install gnuplot-nox).
#
#   Tools/scale-curves.sh              measure (about 30 minutes on two cores), then plot
#   Tools/scale-curves.sh --plot-only  plot docs/scale.csv again
#   SIZES="10000 100000" REPLICAS="100,1000" Tools/scale-curves.sh   other sizes
#   COLD_RUNS=5 Tools/scale-curves.sh    cold syncs a size (the median is plotted; default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
csv=docs/scale.csv
sizes=${SIZES:-"10000 100000 500000 1000000"}
replicas=${REPLICAS:-"100,1000,3000"}

if [ "${1:-}" != "--plot-only" ]; then
    for p in opps-bench opps opps-hub; do swift build -c release --product "$p" >/dev/null; done
    # Measured into a scratch file, moved over docs/scale.csv only when every run succeeded.
    partial=$(mktemp "${TMPDIR:-/tmp}/scale.XXXXXX.csv")
    rm -f "$partial"
    trap 'rm -f "$partial"' EXIT
    for n in $sizes; do
        echo "== $n deals" >&2
        .build/release/opps-bench --only cold --cold "$n" --cold-runs "${COLD_RUNS:-3}" --csv "$partial"
        .build/release/opps-bench --only roundtrip --round-trip "$n" --csv "$partial"
    done
    echo "== $replicas replicas" >&2
    .build/release/opps-bench --only concurrent --concurrent "$replicas" --csv "$partial"
    mv "$partial" "$csv"
fi

command -v gnuplot >/dev/null || { echo "scale-curves: gnuplot is missing: apt-get install gnuplot-nox" >&2; exit 1; }
series() { echo "< grep '^$1,' $csv"; }
gnuplot <<PLOT
set datafile separator ","
set terminal pngcairo size 1100,460 font "DejaVu Sans,10"
set key left top Left reverse
set grid
set logscale x
set format x "%.0s%c"

set output "docs/scale-deals.png"
set multiplot layout 1,2 title "OppSync by the size of the replica (release build, 2 cores; raw = the floor measured in the same run)"
set title "cold sync: opps init of N deals"
set xlabel "deals"
set ylabel "seconds"
set logscale y
plot "$(series cold_s)" using 2:3 with linespoints lw 2 pt 7 title "cold sync", \
     "$(series cold_s)" using 2:4 with linespoints lw 2 pt 5 dt 2 title "raw: the same rows inserted in one transaction", \
     "$(series cold_replica_floor_s)" using 2:4 with linespoints lw 2 pt 9 dt 3 title "the same through the replica's table, indexes built after"
set title "one changed field: push + pull (median of 60)"
set ylabel "milliseconds"
plot "$(series roundtrip_ms)" using 2:3 with linespoints lw 2 pt 7 title "round trip", \
     "$(series roundtrip_ms)" using 2:4 with linespoints lw 2 pt 5 dt 2 title "raw: one fsynced row update + one loopback exchange"
unset multiplot

set output "docs/scale-replicas.png"
set xrange [70:4500]
set multiplot layout 1,2 title "OppSync by the number of replicas online, each syncing every 10 s on average (one hub, SQLite)"
set title "sync latency (edit + push + pull; a handshake only when one is needed)"
set xlabel "replicas"
set ylabel "milliseconds"
plot "$(series steady_p50_ms)" using 2:3 with linespoints lw 2 pt 7 title "p50", \
     "$(series steady_p99_ms)" using 2:3 with linespoints lw 2 pt 5 title "p99"
set title "hub CPU per sync"
unset logscale y
set yrange [0:3]
set key right top Right noreverse font ",9"
plot "$(series steady_hub_cpu_ms)" using 2:3 with linespoints lw 2 pt 7 title "opps-hub serve", \
     "$(series steady_floor_durable_ms)" using 2:3 with linespoints lw 2 pt 9 dt 3 title "floor: one exchange paced as theirs, after one fsynced row update", \
     "$(series steady_hub_cpu_ms)" using 2:4 with linespoints lw 2 pt 5 dt 2 title "raw: a no-op Hummingbird process, as many exchanges"
unset multiplot
PLOT
echo "scale-curves: docs/scale-deals.png, docs/scale-replicas.png (from $csv)" >&2
