"""Runs the mma.sync kernels of causal FAVOR+'s products (GpuMmaGemm.cpp) on the CPU: an
interpreter of the kernel text (a warp's 32 lanes in lock step; nvvm.mma.sync m16n8k16 by the
fragment layouts of the PTX ISA, "Matrix fragments for mma.m16n8k16") on random bf16 / f16
operands of the product's shapes (two chunks, the rows of row-stepped operands ending inside the
second chunk), against the product in numpy. The kernels come from attn-opt with
ATTN_MMA_KERNEL_DUMP set (the text and the product's parameters on stderr).

usage: mma_gemm_emulate.py DUMP
"""
import re
import sys

import numpy as np

text = open(sys.argv[1]).read()
kernels = re.findall(r"//KERNEL (\S+) ([^\n]*)\n(.*?)//END", text, re.S)
rng = np.random.default_rng(0)

F16_TAG = 1 << 40  # marks an i32 bitcast to f16 pairs


def round_to(x, elt):
    """f32 values rounded to bf16 / f16 (as f32)."""
    x = np.asarray(x, np.float32)
    return x.astype(np.float16).astype(np.float32) if elt == "f16" else bits_f32(bf16_bits(x))


def bf16_bits(x):
    b = np.asarray(x, np.float32).view(np.uint32)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
def bits_f32(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32)

def run(body, grid, mem, args, nc):
    lines = [l.strip() for l in body.split("\n")[2:] if l.strip()]
    # pre-match blocks
    def exec_block(i, env, stop_at_close):
        while i < len(lines):
            l = lines[i]
            if l == "}":
                return i + 1, None
            if l.startswith("gpu.return") or l == "}" :
                return i + 1, None
            if l.startswith("scf.yield"):
                vals = l[len("scf.yield "):].split(" : ")[0].split(", ")
                return i + 1, [env[v] for v in vals]
            if l.startswith("scf.if"):
                c = env[l.split()[1]]
                if c[0]:
                    i, _ = exec_block(i + 1, env, True)
                else:
                    depth = 1; i += 1
                    while depth:
                        if lines[i].endswith("{"): depth += 1
                        if lines[i] == "}": depth -= 1
                        i += 1
                continue
            if l.startswith("memref.store"):
                m = re.match(r"memref.store (\S+), %(o|mx)\[(\S+), (\S+), (\S+)\]", l)
                dst = args[m.group(2)]
                v, a, b, c = (env[x] for x in m.group(1, 3, 4, 5))
                for lane in range(32):
                    dst[a[lane], b[lane], c[lane]] = v[lane]
                i += 1; continue
            m = re.match(r"(%\w+)(?::(\d+))? = (.*)$", l)
            name, count, rhs = m.groups()
            if rhs.startswith("scf.for"):
                fm = re.match(r"scf.for %kk = (\S+) to (\S+) step (\S+) iter_args\((.*)\) -> ", rhs)
                lo, hi, st = (int(env[x][0]) for x in fm.groups()[:3])
                its = [p.split(" = ") for p in fm.group(4).split(", ")]
                accs = [env[v] for _, v in its]
                start = i + 1
                for kk in range(lo, hi, st):
                    for (n_, _), a in zip(its, accs): env[n_] = a
                    env["%kk"] = np.full(32, kk, np.int64)
                    j, accs = exec_block(start, env, True)
                if lo >= hi:
                    depth = 1; j = start
                    while depth:
                        if lines[j].endswith("{"): depth += 1
                        if lines[j] == "}": depth -= 1
                        j += 1
                for e, a in enumerate(accs): env[f"{name}#{e}"] = a
                i = j; continue
            sm = re.match(r"gpu.shuffle xor (\S+), (\S+), (\S+) : f32", rhs)
            if sm:  # lane l reads lane l ^ offset (width 32)
                assert int(env[sm.group(3)][0]) == 32
                env[name + "#0"] = env[sm.group(1)][np.arange(32) ^ int(env[sm.group(2)][0])]
                i += 1; continue
            env[name] = evalop(rhs, env, mem, args, name, count)
            i += 1
        return i, None
    gx, gy, gz = grid
    for bx in range(gx):
        for by in range(gy):
            for bz in range(gz):
                for warp in range(4):
                    env = {"%nc": np.full(32, nc, np.int64), "_ids": (bx, by, bz, warp)}
                    exec_block(0, env, False)

def load(mem, addr, wide):
    """16-bit (or, `wide`, 32-bit) loads of the 32 lanes' byte addresses."""
    out = np.zeros(32, np.int64)
    for lane in range(32):
        for base, flat in mem.values():
            if base <= addr[lane] < base + 2 * flat.size:
                idx = (addr[lane] - base) // 2
                assert (addr[lane] - base) % (4 if wide else 2) == 0, "misaligned"
                out[lane] = int(flat[idx]) | ((int(flat[idx + 1]) << 16) if wide else 0)
                break
        else:
            raise RuntimeError(f"load out of range {addr[lane]:#x}")
    return out


def evalop(rhs, env, mem, args, name, count):
    bx, by, bz, warp = env["_ids"]
    lane = np.arange(32)
    if rhs.startswith("gpu.thread_id"): return warp * 32 + lane
    if rhs.startswith("gpu.block_id"):
        return np.full(32, {"x": bx, "y": by, "z": bz}[rhs.split()[1]], np.int64)
    m = re.match(r"arith.constant (\S+) : (\S+)", rhs)
    if m:
        v = float(m.group(1)) if m.group(2) == "f32" else int(m.group(1))
        return np.full(32, v, np.float32 if m.group(2) == "f32" else np.int64)
    m = re.match(r"arith.(\w+) (\S+), (\S+) : (\S+)$", rhs)
    if m and m.group(1) != "cmpi":
        op, a, b = m.group(1), env[m.group(2)], env[m.group(3)]
        return {"divui": lambda: a // b, "remui": lambda: a % b, "muli": lambda: a * b,
                "shli": lambda: a << b, "ori": lambda: a | b,
                "addi": lambda: a + b, "subi": lambda: a - b, "maxui": lambda: np.maximum(a, b),
                "minui": lambda: np.minimum(a, b), "maximumf": lambda: np.maximum(a, b)}[op]()
    m = re.match(r"arith.cmpi (ult|ule), (\S+), (\S+) :", rhs)
    if m:
        a, b = env[m.group(2)], env[m.group(3)]
        return a < b if m.group(1) == "ult" else a <= b
    m = re.match(r"arith.truncf (\S+) : f32 to (\w+)", rhs)
    if m: return round_to(env[m.group(1)], m.group(2))
    m = re.match(r"arith.index_cast (\S+) :", rhs)
    if m: return env[m.group(1)].copy()
    m = re.match(r"arith.select (\S+), (\S+), (\S+) :", rhs)
    if m: return np.where(env[m.group(1)], env[m.group(2)], env[m.group(3)])
    m = re.match(r"memref.extract_strided_metadata %(\w) :", rhs)
    if m:
        arr = args[m.group(1)]
        base = mem[m.group(1)][0]
        sh = arr.shape
        vals = [base, 0, sh[0], sh[1], sh[2], sh[1] * sh[2], sh[2], 1]
        for e, v in enumerate(vals): env[f"{name}#{e}"] = np.full(32, v, np.int64)
        return None
    m = re.match(r"memref.extract_aligned_pointer_as_index (\S+) :", rhs)
    if m: return env[m.group(1)]
    m = re.match(r"llvm.inttoptr (\S+) :", rhs)
    if m: return env[m.group(1)]
    m = re.match(r"llvm.load (\S+) : !llvm.ptr<1> -> (i16|i32)", rhs)
    if m:
        return load(mem, env[m.group(1)], m.group(2) == "i32")
    m = re.match(r"arith.extui (\S+) :", rhs)
    if m: return env[m.group(1)].copy()
    m = re.match(r"nvvm.mma.sync A\[(.*?)\] B\[(.*?)\] C\[(.*?)\]", rhs)
    if m:
        A = [env[x] for x in m.group(1).split(", ")]
        B = [env[x] for x in m.group(2).split(", ")]
        C = [env[x] for x in m.group(3).split(", ")]
        Am = np.zeros((16, 16), np.float32); Bm = np.zeros((16, 8), np.float32); Cm = np.zeros((16, 8), np.float32)
        def lohi(v):
            half = np.array([v & 0xFFFF, (v >> 16) & 0xFFFF], np.uint16)
            f = half.view(np.float16).astype(np.float32) if v & F16_TAG else bits_f32(half)
            return f[0], f[1]
        for l in range(32):
            g, t = l // 4, l % 4
            for r, (row, col) in enumerate([(g, 2*t), (g+8, 2*t), (g, 2*t+8), (g+8, 2*t+8)]):
                Am[row, col], Am[row, col+1] = lohi(int(A[r][l]))
            for r, k in enumerate([2*t, 2*t+8]):
                Bm[k, g], Bm[k+1, g] = lohi(int(B[r][l]))
            Cm[g, 2*t], Cm[g, 2*t+1], Cm[g+8, 2*t], Cm[g+8, 2*t+1] = C[0][l], C[1][l], C[2][l], C[3][l]
        D = Am @ Bm + Cm
        res = np.zeros((4, 32), np.float32)
        for l in range(32):
            g, t = l // 4, l % 4
            res[:, l] = D[g, 2*t], D[g, 2*t+1], D[g+8, 2*t], D[g+8, 2*t+1]
        return res
    m = re.match(r"llvm.bitcast (\S+) : i32 to vector<2xf16>", rhs)
    if m: return env[m.group(1)] | F16_TAG
    m = re.match(r"llvm.extractvalue (\S+)\[(\d)\]", rhs)
    if m: return env[m.group(1)][int(m.group(2))]
    raise RuntimeError("unknown op " + rhs)

B_, nc = 2, 2
failed = 0
for name, params, body in kernels:
    a, b, rest = params.split(" | ")
    a = list(map(int, a.split())); b = list(map(int, b.split()))
    heads, K, rows, cols, row_max = map(int, rest.split())
    BH = B_ * heads
    def shape(op):
        mul, group, mod, rs, ks, tr = op
        nb = B_ * max(mul, 1) if mul else mod
        nrows = (rs * nc if rs else (rows if op is a else cols)) - (3 if rs else 0)  # ragged tail
        nk = ks * nc if ks else K
        return (max(nb, 1), nk, max(nrows, 1)) if tr else (max(nb, 1), max(nrows, 1), nk)
    sa, sb = shape(a), shape(b)
    f16 = "xf16>" in body
    enc = (lambda x: np.asarray(x, np.float16).view(np.uint16)) if f16 else bf16_bits
    dec = (lambda u: u.view(np.float16).astype(np.float32)) if f16 else bits_f32
    va = enc(rng.standard_normal(sa)); vb = enc(rng.standard_normal(sb))
    mem = {"a": (0x10000000, va.ravel()), "b": (0x40000000, vb.ravel())}
    nt = next(n for n in range(8, 0, -1) if (cols // 8) % n == 0)
    args = {"a": va, "b": vb, "o": np.full((BH, nc * rows, cols), np.nan, np.float32),
            "mx": np.full((BH, nc * rows, cols // (8 * nt)), np.nan, np.float32)}
    run(body, (BH * nc, (rows + 63) // 64, cols // (8 * nt)), mem, args, nc)
    fa, fb = dec(va), dec(vb)
    exp = np.zeros_like(args["o"])
    for bh in range(BH):
        bb, h = bh // heads, bh % heads
        for c in range(nc):
            def mat(f, op, n):
                mul, group, mod, rs, ks, tr = op
                batch = bb * mul + (h // group) % mod
                out = np.zeros((n, K), np.float32)
                for i in range(n):
                    r = c * rs + i
                    if tr and r < f.shape[2]:
                        out[i] = f[batch, c * ks: c * ks + K, r]
                    elif not tr and r < f.shape[1]:
                        out[i] = f[batch, r, c * ks: c * ks + K]
                return out
            exp[bh, c*rows:(c+1)*rows] = mat(fa, a, rows) @ mat(fb, b, cols).T
    if "arith.truncf" in body:  # lowerMask: the live scores in the operands' type
        live = np.arange(cols)[None, :] <= (np.arange(nc * rows) % rows)[:, None]
        exp = round_to(np.where(live[None], exp, 0), "f16" if f16 else "bf16")
    err = np.max(np.abs(args["o"] - exp) / (1 + np.abs(exp))) if not np.isnan(args["o"]).any() \
        else float("nan")
    # f32 sums in another order; rounded outputs may differ by one unit.
    ok = err <= (1e-5 if "arith.truncf" not in body else 2.0 ** -7)
    if row_max:  # each row's maximum over each column tile of 8 nt, from numpy's product
        tile = exp.reshape(BH, nc * rows, cols // (8 * nt), 8 * nt).max(axis=3)
        merr = np.max(np.abs(args["mx"] - tile) / (1 + np.abs(tile))) \
            if not np.isnan(args["mx"]).any() else float("nan")
        print(f"{name} row maxima over {cols // (8 * nt)} tiles: max error {merr:.1e} "
              f"{'ok' if merr <= 1e-5 else 'FAIL'}", flush=True)
        failed += not merr <= 1e-5
        ok = ok and merr <= 1e-5
    failed += not ok
    print(f"{name} [{params}] {'f16' if f16 else 'bf16'}: max error {err:.1e} "
          f"{'ok' if ok else 'FAIL'}", flush=True)
print(f"{len(kernels)} kernels, {'FAILED' if failed else 'all ok'}")
sys.exit(1 if failed or not kernels else 0)
