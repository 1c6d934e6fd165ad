#!/usr/bin/env bash
# Regenerates Sources/OppsWire/Generated/oppsync.pb.swift from Protocol/oppsync.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from the same
# swift-protobuf version Package.swift names (1.39.0). The output is committed; the normal
# build never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-}"
if [[ -z "$plugin" ]]; then
    scratch=".build-protoc-gen-swift"
    if [[ ! -x "$scratch/src/.build/release/protoc-gen-swift" ]]; then
        rm -rf "$scratch/src"
        mkdir -p "$scratch"
        git clone -q https://github.com/apple/swift-protobuf "$scratch/src"
        git -C "$scratch/src" checkout -q 1.39.0
        (cd "$scratch/src" && swift build -c release --product protoc-gen-swift)
    fi
    plugin="$scratch/src/.build/release/protoc-gen-swift"
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
mkdir -p Sources/OppsWire/Generated
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_out=Sources/OppsWire/Generated \
    --swift_opt=Visibility=Public \
    -I Protocol Protocol/oppsync.proto
echo "generated Sources/OppsWire/Generated/oppsync.pb.swift"
