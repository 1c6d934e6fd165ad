#!/usr/bin/env python3
"""Regenerates the `components: schemas:` of Protocol/openapi.yaml from Protocol/oppsync.proto.

Every message becomes the JSON Schema of its canonical proto3 JSON form: lowerCamelCase names,
64-bit integers as decimal strings, bytes as base64 strings, enums by name, a oneof as properties
of which at most one is present, default values left out (so nothing is required but ErrorBody's
code). ErrorBody.code gets the codes of Protocol/spec/errors.md as an enum. Comments on a field
become its description. Everything before `  schemas:` is kept as written. Run after changing the
.proto; Tests/OppsHubTests/OpenAPITests.swift checks live responses against the result.

    python3 Tools/generate-openapi-schemas.py
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO = ROOT / "Protocol" / "oppsync.proto"
OPENAPI = ROOT / "Protocol" / "openapi.yaml"
ERRORS = ROOT / "Protocol" / "spec" / "errors.md"

INT64 = {"uint64", "int64", "sint64", "fixed64", "sfixed64"}
INT32 = {"uint32", "int32", "sint32", "fixed32", "sfixed32"}


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def parse(text):
    """Messages (fields with type, repeated, oneof, comment) and enums (value names), in order."""
    messages, enums, order = {}, {}, []
    stack = []
    for raw in text.splitlines():
        code, _, comment = raw.partition("//")
        line = code.strip()
        if not line:
            continue
        m = re.match(r"(message|enum) (\w+) \{", line)
        if m:
            kind, name = m.groups()
            stack.append((kind, name, None))
            if kind == "message":
                messages[name] = []
                order.append(name)
            else:
                enums[name] = []
            continue
        m = re.match(r"oneof (\w+) \{", line)
        if m:
            kind, name, _ = stack[-1]
            stack.append(("oneof", m.group(1), name))
            continue
        if line == "}":
            stack.pop()
            continue
        if not stack:
            continue  # syntax, package, options
        kind, name, parent = stack[-1]
        if kind == "enum":
            m = re.match(r"(\w+) = \d+;", line)
            if m:
                enums[name].append(m.group(1))
            continue
        m = re.match(r"(repeated )?(\w+) (\w+) = \d+;", line)
        if m:
            message = parent if kind == "oneof" else name
            messages[message].append({"repeated": bool(m.group(1)), "type": m.group(2), "name": m.group(3),
                                      "oneof": name if kind == "oneof" else None, "comment": comment.strip()})
    return messages, enums, order


def error_codes():
    return re.findall(r"^\| `([a-z-]+)` \| \d{3} \|", ERRORS.read_text(), re.M)


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def schema_lines(field, enums, indent):
    pad = " " * indent
    t = field["type"]
    if t in INT64:
        out = [f"{pad}type: string", f"{pad}pattern: {quote('^-?[0-9]+$')}", f"{pad}description: {quote(t + ', as a decimal string (proto3 JSON)' + (': ' + field['comment'] if field['comment'] else ''))}"]
        return out
    if t in INT32:
        out = [f"{pad}type: integer"]
    elif t == "bool":
        out = [f"{pad}type: boolean"]
    elif t == "string":
        out = [f"{pad}type: string"]
    elif t == "bytes":
        out = [f"{pad}type: string", f"{pad}format: byte"]
    elif t in enums:
        out = [f"{pad}type: string", f"{pad}enum:"] + [f"{pad}  - {v}" for v in enums[t]]
    else:
        return [f"{pad}$ref: '#/components/schemas/{t}'"]
    if field["comment"]:
        out.append(f"{pad}description: {quote(field['comment'])}")
    return out


def generate():
    messages, enums, order = parse(PROTO.read_text())
    lines = ["  schemas:"]
    for name in order:
        fields = messages[name]
        lines += [f"    {name}:", "      type: object", f"      description: {quote('oppsync.v1.' + name + ' (oppsync.proto), canonical proto3 JSON.')}"]
        oneofs = sorted({f["oneof"] for f in fields if f["oneof"]})
        if oneofs:
            lines.append("      maxProperties: 1" if len(oneofs) == 1 and all(f["oneof"] for f in fields) else "      # oneof: at most one of its members")
        if name == "ErrorBody":
            lines += ["      required:", "        - code"]
        lines += ["      additionalProperties: false", "      properties:"]
        for f in fields:
            lines.append(f"        {camel(f['name'])}:")
            if name == "ErrorBody" and f["name"] == "code":
                lines += ["          type: string", "          enum:"] + [f"            - {c}" for c in error_codes()]
                continue
            if f["repeated"]:
                lines += ["          type: array", "          items:"] + schema_lines(f, enums, 12)
            else:
                lines += schema_lines(f, enums, 10)
    return lines


def main():
    text = OPENAPI.read_text()
    head, sep, _ = text.partition("\n  schemas:\n")
    if not sep:
        raise SystemExit("openapi.yaml has no '  schemas:' section")
    OPENAPI.write_text(head + "\n" + "\n".join(generate()) + "\n")
    print(f"{OPENAPI.relative_to(ROOT)}: schemas of {len(parse(PROTO.read_text())[2])} messages")


if __name__ == "__main__":
    main()
