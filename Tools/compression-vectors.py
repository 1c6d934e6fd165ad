#!/usr/bin/env python3
"""Writes Protocol/vectors/compression.json: bodies compressed by Python's zlib (an implementation
independent of the reference hub's and replica's libdeflate), in the forms sync-protocol.md §2.4
says a reader MUST take and the forms it MUST refuse. Deterministic: run it again and the file is
the same. Usage: python3 Tools/compression-vectors.py"""
import json, os, struct, zlib

root = os.path.join(os.path.dirname(__file__), "..")
messages = json.load(open(os.path.join(root, "Protocol/vectors/messages.json")))["vectors"]
# The body: every message vector's encoding, one after another, repeated to a few KiB (a
# compressible, page-like protobuf body; its bytes need not be one message to test a coding).
body = b"".join(bytes.fromhex(v["hex"]) for v in messages) * 4

def deflate(data, level=6, wbits=15, flush_at=None):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits)
    if flush_at is None:
        return c.compress(data) + c.flush()
    # Two parts: the first ended by a sync flush (an empty stored block, byte-aligned), as a
    # compressor working in parts writes them.
    return c.compress(data[:flush_at]) + c.flush(zlib.Z_SYNC_FLUSH) + c.compress(data[flush_at:]) + c.flush()

def case(name, coding, packed, expect, note, limit=None):
    v = {"name": name, "coding": coding, "note": note, "hex": packed.hex(), "expect": expect}
    if limit is not None:
        v["limit"] = limit
    return v

z = deflate(body)
g = deflate(body, wbits=31)
bad_adler = bytearray(z); bad_adler[-1] ^= 0x01
bad_crc = bytearray(g); bad_crc[-5] ^= 0x01
zeros = bytes(1 << 20)
bomb = deflate(zeros, 9)
vectors = [
    case("deflate level 6", "deflate", z, "body", "the zlib format (RFC 1950): header, data, Adler-32"),
    case("deflate level 1", "deflate", deflate(body, 1), "body", "any level: the reader never needs to know which"),
    case("deflate level 9", "deflate", deflate(body, 9), "body", ""),
    case("deflate level 0", "deflate", deflate(body, 0), "body", "stored blocks only"),
    case("deflate in two parts", "deflate", deflate(body, 1, flush_at=len(body) // 2), "body",
         "a sync flush in the middle (an empty stored block): still one stream"),
    case("deflate of nothing", "deflate", deflate(b""), "empty", "an empty body compressed"),
    case("gzip", "gzip", g, "body", "the gzip format (RFC 1952): one member, CRC-32 and size"),
    case("deflate with a byte after the end", "deflate", z + b"\x00", "malformed-body", "exactly one stream"),
    case("gzip with a second member", "gzip", g + g, "malformed-body", "one member only"),
    case("deflate cut short", "deflate", z[: len(z) // 2], "malformed-body", ""),
    case("deflate with a wrong Adler-32", "deflate", bytes(bad_adler), "malformed-body", "the checksum is checked"),
    case("gzip with a wrong CRC-32", "gzip", bytes(bad_crc), "malformed-body", ""),
    case("raw deflate sent as deflate", "deflate", deflate(body, wbits=-15), "malformed-body",
         "deflate means the zlib wrapper (RFC 9110), not a bare deflate stream"),
    case("not compressed", "deflate", body[:64], "malformed-body", ""),
    case("inflates to exactly the limit", "deflate", bomb, "zeros", "1 MiB of zeros", limit=len(zeros)),
    case("inflates beyond the limit", "deflate", bomb, "decompressed-too-large", "one byte over: refused, not truncated",
         limit=len(zeros) - 1),
]
doc = {
    "description": "Compressed bodies (sync-protocol.md §2.4), made by Python's zlib "
                   "(Tools/compression-vectors.py), independent of the reference implementation's compressor. "
                   "`expect`: `body` (inflates to `body`), `empty`, `zeros` (to `limit` zero bytes), or the error code "
                   "a reader answers with (a hub: that status; a client: a failed exchange). `limit`: the reader's "
                   "decompressed-size limit for the case (default: far above the body).",
    "body": body.hex(),
    "vectors": vectors,
}
path = os.path.join(root, "Protocol/vectors/compression.json")
open(path, "w").write(json.dumps(doc, indent=1) + "\n")
print(f"wrote {len(vectors)} vectors, body {len(body)} bytes")
