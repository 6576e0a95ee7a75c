"""``attn_mlir.compile``: an attention spec to a callable on numpy arrays and torch tensors.

    f = attn_mlir.compile(spec)            # a builder Spec, or attn IR text
    o = f(q, k, v)                         # numpy in, numpy out; torch in, torch out

A spec is compiled once by ``attn-compile`` into a shared library in the cache directory
(``$ATTN_MLIR_CACHE``, else ``~/.cache/attn-mlir``) under a key made of the spec text (its
types included; locations left out), the target and the tool version (a hash of ``attn-compile`` and our
libraries), and loaded with ctypes; later ``compile`` calls of the same spec take it from
memory, or from disk in a new process. A call passes memref descriptors over the arrays'
buffers (no copy of a C-contiguous array of the right element type), writes no files, and
returns the output buffer that the compiled code allocated as a numpy array (freed when the
array goes) or a torch tensor over it. One compile serves every size of a dynamic dimension.

The native part: ``attn-compile`` is taken from ``$ATTN_COMPILE``, else
``$ATTN_MLIR_PREFIX/bin``, else next to ``$ATTN_RUN`` (as the other tests take their tools),
else the build tree of the checkout this package sits in (``<repo>/build/bin``), else
``PATH``. docs/Python.md says more.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading


from . import artifact as _artifact

__all__ = ["AttnCompileError", "Diagnostic", "Compiled", "compile", "attn_compile_path",
           "cache_dir", "clear_memory_cache"]

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TARGETS = ("cpu", "cuda")


class Diagnostic:
    """One diagnostic of attn-compile: severity, message and location (file, line, column;
    ``None`` when it has none) and the source line it points at."""

    def __init__(self, severity, message, file=None, line=None, column=None, source=None):
        self.severity, self.message = severity, message
        self.file, self.line, self.column, self.source = file, line, column, source

    @property
    def location(self):
        return None if self.file is None else (self.file, self.line, self.column)

    def __str__(self):
        where = "" if self.file is None else f"{self.file}:{self.line}:{self.column}: "
        return f"{where}{self.severity}: {self.message}"

    def __repr__(self):
        return f"Diagnostic({str(self)!r})"


class AttnCompileError(RuntimeError):
    """The spec did not parse, verify or compile. ``message`` and ``location`` (``(file,
    line, column)`` or None) are those of the first error; ``diagnostics`` lists all of them
    (notes included); ``spec`` is the spec text; ``stderr`` is attn-compile's output."""

    def __init__(self, diagnostics, spec, stderr):
        errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
        first = errors[0] if errors else Diagnostic("error", stderr.strip() or "unknown error")
        self.diagnostics, self.spec, self.stderr = diagnostics, spec, stderr
        self.message, self.location = first.message, first.location
        text = str(first)
        if first.source:
            text += "\n  " + first.source.rstrip()
        super().__init__(text)


_DIAGNOSTIC = re.compile(r"^(?:(?P<file>[^\n:]+):(?P<line>\d+):(?P<col>\d+): )?"
                         r"(?:attn-compile: )?(?P<sev>error|warning|note|remark): (?P<msg>.*)$")


def parse_diagnostics(stderr):
    """The diagnostics in attn-compile's stderr (MLIR's ``file:line:col: error: ...`` form,
    each followed by its source line and a caret)."""
    diagnostics = []
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        match = _DIAGNOSTIC.match(line)
        if not match:
            continue
        source = None
        if match["file"] and index + 1 < len(lines) and not _DIAGNOSTIC.match(lines[index + 1]):
            source = lines[index + 1]
        diagnostics.append(Diagnostic(
            match["sev"], match["msg"], match["file"],
            int(match["line"]) if match["line"] else None,
            int(match["col"]) if match["col"] else None, source))
    return diagnostics


def attn_compile_path():
    """The attn-compile binary (see the module doc); raises FileNotFoundError if none."""
    candidates = [os.environ.get("ATTN_COMPILE")]
    for variable, relative in (("ATTN_MLIR_PREFIX", "bin/attn-compile"),
                               ("ATTN_RUN", "../attn-compile")):  # the tools of one build
        if os.environ.get(variable):
            candidates.append(os.path.normpath(os.path.join(os.environ[variable], relative)))
    candidates += [os.path.join(_REPO, "build", "bin", "attn-compile"),
                   shutil.which("attn-compile")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return os.path.abspath(path)
    raise FileNotFoundError(
        "attn-compile not found: set ATTN_COMPILE to the binary or ATTN_MLIR_PREFIX to an "
        "install prefix (cmake --install), or build the checkout (bash scripts/build.sh)")


def cache_dir():
    """``$ATTN_MLIR_CACHE``, else ``$XDG_CACHE_HOME/attn-mlir`` (``~/.cache/attn-mlir``)."""
    if os.environ.get("ATTN_MLIR_CACHE"):
        return os.environ["ATTN_MLIR_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "attn-mlir")


_VERSIONS = {}


def _tool_version(tool):
    """A hash of attn-compile and the attn libraries it loads: a rebuilt tool misses the
    cache. Memoized per binary, size and modification time."""
    libdir = os.path.join(os.path.dirname(os.path.dirname(tool)), "lib")
    files = [tool] + sorted(os.path.join(libdir, f) for f in os.listdir(libdir)
                            if f.startswith("libAttn") and ".so" in f) \
        if os.path.isdir(libdir) else [tool]
    stamp = tuple((f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files
                  if os.path.isfile(f))
    if stamp not in _VERSIONS:
        digest = hashlib.sha256()
        for path, _, _ in stamp:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        _VERSIONS[stamp] = digest.hexdigest()[:16]
    return _VERSIONS[stamp]


_LOCATION = re.compile(r' loc\("(?:[^"\\]|\\.)*":\d+:\d+\)')
_MEMORY = {}
_LOCK = threading.Lock()


def clear_memory_cache():
    """Forgets the compiled specs of this process (the disk cache stays)."""
    _MEMORY.clear()


def _is_torch(value):
    return type(value).__module__.split(".")[0] == "torch"


def _is_cuda_array(value):
    """A torch CUDA tensor or a CuPy array."""
    module = type(value).__module__.split(".")[0]
    return (module == "torch" and value.is_cuda) or module == "cupy"


class Compiled:
    """A compiled spec: call it with one array per argument (positionally or by name).

    Returns the result (a tuple for several): numpy arrays, or torch tensors when the first
    argument is a torch tensor (on its device). target="cuda": CUDA arrays (every argument a
    torch CUDA tensor or a CuPy array) of a builder spec with one result go through the same
    spec compiled with ``--gpu-abi=device``: in place, no host copy, the output allocated on
    the device; otherwise CUDA tensors go through the host. ``spec``
    is the builder Spec (or None for IR text), ``text`` the IR, ``directory`` the cache
    entry, ``compiled_now`` whether this ``compile`` call ran attn-compile."""

    def __init__(self, text, spec, target, directory, compiled_now, entry, tool_args=()):
        self.text, self.spec, self.target = text, spec, target
        self.directory, self.compiled_now = directory, compiled_now
        self.artifact = _artifact.load(directory)
        self.entry = self.artifact.entry(entry) if entry else self.artifact.entry(
            "main" if "main" in self.artifact.entries else next(iter(self.artifact.entries)))
        self.arg_names = [a["name"] for a in self.entry.args]
        # tool_args: attn-compile's flags, for the device-ABI compile of the same spec.
        self._tool_args, self._device = tool_args, None

    def __repr__(self):
        return f"<attn_mlir.Compiled @{self.entry.name}({', '.join(self.arg_names)}) " \
               f"target={self.target}>"

    def result_shapes(self, arg_shapes):
        """The result shapes for these argument shapes: from the builder's rule, or from the
        IR's types when they are static. None when neither tells."""
        if self.spec is not None:
            return self.spec.result_shapes(arg_shapes)
        shapes = [r["shape"] for r in self.entry.results]
        if any(d is None for s in shapes for d in s):
            return None
        return [tuple(s) for s in shapes]

    def result_dtypes(self):
        return [r["dtype"] for r in self.entry.results]

    def _device_entry(self):
        """cuda: the entry of the same spec compiled with ``--gpu-abi=device`` and its output
        as a last argument (compiled at the first call with CUDA arrays); None when the spec
        has no such form (IR text, several results)."""
        if self.target != "cuda" or self.spec is None or \
                not self.spec.has_outs_argument_form():
            return None
        if self._device is None:
            text = self.spec.to_mlir(outs_argument=True)
            self._device = compile(text, target="cuda", entry=self.entry.name,
                                   tool_args=[*self._tool_args, "--gpu-abi=device"]).entry
        return self._device

    def _call_on_device(self, values):
        """CUDA arrays through the device ABI: no host copy; the output is allocated on the
        arrays' device (torch.empty / cupy.empty) and returned."""
        entry = self._device_entry()
        shape = self.result_shapes([tuple(v.shape) for v in values])[0]
        dtype = self.entry.results[0]["dtype"]
        first = values[0]
        if _is_torch(first):
            import torch
            out = torch.empty(shape, dtype=getattr(torch, _artifact._TORCH[dtype]),
                              device=first.device)
        else:
            import cupy
            out = cupy.empty(shape, dtype=_artifact._NUMPY[dtype])
        return entry.call(list(values) + [out])[0]

    def __call__(self, *args, **kwargs):
        values = self.entry._bind(args, kwargs)
        if self._device_entry() is not None and all(_is_cuda_array(v) for v in values):
            return self._call_on_device(values)
        torch_like = next((v for v in values if _is_torch(v)), None)
        results = self.entry.call(values, copy=False)
        if torch_like is not None:
            import torch
            converted = []
            for spec, r in zip(self.entry.results, results):
                t = torch.from_numpy(r)
                if spec["dtype"] == "bf16":
                    t = t.to(torch.bfloat16)
                converted.append(t.to(torch_like.device) if torch_like.device.type != "cpu"
                                 else t)
            results = converted
        return results[0] if len(results) == 1 else tuple(results)


def _host_cpu():
    """What ``--cpu=native`` compiles for: the CPU's model and feature flags (Linux), so that
    a cache shared between machines never hands one machine another's code."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [l for l in f if l.startswith(("model name", "flags", "Features"))]
        return hashlib.sha256("".join(sorted(set(lines))).encode()).hexdigest()[:16]
    except OSError:
        import platform
        return platform.machine() + platform.processor()


def compile(spec, target="cpu", entry=None, cpu="native", tool_args=()):  # noqa: A001
    """Compiles ``spec`` (a builder ``Spec`` or attn IR text) for ``target`` (``cpu`` or
    ``cuda``) and returns a ``Compiled`` callable. ``cpu`` is the host CPU the code is
    compiled for (attn-compile's ``--cpu``): ``native`` (this machine's, the default) or an
    LLVM CPU name such as ``x86-64-v3``. ``tool_args`` are more attn-compile flags (cuda:
    ``--chip=``, ``--format=isa``, ``--toolkit=``; docs/GPU.md), part of the cache key.
    Raises ``AttnCompileError`` with the message and location of MLIR's diagnostic when the
    spec is invalid."""
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {', '.join(_TARGETS)}, got {target!r}")
    text = spec if isinstance(spec, str) else spec.to_mlir()
    built = None if isinstance(spec, str) else spec
    tool = attn_compile_path()
    host = _host_cpu() if cpu == "native" else ""
    options = [f"--target={target}", f"--cpu={cpu}", *tool_args] + (
        [f"--entry={entry}"] if entry else [])
    # Locations (a traced score_mod's Python lines) change diagnostics, not code.
    key = hashlib.sha256("\0".join(
        ["attn-mlir-spec-v1", _LOCATION.sub("", text), *options, host,
         _tool_version(tool)]).encode()
    ).hexdigest()[:32]
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
        directory = os.path.join(cache_dir(), key)
        compiled_now = False
        if not os.path.isfile(os.path.join(directory, "manifest.json")):
            _build(tool, text, options, directory)
            compiled_now = True
        result = Compiled(text, built, target, directory, compiled_now, entry,
                          tuple(tool_args))
        _MEMORY[key] = result
        return result


def _build(tool, text, options, directory):
    """Runs attn-compile into a fresh directory beside ``directory``, then renames it into
    place (so a crash or a concurrent compile never leaves half an entry)."""
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".build-", dir=parent)
    try:
        with open(os.path.join(work, "spec.mlir"), "w") as f:
            f.write(text)
        # Run in the work directory: diagnostics name "spec.mlir" (the text of the error).
        command = [tool, "spec.mlir", *options, "-o", ".", "--name=spec"]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=work)
        if proc.returncode != 0:
            raise AttnCompileError(parse_diagnostics(proc.stderr), text, proc.stderr)
        with open(os.path.join(work, "key.json"), "w") as f:
            json.dump({"options": options, "tool": tool}, f)
        try:
            os.rename(work, directory)
        except OSError:
            if not os.path.isfile(os.path.join(directory, "manifest.json")):
                raise
        else:
            work = None
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)



_ELEMENT_TYPES = {"float32": "f32", "float16": "f16", "float64": "f64", "bfloat16": "bf16",
                  "torch.float32": "f32", "torch.float16": "f16", "torch.bfloat16": "bf16",
                  "torch.float64": "f64"}


def attention(q, k, v, *, pattern=None, score_mod=None, scale=None, target="cpu"):
    """Eager attention in the FlexAttention style: ``attention(q, k, v, pattern=...,
    score_mod=fn)`` on numpy arrays or torch tensors ``[B, H, N, D]``. Builds the spec with
    dynamic batch and lengths (heads, head sizes and element types from the arguments),
    compiles it once (``compile``'s caches) and calls it."""
    from .builder import sdpa, tensor

    def spec_tensor(name, x):
        dtype = _ELEMENT_TYPES.get(str(x.dtype))
        if dtype is None or len(x.shape) != 4:
            raise TypeError(f"attention: {name} must be a [B, H, N, D] array of f32, f16, bf16 "
                            f"or f64, got {tuple(x.shape)} {x.dtype}")
        return tensor(name, (None, x.shape[1], None, x.shape[3]), dtype)

    spec = sdpa(spec_tensor("q", q), spec_tensor("k", k), spec_tensor("v", v),
                pattern=pattern, score_mod=score_mod, scale=scale)
    return compile(spec, target=target)(q, k, v)
