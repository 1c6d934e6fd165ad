#!/usr/bin/env bash
# Starts the demo hub (same as `swift run opps-hub demo`); extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift run opps-hub demo "$@"
