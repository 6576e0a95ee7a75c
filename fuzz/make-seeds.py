#!/usr/bin/env python3
"""Writes the seed corpus of attn-fuzz into OUT (one input per file).

    python3 fuzz/make-seeds.py OUT [--tests-only]

The seeds are
  * every test/**/*.mlir and examples/*.mlir, split at `// -----`, with
    whole-line comments (RUN, CHECK, expected-error) dropped;
  * fuzz/seeds/*.mlir, split the same way: inputs that reached bugs and are
    not lit tests (they crashed, hung or were silently accepted);
  * the large regression inputs that are generated here rather than kept in
    the repository: a union nested 5,000 deep, a union of 20,000 parts, a
    global pattern of 100,000 tokens (each under 1 MiB, fuzz.sh's -max_len:
    libFuzzer truncates longer seeds).
--tests-only leaves out the last two, to measure what the fuzzer finds from
the tests alone. Run from the repository root.
"""
import pathlib
import re
import sys

SPLIT = re.compile(r"(?m)^[ \t]*// -----[^\n]*\n?")


def chunks(path):
    """The `// -----` chunks of a file without whole-line comments."""
    for i, chunk in enumerate(SPLIT.split(path.read_text())):
        body = "\n".join(l for l in chunk.splitlines()
                         if not l.lstrip().startswith("//")).strip()
        if body:
            yield i, body + "\n"


def sdpa(pattern, n=8):
    """A function with one attn.sdpa of `pattern`; sequence length n. With n
    above 64 the fuzz target skips the pipelines (isSmallEnough) and only
    parses, verifies, canonicalizes and re-parses."""
    t = f"tensor<1x2x{n}x4xf32>"
    return (f"func.func @f(%q: {t}, %o: {t}) -> {t} {{\n"
            f"  %r = attn.sdpa ins(%q, %q, %q : {t}, {t}, {t}) outs(%o : {t})"
            f" pattern({pattern}) -> {t}\n"
            f"  return %r : {t}\n}}\n")


def generated():
    """The large regression inputs: name -> text."""
    depth = 5000  # The parser, verifiers and simplification recurse.
    yield "union-nested-5000", sdpa("#attn.union<[" * depth + "#attn.causal"
                                    + "]>" * depth)
    # Bands three diagonals apart never merge: flattening and merging them
    # was quadratic (20,000 parts: 1.6 s in attn-opt --canonicalize, over a
    # minute in attn-fuzz). 850 KiB: seeds must fit in -max_len (1 MiB).
    parts = ", ".join(f"#attn.window<left = {-3 * i}, right = {3 * i}>"
                      for i in range(20000))
    yield "union-20000-parts", sdpa(f"#attn.union<[{parts}]>", n=128)
    tokens = ", ".join(str(2 * i) for i in range(100000))
    yield "global-100000-tokens", sdpa(f"#attn.global<tokens = [{tokens}]>")


def main():
    out = pathlib.Path(sys.argv[1])
    tests_only = "--tests-only" in sys.argv[2:]
    out.mkdir(parents=True, exist_ok=True)
    files = (sorted(pathlib.Path("test").rglob("*.mlir")) +
             sorted(pathlib.Path("examples").glob("*.mlir")))
    if not tests_only:
        files += sorted(pathlib.Path("fuzz/seeds").glob("*.mlir"))
    n = 0
    for f in files:
        for i, body in chunks(f):
            name = "-".join(f.with_suffix("").parts) + f"-{i:03d}.mlir"
            (out / name).write_text(body)
            n += 1
    if not tests_only:
        for name, text in generated():
            assert len(text) <= 1 << 20, f"{name}: longer than -max_len"
            (out / f"fuzz-generated-{name}.mlir").write_text(text)
            n += 1
    print(f"make-seeds.py: {n} seed inputs from {len(files)} files"
          f"{' (tests only)' if tests_only else ''} in {out}")


if __name__ == "__main__":
    main()
