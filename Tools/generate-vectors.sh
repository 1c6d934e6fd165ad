#!/usr/bin/env bash
# Recomputes the "hex" of every message vector in Protocol/vectors/messages.json from its
# "textproto" with protoc --encode, an encoder independent of ours. Run after changing a
# vector's textproto or the .proto; the tests then check our codec against the result.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
python3 - <<'PY'
import json, subprocess
path = "Protocol/vectors/messages.json"
doc = json.load(open(path))
for v in doc["vectors"]:
    out = subprocess.run(["protoc", "--encode=oppsync.v1." + v["type"], "-I", "Protocol", "Protocol/oppsync.proto"],
                         input=v["textproto"].encode(), capture_output=True, check=True).stdout
    v["hex"] = out.hex()
    if "batch_textproto" in v:
        # A push carrying its pull (sync-protocol.md §5.4): the batch without it, what idempotency compares.
        v["batch_hex"] = subprocess.run(["protoc", "--encode=oppsync.v1." + v["type"], "-I", "Protocol", "Protocol/oppsync.proto"],
                                        input=v["batch_textproto"].encode(), capture_output=True, check=True).stdout.hex()
open(path, "w").write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
print(f"re-encoded {len(doc['vectors'])} vectors")
PY
