#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks: loopback only, a free port, a
# generated password (SCRAM), fsync on, run as an unprivileged user (PostgreSQL refuses root).
#
#   Tools/pg/cluster.sh start DIR   creates and starts it; prints the URL (postgres://…)
#   Tools/pg/cluster.sh stop DIR    stops it (fast shutdown)
#   Tools/pg/cluster.sh kill DIR    stops it as a crash would (-m immediate)
#   Tools/pg/cluster.sh restart DIR starts it again after a stop or kill
#
# The tests' PostgreSQL backend runs when OPPS_TEST_PG holds that URL:
#   export OPPS_TEST_PG=$(Tools/pg/cluster.sh start /tmp/opps-pg) && swift test
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop|kill|restart DIR" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bin/initdb" ]] || { echo "PostgreSQL is not installed (apt-get install postgresql-15)" >&2; exit 1; }

# Who runs the server: the caller, unless that is root (then Debian's postgres user).
as() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
start)
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && chown postgres: "$dir"
    password=$(openssl rand -hex 16)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    umask 077
    printf '%s\n' "$password" > "$dir/.pw"
    [[ $(id -u) == 0 ]] && chown postgres: "$dir/.pw"
    as "$bin/initdb" -D "$dir/data" -U opps --auth=scram-sha-256 --pwfile="$dir/.pw" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/.pw"
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 128MB
# A hub that vanished mid-transaction must not hold the sequencer (SCALE-OUT.md §3).
idle_in_transaction_session_timeout = '60s'
# After a crash, sync the data directory with one syncfs() rather than an fsync per file: with the
# hundreds of databases tests make, per-file syncing kept the cluster in recovery for minutes.
recovery_init_sync_method = syncfs
tcp_keepalives_idle = 10
tcp_keepalives_interval = 5
tcp_keepalives_count = 3
CONF
    as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    PGPASSWORD=$password as "$bin/createdb" -h 127.0.0.1 -p "$port" -U opps opps
    printf 'postgres://opps:%s@127.0.0.1:%s/opps\n' "$password" "$port" | tee "$dir/url"
    ;;
stop) as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
kill) as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
restart) as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ;;
*) echo "usage: $0 start|stop|kill|restart DIR" >&2; exit 2 ;;
esac
