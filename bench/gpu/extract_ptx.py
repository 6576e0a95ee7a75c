#!/usr/bin/env python3
"""Writes the PTX of the gpu.binary objects of an MLIR file (attn-gpu-pipeline
with format=isa) to stdout or a file.

usage: extract_ptx.py IN.mlir [OUT.ptx]
"""
import re
import sys


def unescape(body: str) -> str:
    """MLIR string escapes: \\XX (hex), \\\\, \\", \\n, \\t."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "\\\"":
            out.append(nxt)
            i += 2
        elif nxt == "n":
            out.append("\n")
            i += 2
        elif nxt == "t":
            out.append("\t")
            i += 2
        else:
            out.append(chr(int(body[i + 1:i + 3], 16)))
            i += 3
    return "".join(out)


def extract(text: str) -> str:
    parts = []
    for m in re.finditer(r'assembly = "((?:[^"\\]|\\.)*)"', text):
        parts.append(unescape(m.group(1)))
    if not parts:
        sys.exit("extract_ptx.py: no gpu.binary with format=isa found")
    return "\n".join(parts)


if __name__ == "__main__":
    ptx = extract(open(sys.argv[1]).read())
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").write(ptx)
    else:
        sys.stdout.write(ptx)
