#!/usr/bin/env bash
# Regenerates Sources/OppsWire/Generated/oppsync.pb.swift from Protocol/oppsync.proto.
# Needs protoc (Debian: protobuf-compiler); protoc-gen-swift is built from the swift-protobuf
# dependency Package.swift names, so generator and runtime are the same version. The output is
# committed; the normal build never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-}"
if [[ -z "$plugin" ]]; then
    # The plugin from the swift-protobuf this package already depends on (same version, no clone).
    swift build -c release --product protoc-gen-swift
    plugin=".build/release/protoc-gen-swift"
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
mkdir -p Sources/OppsWire/Generated
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_out=Sources/OppsWire/Generated \
    --swift_opt=Visibility=Public \
    -I Protocol Protocol/oppsync.proto
echo "generated Sources/OppsWire/Generated/oppsync.pb.swift"
