#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format
# (generated files excepted: Sources/OppsWire/Generated, Sources/OppsCore/DefaultWorkspace.swift).
# `Tools/format.sh --lint` reports what it would change instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(format -i)
[[ "${1:-}" == "--lint" ]] && mode=(lint)
git ls-files '*.swift' | grep -v -e '^Sources/OppsWire/Generated/' -e '^Sources/OppsCore/DefaultWorkspace.swift$' \
  | xargs swift format "${mode[@]}" --configuration .swift-format
