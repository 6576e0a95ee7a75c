#!/usr/bin/env python3
"""Writes the PTX of the gpu.binary objects of an MLIR file (attn-gpu-pipeline
with format=isa) to stdout or a file.

usage: extract_ptx.py IN.mlir [OUT.ptx] [--binary NAME]

--binary NAME: only the PTX of `gpu.binary @NAME` (e.g. attn_gpu, the Hopper core's).
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


def extract(text: str, binary: str = None) -> str:
    parts = []
    names = [(m.start(), m.group(1)) for m in re.finditer(r"gpu\.binary @(\w+)", text)]
    for m in re.finditer(r'assembly = "((?:[^"\\]|\\.)*)"', text):
        owner = [name for start, name in names if start < m.start()]
        if binary is None or (owner and owner[-1] == binary):
            parts.append(unescape(m.group(1)))
    if not parts:
        sys.exit("extract_ptx.py: no gpu.binary with format=isa found"
                 + (f" named @{binary}" if binary else ""))
    return "\n".join(parts)


if __name__ == "__main__":
    args = sys.argv[1:]
    binary = None
    if "--binary" in args:
        i = args.index("--binary")
        binary = args[i + 1]
        del args[i:i + 2]
    ptx = extract(open(args[0]).read(), binary)
    if len(args) > 1:
        open(args[1], "w").write(ptx)
    else:
        sys.stdout.write(ptx)
