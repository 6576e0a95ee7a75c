#!/usr/bin/env python3
"""An ``attn-compile`` stand-in for the GPU machine, which has no LLVM: the Python API tests
run there unchanged with ``ATTN_COMPILE`` pointing at this script.

Here:      ATTN_REPLAY_RECORD=STORE ATTN_REAL_COMPILE=build/bin/attn-compile \\
           ATTN_COMPILE=bench/gpu/compile_replay.py python3 -m pytest ... (records every
           compile into STORE/<key>, with --cpu=native replaced by --cpu=x86-64-v2 so that the
           host code runs on the other machine's CPU)
There:     ATTN_REPLAY_STORE=STORE ATTN_COMPILE=.../compile_replay.py python3 -m pytest ...
           (copies STORE/<key> to -o; fails for a compile that was not recorded)
The key is the spec's text and the arguments other than -o and --cpu.
"""
import hashlib
import os
import shutil
import subprocess
import sys


def main(argv):
    out = argv[argv.index("-o") + 1]
    spec = next(a for a in argv if not a.startswith("-") and a != out)
    rest = sorted(a for a in argv if a not in (out, spec, "-o") and not a.startswith("--cpu="))
    with open(spec) as f:
        key = hashlib.sha256("\0".join([f.read(), *rest]).encode()).hexdigest()[:32]
    if os.environ.get("ATTN_REPLAY_RECORD"):
        args = [a if not a.startswith("--cpu=") else "--cpu=x86-64-v2" for a in argv]
        done = subprocess.run([os.environ["ATTN_REAL_COMPILE"], *args])
        if done.returncode == 0:
            stored = os.path.join(os.environ["ATTN_REPLAY_RECORD"], key)
            shutil.rmtree(stored, ignore_errors=True)
            shutil.copytree(out, stored, ignore=shutil.ignore_patterns("spec.mlir"))
        return done.returncode
    stored = os.path.join(os.environ["ATTN_REPLAY_STORE"], key)
    if not os.path.isdir(stored):
        print(f"attn-compile (replay): no recorded compile {key} for {spec} {rest}",
              file=sys.stderr)
        return 1
    shutil.copytree(stored, out, dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
