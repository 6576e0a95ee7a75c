"""Writes attn.sdpa functions with very large or very deep patterns.

Used by the lit tests that check the nesting limit of #attn.union /
#attn.intersect and the time canonicalization takes on large patterns.

  generate_patterns.py nested DEPTH     DEPTH unions, alternating with
                                        intersections, around #attn.causal
  generate_patterns.py aliases DEPTH    the same depth, one alias per level
  generate_patterns.py bands N          a union of N windows that stay apart
  generate_patterns.py touching N       a union of N windows that all touch
  generate_patterns.py duplicates N     a union of N strided parts, each twice
  generate_patterns.py tokens N         N global tokens, static length 2 N
"""
import sys

SDPA = """func.func @f(%q: tensor<1x1x{n}x8xf32>) -> tensor<1x1x{n}x8xf32> {{
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x{n}x8xf32>, tensor<1x1x{n}x8xf32>, tensor<1x1x{n}x8xf32>) outs(%q : tensor<1x1x{n}x8xf32>) pattern({pattern}) -> tensor<1x1x{n}x8xf32>
  return %r : tensor<1x1x{n}x8xf32>
}}"""


def union(parts):
    return "#attn.union<[" + ", ".join(parts) + "]>"


def main(kind, count):
    length = 64
    aliases = []
    if kind == "nested":
        pattern = "#attn.causal"
        for level in range(count):
            name = "union" if level % 2 == 0 else "intersect"
            pattern = f"#attn.{name}<[{pattern}, #attn.window<left = {level}, right = 1>]>"
    elif kind == "aliases":
        aliases.append("#p0 = #attn.causal")
        for level in range(1, count + 1):
            name = "union" if level % 2 == 0 else "intersect"
            aliases.append(f"#p{level} = #attn.{name}<[#p{level - 1}]>")
        pattern = f"#p{count}"
    elif kind == "bands":
        pattern = union(f"#attn.window<left = {-3 * i}, right = {3 * i + 1}>"
                        for i in range(count))
    elif kind == "touching":
        pattern = union(f"#attn.window<left = {-2 * i}, right = {2 * i + 1}>"
                        for i in reversed(range(count)))
    elif kind == "duplicates":
        pattern = union(f"#attn.strided<stride = {i // 2 + 2}>"
                        for i in range(count))
    elif kind == "tokens":
        tokens = ", ".join(str(i * 7919 % (2 * count)) for i in range(count))
        pattern = f"#attn.global<tokens = [{tokens}], first = 3>"
        length = 2 * count
    else:
        raise SystemExit(f"unknown kind {kind}")
    print("\n".join(aliases))
    print(SDPA.format(n=length, pattern=pattern))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
