"""Runs one function of an MLIR file on the CPU through the `attn-run` tool.

    from attn_mlir.run import run
    out, = run("f.mlir", {"a": a, "b": b})

Inputs go to attn-run as .npy files in a temporary directory and the results come back as numpy
arrays (bf16 results as float32). A bf16 argument takes float32 data (rounded to nearest even by
attn-run) or the raw bits as uint16 (`to_bf16_bits`). See docs/AttnRun.md.
"""
import os
import pathlib
import subprocess
import tempfile

import numpy as np

__all__ = ["AttnRunError", "attn_run_path", "run", "to_bf16_bits", "from_bf16_bits"]

_REPO = pathlib.Path(__file__).resolve().parents[2]


class AttnRunError(RuntimeError):
    """attn-run exited with a non-zero status; `stderr` holds its diagnostics."""

    def __init__(self, returncode, stderr):
        super().__init__(f"attn-run failed with exit code {returncode}:\n{stderr}")
        self.returncode = returncode
        self.stderr = stderr


def attn_run_path():
    """The attn-run binary: $ATTN_RUN, else <repo>/build/bin/attn-run."""
    return os.environ.get("ATTN_RUN") or str(_REPO / "build" / "bin" / "attn-run")


def to_bf16_bits(array):
    """Rounds a float array to bfloat16 (nearest even) and returns its bits as uint16; NaN
    stays NaN (quieted). In uint32: only NaN bit patterns can wrap around, and they are
    redone."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = bits >> 16
    rounded &= 1
    rounded += bits
    rounded += 0x7FFF
    rounded >>= 16
    out = rounded.astype(np.uint16)
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    if nan.any():
        out[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def from_bf16_bits(bits):
    """Widens bfloat16 bits (uint16) to float32."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def run(mlir, inputs, entry="main", mode="reference", extra_args=()):
    """Compiles and runs `entry` of `mlir` (a path, or IR text) on `inputs`.

    `inputs` maps argument names (the SSA names without '%', so "0" is %0) to arrays, or lists
    the arrays in argument order. Returns the results as a list of arrays. Raises AttnRunError when attn-run
    fails (bad inputs, shapes that do not fit the IR, pipeline errors).
    """
    with tempfile.TemporaryDirectory(prefix="attn-run-") as tmp:
        tmp = pathlib.Path(tmp)
        if isinstance(mlir, os.PathLike) or ("\n" not in str(mlir) and os.path.exists(str(mlir))):
            source = str(mlir)
        else:
            source = str(tmp / "input.mlir")
            pathlib.Path(source).write_text(mlir)
        # A list binds by position: attn-run writes position N as "#N".
        items = (inputs.items() if isinstance(inputs, dict)
                 else ((f"#{index}", array) for index, array in enumerate(inputs)))
        args = [attn_run_path(), source, f"--entry={entry}", f"--mode={mode}"]
        for index, (name, array) in enumerate(items):
            path = tmp / f"input{index}.npy"
            np.save(path, np.asarray(array, order="C"))
            args.append(f"--input={name}={path}")
        out_dir = tmp / "out"
        args += [f"--output={out_dir}", *extra_args]
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AttnRunError(proc.returncode, proc.stderr)
        results = []
        while (out_dir / f"result{len(results)}.npy").exists():
            results.append(np.load(out_dir / f"result{len(results)}.npy"))
        return results
