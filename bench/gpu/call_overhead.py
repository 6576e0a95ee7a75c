#!/usr/bin/env python3
"""Host overhead of a compiled CUDA call: the per-call wall time of an attn-compile
--target=cuda artifact of the Hopper sdpa core (causal, bf16, N dynamic), called from Python.

Here (LLVM needed):   python3 bench/gpu/call_overhead.py build OUT
  writes OUT/core_b1h2d64 and OUT/core_b2h16d128 (causal bf16 sdpa, [B, H, ?, D]).
On the GPU machine:   python3 bench/gpu/call_overhead.py time OUT/core_b1h2d64 [--n 1000 4096]
  per length: the median, 10th and 90th percentile of --calls timed calls (after --warmup
  calls) of the entry with bf16 inputs passed as uint16 bits (no conversion in Python), the
  same with float32 inputs (10 calls) (rounded to bf16 in Python on each call), the device memory that
  the calls left allocated (cuMemGetInfo before and after) and the error of the last output
  against the float64 reference. The runtime is the artifact's libattn_cuda_runtime.so, so
  two copies of one artifact with two runtimes time the runtimes against each other (one
  process each: both libraries have one soname).
`build` also writes OUT/<name>_dev, the same spec with --gpu-abi=device. On the GPU machine
(torch needed):   python3 bench/gpu/call_overhead.py device OUT/core_b1h2d64_dev [--n ...]
  per length: the error of the device-ABI call against the float64 reference (torch bf16
  CUDA tensors in, the outs tensor NaN beforehand, --check-n lengths), and per --n length the
  median / p10 / p90 wall time of --calls calls of the device-ABI entry (torch tensors in
  place; the call runs on torch's current stream and returns without waiting, so each timed
  call is followed by torch.cuda.synchronize()) and of torch SDPA with the cuDNN backend at
  the same shape (is_causal, followed by torch.cuda.synchronize()), the two taken in turn
  call by call; per call in bursts of 20 calls synchronised once (`pipelined_ms`); and the
  GPU's own time per call, host time excluded (`gpu_ms`: 20 calls enqueued behind a sleep
  kernel, timed by events). The check lengths also
  run once on a side stream of torch's (the call ordered after the inputs' writes there).
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

SHAPES = {"core_b1h2d64": (1, 2, 64), "core_b2h16d128": (2, 16, 128)}


def build(out, attn_compile):
    from attn_mlir.builder import sdpa_func
    from attn_mlir.patterns import Causal
    for name, (b, h, d) in SHAPES.items():
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        dims = [b, h, None, d]
        spec = os.path.join(directory, f"{name}.mlir")
        with open(spec, "w") as f:
            f.write(sdpa_func((dims, "bf16"), (dims, "bf16"), (dims, "bf16"),
                              pattern=Causal()))
        subprocess.run([attn_compile, spec, "--target=cuda", "-o", directory], check=True)
        print(directory)
        subprocess.run([attn_compile, spec, "--target=cuda", "--gpu-abi=device", "-o",
                        directory + "_dev"], check=True)
        print(directory + "_dev")


def free_bytes():
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    if cuda.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) != 0:
        return None
    return free.value


def percentiles(times):
    times = sorted(times)
    return {"median_ms": 1e3 * statistics.median(times),
            "p10_ms": 1e3 * times[len(times) // 10],
            "p90_ms": 1e3 * times[(9 * len(times)) // 10]}


def time_calls(directory, lengths, calls, warmup):
    from attn_mlir import reference as ref
    from attn_mlir.artifact import _from_bf16_bits, _to_bf16_bits, load
    art = load(directory)
    entry = art.entry("main")
    b, h, _, d = entry.args[0]["shape"]
    rows = []
    rng = np.random.default_rng(7)
    for n in lengths:
        f32 = [rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in range(3)]
        bits = [_to_bf16_bits(x) for x in f32]
        out_bits = np.full((b, h, n, d), 0x7FC0, np.uint16)
        for _ in range(warmup):
            entry(*bits, out_bits)
        before = free_bytes()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            (o,) = entry(*bits, out_bits)
            times.append(time.perf_counter() - start)
        after = free_bytes()
        f32_times = []
        for _ in range(10):
            start = time.perf_counter()
            entry(*f32, np.full_like(f32[0], np.nan))
            f32_times.append(time.perf_counter() - start)
        q, k, v = (_from_bf16_bits(x) for x in bits)
        # The float64 reference of the last call where it is small enough to be quick.
        expected = ref.sdpa(q, k, v, pattern=ref.Causal()) if b * h * n * n <= 1 << 26 else None
        row = {"artifact": os.path.basename(directory.rstrip("/")), "B": b, "H": h, "D": d,
               "N": n, "calls": calls, **percentiles(times),
               "f32_inputs": percentiles(f32_times),
               "device_bytes_left_per_call": None if before is None or after is None else
               (before - after) / calls,
               "rel_error": None if expected is None else float(ref.rel_error(o, expected)),
               "nan": int(np.isnan(o).sum())}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def wall_times(function, calls, warmup):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return percentiles(times)


def device_calls(directory, check_lengths, lengths, calls, warmup):
    """The device ABI against the reference and against torch SDPA (cuDNN)."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from attn_mlir import reference as ref
    from attn_mlir.artifact import load
    art = load(directory)
    assert art.abi == "device", art.abi
    entry = art.entry("main")
    b, h, _, d = entry.args[0]["shape"]
    torch.manual_seed(7)
    rows = []

    def inputs(n):
        return [torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3)]

    import contextlib

    for n in check_lengths:
        # On torch's current stream, then on a side stream (the call ordered after the
        # inputs' writes there, the caller waiting for its stream).
        for kind, stream in (("check", None), ("check_side_stream", torch.cuda.Stream())):
            with torch.cuda.stream(stream) if stream else contextlib.nullcontext():
                q, k, v = inputs(n)
                o = torch.full_like(q, float("nan"))
                (res,) = entry(q, k, v, o)
            assert res is o
            if stream:
                stream.synchronize()
            expected = ref.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)),
                                pattern=ref.Causal())
            got = o.float().cpu().numpy()
            row = {"kind": kind, "N": n, "B": b, "H": h, "D": d,
                   "rel_error": float(ref.rel_error(got, expected)),
                   "bound": ref.TOLERANCE["bf16"], "nan": int(np.isnan(got).sum())}
            rows.append(row)
            print(json.dumps(row), flush=True)
    for n in lengths:
        q, k, v = inputs(n)
        o = torch.empty_like(q)
        row = {"kind": "time", "N": n, "B": b, "H": h, "D": d, "calls": calls}

        def ours():
            entry(q, k, v, o)

        def cudnn():
            F.scaled_dot_product_attention(q, k, v, is_causal=True)
        try:
            # The backend is chosen once, outside the timed calls (the context manager's own
            # Python is not cuDNN's time).
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                cudnn()
                torch.cuda.synchronize()
                row.update(alternating_times({"device_abi": ours, "torch_sdpa_cudnn": cudnn},
                                             calls, warmup, torch.cuda.synchronize))
                for name, function in (("device_abi", ours), ("torch_sdpa_cudnn", cudnn)):
                    row[name]["gpu_ms"] = gpu_time(torch, function)
        except RuntimeError as error:
            row["device_abi"] = wall_times(lambda: (ours(), torch.cuda.synchronize()),
                                           calls, warmup)
            row["torch_sdpa_cudnn"] = f"not run: {str(error).splitlines()[0]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def gpu_time(torch, function, burst=20, bursts=10):
    """The GPU's time per call, host time excluded: the stream is held by a sleep kernel
    (torch.cuda._sleep) while the host enqueues ``burst`` calls, so that the events around
    them time the kernels back to back (median over ``bursts``)."""
    times = []
    for _ in range(bursts):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(20_000_000)  # about 10 ms: longer than enqueuing the burst
        start.record()
        for _ in range(burst):
            function()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / burst)
    return statistics.median(times)


def alternating_times(functions, calls, warmup, synchronize, burst=20):
    """Per function: the wall time of one call followed by ``synchronize`` (median, p10,
    p90 of ``calls``), the functions taken in turn call by call so that the GPU's clock and
    the host's load drift alike for all; and ``pipelined_ms``, the median over bursts of
    ``burst`` calls issued back to back and synchronised once (the time per call when the
    launch overlaps the previous call's kernel, as in a model's forward pass)."""
    for _ in range(warmup):
        for function in functions.values():
            function()
            synchronize()
    times = {name: [] for name in functions}
    bursts = {name: [] for name in functions}
    for index in range(calls):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            synchronize()
            times[name].append(time.perf_counter() - start)
        if index % burst == 0:
            for name, function in functions.items():
                start = time.perf_counter()
                for _ in range(burst):
                    function()
                synchronize()
                bursts[name].append((time.perf_counter() - start) / burst)
    return {name: {**percentiles(times[name]),
                   "pipelined_ms": 1e3 * statistics.median(bursts[name])}
            for name in functions}
    return rows


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out")
    b.add_argument("--attn-compile", default=os.path.join(ROOT, "build", "bin", "attn-compile"))
    t = sub.add_parser("time")
    t.add_argument("artifact")
    t.add_argument("--n", type=int, nargs="+", default=[1000, 4096])
    t.add_argument("--calls", type=int, default=300)
    t.add_argument("--warmup", type=int, default=20)
    t.add_argument("--label", default="")
    t.add_argument("--json", default=None)
    dv = sub.add_parser("device")
    dv.add_argument("artifact")
    dv.add_argument("--check-n", type=int, nargs="+", default=[1, 127, 1000, 4096])
    dv.add_argument("--n", type=int, nargs="+", default=[1, 1000, 4096])
    dv.add_argument("--calls", type=int, default=300)
    dv.add_argument("--warmup", type=int, default=20)
    dv.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.command == "device":
        rows = device_calls(args.artifact, args.check_n, args.n, args.calls, args.warmup)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
        return
    if args.command == "build":
        build(args.out, args.attn_compile)
        return
    rows = time_calls(args.artifact, args.n, args.calls, args.warmup)
    for row in rows:
        row["label"] = args.label
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
