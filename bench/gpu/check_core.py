#!/usr/bin/env python3
"""Checks and times the Hopper sdpa core kernels (bench/gpu/build_core.sh) on
the GPU, with no MLIR there: ctypes over the CUDA driver (cuModuleLoadData of
the cubin, cuTensorMapEncodeTiled, cuLaunchKernel with the kernel's parameter
layout), torch for device memory, random inputs and CUDA events.

Numerics: against the float64 reference (python/attn_mlir/reference.py) on
the inputs rounded to bf16 / f16, every output and lse buffer filled with NaN
before each launch; bounds of the numerics contract (bf16 1e-2, f16 2e-3).
Timing: bf16 B=2 H=16 D=128 N=16384 causal (and dense), ours vs torch SDPA
(flash and cuDNN backends) and torch.compile'd flex_attention with a block
mask built outside the timed region; CUDA events, median of the repeats.

usage: check_core.py ARTIFACTS_DIR [--quick] [--json OUT.json]
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from attn_mlir import reference  # noqa: E402
from attn_mlir.patterns import Causal, Dense  # noqa: E402

Q_TILE = 64
THREADS = 128
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
DTYPES = {"bf16": (torch.bfloat16, 9, 1e-2), "f16": (torch.float16, 6, 2e-3)}

cuda = ctypes.CDLL("libcuda.so.1")


def check(result, what):
    if result != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorName(result, ctypes.byref(name))
        raise RuntimeError(f"{what}: CUDA error {result} {name.value.decode()}")


def shared_bytes(d, kv):
    """The kernel's dynamic shared memory (GpuCoreKernel.cpp, Layout)."""
    return Q_TILE * d * 2 + 4 * kv * d * 2 + 64 + 1024


class Kernel:
    def __init__(self, path, d, kv, lse):
        self.d, self.kv, self.lse = d, kv, lse
        data = open(path, "rb").read()
        self._data = ctypes.create_string_buffer(data)
        self.module = ctypes.c_void_p()
        check(cuda.cuModuleLoadData(ctypes.byref(self.module), self._data), "cuModuleLoadData")
        self.fn = ctypes.c_void_p()
        check(cuda.cuModuleGetFunction(ctypes.byref(self.fn), self.module, b"sdpa_core_0"),
              "cuModuleGetFunction")
        self.smem = shared_bytes(d, kv)
        check(cuda.cuFuncSetAttribute(self.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      self.smem), "cuFuncSetAttribute")


def tensor_map(x, rows, dtype_code):
    """A device copy of the CUtensorMap of x [B, H, N, D] seen as [B*H, N, D]
    (dims innermost first), box [64, rows, 1], 128-byte swizzle, zero fill."""
    B, H, N, D = x.shape
    raw = ctypes.create_string_buffer(128 + 64)
    addr = (ctypes.addressof(raw) + 63) & ~63
    dims = (ctypes.c_uint64 * 3)(D, N, B * H)
    strides = (ctypes.c_uint64 * 2)(D * x.element_size(), N * D * x.element_size())
    box = (ctypes.c_uint32 * 3)(64, rows, 1)
    ones = (ctypes.c_uint32 * 3)(1, 1, 1)
    check(cuda.cuTensorMapEncodeTiled(ctypes.c_void_p(addr), dtype_code, 3,
                                      ctypes.c_void_p(x.data_ptr()), dims, strides, box, ones,
                                      0, 3, 2, 0), "cuTensorMapEncodeTiled")
    host = torch.frombuffer(bytearray(ctypes.string_at(addr, 128)), dtype=torch.uint8)
    return host.to("cuda")


def memref_params(t):
    """The expanded memref descriptor: allocated, aligned, offset, sizes, strides."""
    vals = [ctypes.c_void_p(t.data_ptr()), ctypes.c_void_p(t.data_ptr()), ctypes.c_int64(0)]
    vals += [ctypes.c_int64(s) for s in t.shape]
    vals += [ctypes.c_int64(s) for s in t.stride()]
    return vals


class Launch:
    """The kernel's arguments for one problem, ready to launch repeatedly."""

    def __init__(self, kernel, q, k, v, out, lse, dtype_code):
        B, H, Nq, D = q.shape
        Nk = k.shape[2]
        self.kernel = kernel
        self.maps = [tensor_map(q, Q_TILE, dtype_code), tensor_map(k, kernel.kv, dtype_code),
                     tensor_map(v, kernel.kv, dtype_code)]
        vals = [ctypes.c_void_p(m.data_ptr()) for m in self.maps]
        vals += memref_params(out.view(B * H, Nq, D))
        if kernel.lse:
            vals += memref_params(lse.view(B * H, Nq))
        vals += [ctypes.c_int64(Nq), ctypes.c_int64(Nk)]
        self.vals = vals
        self.params = (ctypes.c_void_p * len(vals))(
            *[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in vals])
        self.grid = ((Nq + Q_TILE - 1) // Q_TILE, H, B)

    def __call__(self):
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        check(cuda.cuLaunchKernel(self.kernel.fn, *self.grid, THREADS, 1, 1, self.kernel.smem,
                                  stream, self.params, None), "cuLaunchKernel")


def run_check(kernels, elt, d, pattern, n, B, H, seed):
    torch_dtype, code, bound = DTYPES[elt]
    kernel = kernels[(elt, d, pattern, True)]
    rng = np.random.default_rng(seed)
    shape = (B, H, n, d)
    q, k, v = (torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)).to(torch_dtype)
               .cuda() for _ in range(3))
    out = torch.full(shape, float("nan"), dtype=torch_dtype, device="cuda")
    lse = torch.full((B, H, n), float("nan"), dtype=torch.float32, device="cuda")
    Launch(kernel, q, k, v, out, lse, code)()
    torch.cuda.synchronize()
    pat = Causal() if pattern == "causal" else Dense()
    ref_o, ref_lse = reference.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)), pattern=pat,
                                    return_lse=True)
    o = out.float().cpu().numpy()
    l = lse.cpu().numpy()
    err_o = reference.rel_error(o, ref_o)
    err_l = reference.rel_error(l, ref_lse)
    unwritten = int(np.isnan(o).sum() + np.isnan(l).sum())
    ok = err_o <= bound and err_l <= bound and unwritten == 0
    row = {"elt": elt, "D": d, "pattern": pattern, "B": B, "H": H, "N": n, "err_o": err_o,
           "err_lse": err_l, "nan": unwritten, "bound": bound, "pass": ok}
    if not ok:
        # Where it goes wrong: error per 16-row block and per 16-column block of (0, 0).
        diff = np.abs(np.nan_to_num(o[0, 0], nan=1e9) - ref_o[0, 0])
        row["rows16"] = [float(diff[i:i + 16].max()) for i in range(0, min(n, 128), 16)]
        row["cols16"] = [float(diff[:, j:j + 16].max()) for j in range(0, d, 16)]
    return row


def median_ms(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times), times


def run_bench(kernels, causal, reps):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    B, H, N, D = 2, 16, 16384, 128
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, N, D, dtype=torch.bfloat16, device="cuda") for _ in range(3))
    flops = 4.0 * B * H * N * N * D * (0.5 if causal else 1.0)
    pattern = "causal" if causal else "dense"
    rows = []

    def record(name, fn):
        try:
            ms, times = median_ms(fn, reps)
            rows.append({"impl": name, "pattern": pattern, "ms": ms, "tflops": flops / ms / 1e9,
                         "times_ms": times})
        except Exception as e:  # report, keep going
            rows.append({"impl": name, "pattern": pattern, "error": repr(e)[:300]})

    out = torch.full((B, H, N, D), float("nan"), dtype=torch.bfloat16, device="cuda")
    ours = Launch(kernels[("bf16", D, pattern, False)], q, k, v, out, None, 9)
    record("ours (attn-gpu-sdpa-core)", ours)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    err = ((out.float() - ref.float()).norm() / ref.float().norm()).item()
    for name, backend in (("torch sdpa flash", SDPBackend.FLASH_ATTENTION),
                          ("torch sdpa cudnn", SDPBackend.CUDNN_ATTENTION)):
        def sdpa(backend=backend):
            with sdpa_kernel(backend):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
        record(name, sdpa)
    flex = torch.compile(flex_attention)
    if causal:
        mask = create_block_mask(lambda b, h, qi, ki: qi >= ki, None, None, N, N)
        record("flex_attention (compiled)", lambda: flex(q, k, v, block_mask=mask))
    else:
        record("flex_attention (compiled)", lambda: flex(q, k, v))
    return rows, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("--quick", action="store_true", help="N in {64, 127} only, no timing")
    ap.add_argument("--json")
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    torch.zeros(1, device="cuda")  # the primary context, current on this thread
    kv = int(open(os.path.join(args.artifacts, "config.txt")).read().split("=")[1])
    kernels = {}
    for elt in DTYPES:
        for d in (64, 128):
            for pattern in ("dense", "causal"):
                kernels[(elt, d, pattern, True)] = Kernel(
                    os.path.join(args.artifacts, f"{pattern}_{elt}_d{d}_lse.cubin"), d, kv, True)
    for pattern in ("dense", "causal"):
        kernels[("bf16", 128, pattern, False)] = Kernel(
            os.path.join(args.artifacts, f"{pattern}_bf16_d128.cubin"), 128, kv, False)

    lengths = (64, 127) if args.quick else (1, 127, 1000, 4096)
    checks = []
    seed = int(time.time())
    print(f"seed {seed}", flush=True)
    for elt in DTYPES:
        for d in (64, 128):
            for pattern in ("dense", "causal"):
                for n in lengths:
                    seed += 1
                    try:
                        row = run_check(kernels, elt, d, pattern, n, 2, 3, seed)
                    except Exception as e:
                        row = {"elt": elt, "D": d, "pattern": pattern, "N": n, "pass": False,
                               "error": repr(e)[:300]}
                    checks.append(row)
                    print(json.dumps(row), flush=True)
    bench, bench_err = [], {}
    if not args.quick and all(r["pass"] for r in checks):
        for causal in (True, False):
            rows, err = run_bench(kernels, causal, args.reps if causal else max(5, args.reps // 2))
            bench += rows
            bench_err["causal" if causal else "dense"] = err

    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    result = {"device": smi, "torch": torch.__version__, "kv_tile": kv, "seed_base": seed,
              "checks": checks, "bench": bench, "bench_rel_err_vs_torch_sdpa": bench_err}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    print("\n== numerics (rel err vs float64 reference; NaN-poisoned outputs)")
    print(f"{'elt':4} {'D':>4} {'pattern':7} {'N':>5} {'err_o':>9} {'err_lse':>9} {'nan':>4} ok")
    for r in checks:
        if "error" in r:
            print(f"{r['elt']:4} {r['D']:>4} {r['pattern']:7} {r['N']:>5} ERROR {r['error']}")
            continue
        print(f"{r['elt']:4} {r['D']:>4} {r['pattern']:7} {r['N']:>5} {r['err_o']:9.2e} "
              f"{r['err_lse']:9.2e} {r['nan']:>4} {'PASS' if r['pass'] else 'FAIL'}")
    if bench:
        print(f"\n== bf16 B=2 H=16 D=128 N=16384 ({smi}); median of repeats, CUDA events")
        for r in bench:
            if "error" in r:
                print(f"{r['pattern']:7} {r['impl']:28} ERROR {r['error']}")
            else:
                print(f"{r['pattern']:7} {r['impl']:28} {r['ms']:8.3f} ms {r['tflops']:7.1f} TFLOP/s")
        print("rel err of ours vs torch sdpa on the bench inputs:", bench_err)
    sys.exit(0 if all(r["pass"] for r in checks) else 1)


if __name__ == "__main__":
    main()
