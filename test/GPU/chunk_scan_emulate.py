"""Runs the prefix-scan kernel of causal FAVOR+ (GpuMmaGemm.cpp, writeChunkScanKernel) on the
CPU: an interpreter of the kernel text, every thread of the grid at once (the kernel has no
cross-thread operation, and its branches depend on the chunk index only), on random chunk
states T (f32) and a non-decreasing running stabiliser R, for several chunk counts (1, a count
that is not a multiple of the loop's unrolling, and more), against the definition of the
exclusive prefix in float64: S[c] = sum_{c' < c} exp(R[c'] - R[c]) T[c'] / max(1, c C / 1024),
rounded to the kernel's element type. The kernels come from attn-opt with ATTN_MMA_KERNEL_DUMP
set ("//SCAN name width cols chunk", the text, "//END" on stderr).

usage: chunk_scan_emulate.py DUMP
"""
import re
import sys

import numpy as np

text = open(sys.argv[1]).read()
kernels = re.findall(r"//SCAN (\S+) (\d+) (\d+) (\d+)\n(.*?)//END", text, re.S)
rng = np.random.default_rng(0)


def round_to(x, elt):
    """f32 values rounded to bf16 / f16 (as f32; bf16 to nearest even)."""
    x = np.asarray(x, np.float32)
    if elt == "f16":
        return x.astype(np.float16).astype(np.float32)
    b = x.view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint32) << 16
    return b.astype(np.uint32).view(np.float32)


BIN = {"divui": np.floor_divide, "remui": np.remainder, "muli": np.multiply, "addi": np.add,
       "subi": np.subtract, "maxui": np.maximum, "minui": np.minimum, "subf": np.subtract,
       "addf": np.add, "mulf": np.multiply, "divf": np.divide, "maximumf": np.maximum}


def run(body, threads, args, nc):
    lines = [l.strip() for l in body.split("\n")[2:] if l.strip()]

    def skip(i):
        depth = 1
        while depth:
            depth += lines[i].endswith("{") - (lines[i] == "}")
            i += 1
        return i

    def block(i, env):
        while i < len(lines):
            l = lines[i]
            if l == "}" or l.startswith("gpu.return"):
                return i + 1, None
            if l.startswith("scf.yield"):
                return i + 1, env[l.split()[1]]
            if l.startswith("scf.if"):
                cond = env[l.split()[1]]
                assert cond.all() or not cond.any(), "a branch that differs between threads"
                i = block(i + 1, env)[0] if cond.all() else skip(i + 1)
                continue
            m = re.match(r"memref.store (\S+), %(\w)\[(\S+), (\S+), (\S+)\]", l)
            if m:
                v, arr = env[m.group(1)], args[m.group(2)]
                arr[env[m.group(3)], env[m.group(4)], env[m.group(5)]] = v
                i += 1
                continue
            name, rhs = re.match(r"(%\w+) = (.*)$", l).groups()
            if rhs.startswith("scf.for"):
                fm = re.match(r"scf.for (%\w+) = (\S+) to (\S+) step (\S+) "
                              r"iter_args\((%\w+) = (\S+)\)", rhs)
                iv, lo, hi, st, acc, init = fm.groups()
                lo, hi, st = (int(np.asarray(env[x]).flat[0]) for x in (lo, hi, st))
                value, end = env[init], skip(i + 1)
                for c in range(lo, hi, st):
                    env[iv], env[acc] = np.full(threads, c, np.int64), value
                    value = block(i + 1, env)[1]
                env[name] = value
                i = end
                continue
            env[name] = evalop(rhs, env, args, threads)
            i += 1
        return i, None

    block(0, {"%nc": np.full(threads, nc, np.int64)})


def evalop(rhs, env, args, threads):
    tid = np.arange(threads, dtype=np.int64)
    if rhs.startswith("gpu.thread_id"):
        return tid % 128
    if rhs.startswith("gpu.block_id x"):
        return tid // 128
    m = re.match(r"arith.constant (\S+) : (\S+)", rhs)
    if m:
        f = m.group(2) == "f32"
        return np.full(threads, float(m.group(1)) if f else int(m.group(1)),
                       np.float32 if f else np.int64)
    m = re.match(r"arith.(\w+) (\S+), (\S+) : (\S+)$", rhs)
    if m and m.group(1) in BIN:
        return BIN[m.group(1)](env[m.group(2)], env[m.group(3)])
    m = re.match(r"arith.cmpi ult, (\S+), (\S+) :", rhs)
    if m:
        return env[m.group(1)] < env[m.group(2)]
    m = re.match(r"arith.select (\S+), (\S+), (\S+) :", rhs)
    if m:
        return np.where(env[m.group(1)], env[m.group(2)], env[m.group(3)])
    m = re.match(r"arith.index_cast (\S+) :", rhs)
    if m:
        return env[m.group(1)].copy()
    m = re.match(r"arith.uitofp (\S+) : i64 to f32", rhs)
    if m:
        return env[m.group(1)].astype(np.float32)
    m = re.match(r"arith.truncf (\S+) : f32 to (\w+)", rhs)
    if m:
        return round_to(env[m.group(1)], m.group(2))
    m = re.match(r"math.exp (\S+) : f32", rhs)
    if m:
        return np.exp(env[m.group(1)]).astype(np.float32)
    m = re.match(r"memref.load %(\w)\[(.*)\] :", rhs)
    if m:
        return args[m.group(1)][tuple(env[x] for x in m.group(2).split(", "))]
    raise RuntimeError("unknown op " + rhs)


failed = 0
runs = 0
for name, width, cols, chunk, body in kernels:
    width, cols, chunk = int(width), int(cols), int(chunk)
    elt = "f16" if "xf16>" in body else "bf16"
    BH = 3
    for nc in (1, 7, 40):
        t = rng.random((BH, nc * width, cols)).astype(np.float32) * 4
        # R non-decreasing, with jumps (the rescale factors reach 1e-9).
        r = np.maximum.accumulate(rng.standard_normal((BH, nc)) * 6, axis=1).astype(np.float32)
        args = {"t": t, "r": r, "o": np.full((BH, nc * width, cols), np.nan, np.float32)}
        run(body, BH * width * cols, args, nc)
        t64, r64 = t.astype(np.float64).reshape(BH, nc, width, cols), r.astype(np.float64)
        exp = np.zeros_like(t64)
        for c in range(nc):
            f = np.exp(r64[:, :c] - r64[:, c:c + 1])  # [BH, c]
            exp[:, c] = np.einsum("bk,bkwj->bwj", f, t64[:, :c]) / max(1.0, c * chunk / 1024)
        exp = exp.reshape(args["o"].shape)
        got = args["o"]
        err = float("nan") if np.isnan(got).any() else \
            float(np.max(np.abs(got - exp) / (1e-30 + np.abs(exp) + 1e-6 * np.abs(exp).max())))
        # One rounding to the element type (bf16 2^-8, f16 2^-11 relative) plus f32 error.
        ok = err <= (2.0 ** -8 if elt == "bf16" else 2.0 ** -11) * 1.01 + 1e-5
        failed += not ok
        runs += 1
        print(f"{name} [{width} {cols} {chunk}] {elt} nc {nc}: max error {err:.1e} "
              f"{'ok' if ok else 'FAIL'}", flush=True)
print(f"{len(kernels)} scan kernels, {runs} runs, {'FAILED' if failed else 'all ok'}")
sys.exit(1 if failed or not kernels else 0)
