"""Runs the ahead-of-time artifacts of ``attn-compile`` with ctypes: Python, numpy and (for
``--target=cuda``) the CUDA driver are all it needs; no LLVM, no MLIR.

    art = load("out/sdpa")                     # the directory attn-compile -o wrote
    (o,) = art(q=q, k=k, v=v, o=np.zeros(...))  # or art.entry("main")(q, k, v, o)

An artifact directory holds ``manifest.json`` (entries, argument names, element types, shapes
with ``null`` for dynamic dimensions), ``lib<name>.so`` and, for cuda, ``libattn_cuda_runtime.so``.
With the host ABI (the default) every entry takes and returns host buffers (the library copies
them to and from the GPU), so numpy arrays go in as they are and torch / CuPy arrays, on the
CPU or a GPU, are copied through the host. bf16 travels as float32 arrays (rounded to bf16 on
the way in) or as uint16 bits. An artifact of ``attn-compile --gpu-abi=device`` takes CUDA
tensors (torch, or CuPy with bf16 as uint16) in place: no copy; its results are the outs
arguments, written on the device, on the arrays' current stream (the call does not wait for
it, as torch's own operations do not). See docs/GPU.md, sections "Artifacts" and "Device ABI".
"""

import ctypes
import functools
import json
import os

import numpy as np

from .run import from_bf16_bits as _from_bf16_bits
from .run import to_bf16_bits as _to_bf16_bits

_NUMPY = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": np.uint16,
          "i1": np.bool_, "i8": np.int8, "i32": np.int32, "i64": np.int64}
# memref.get_global descriptors carry this marker as their allocation.
_GLOBAL_MARKER = 0xDEADBEEF


class ArtifactError(RuntimeError):
    """A bad argument, a missing CUDA driver, or a CUDA error during a call."""


def _to_numpy(value):
    """numpy view or host copy of a numpy, torch or CuPy array."""
    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__.split(".")[0]
    if module == "torch":
        value = value.detach()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.cpu().numpy()
    if module == "cupy":
        return value.get()
    return np.asarray(value)


# The torch dtype names of the same element types (bf16 travels as uint16 bits in numpy).
_TORCH = {k: "bfloat16" if k == "bf16" else np.dtype(v).name for k, v in _NUMPY.items()}
# The manifest's names of torch's and numpy's element types.
_TORCH_NAMES = {v: k for k, v in _TORCH.items()}
_NUMPY_NAMES = {np.dtype(v): k for k, v in _NUMPY.items()}
# Device-ABI descriptors kept per entry, by the arguments' addresses and shapes (a loop that
# calls with the same tensors builds none); the cache starts over past this many.
_DESCRIPTOR_CACHE_SIZE = 64


class _DeviceArray:
    """A CUDA array of the device ABI: its address, shape, element type (the manifest's
    name) and the object itself, after the checks of the device ABI."""

    def __init__(self, value, pointer, shape, dtype):
        self.value, self.pointer, self.shape, self.dtype = value, pointer, tuple(shape), dtype


def _device_array(value, where):
    """The _DeviceArray of a torch CUDA tensor or a CuPy array (C-contiguous, device 0);
    raises ArtifactError for anything else (host arrays included)."""
    module = _array_library(value)
    if module == "torch" and getattr(value, "is_cuda", False):
        dtype = _torch_dtype_name(value.dtype)
        if not value.is_contiguous():
            raise ArtifactError(f"{where}: a device-ABI argument must be contiguous "
                                f"(call .contiguous())")
        # get_device() is the index as an int, without building a torch.device.
        device = value.get_device()
        pointer, shape = value.data_ptr(), value.shape
    elif module == "cupy":
        dtype = _NUMPY_NAMES.get(value.dtype)
        if not value.flags.c_contiguous:
            raise ArtifactError(f"{where}: a device-ABI argument must be C-contiguous")
        device = value.device.id
        pointer, shape = value.data.ptr, value.shape
    else:
        raise ArtifactError(f"{where}: this artifact has the device ABI (--gpu-abi=device) and "
                            f"takes CUDA arrays (torch or CuPy), not {type(value).__name__}")
    if device != 0:
        raise ArtifactError(f"{where}: the CUDA runtime uses device 0, the array is on "
                            f"device {device}")
    return _DeviceArray(value, pointer, shape, dtype)


# The device ABI's per-call work in Python is part of the call's time (docs/GPU.md, "Device
# ABI"): the lookups below are cached per type, per dtype, and skip torch's Python objects.
@functools.lru_cache(maxsize=None)
def _library_of_type(kind):
    return kind.__module__.split(".")[0]


def _array_library(value):
    return _library_of_type(type(value))


@functools.lru_cache(maxsize=None)
def _torch_dtype_name(dtype):
    """The manifest's name of a torch dtype (None for one the ABI does not take)."""
    return _TORCH_NAMES.get(str(dtype).replace("torch.", ""))


def _current_stream(value):
    """The handle of the current CUDA stream of the torch or CuPy array ``value`` (0: the
    legacy default stream)."""
    if _array_library(value) == "torch":
        import torch
        # The raw handle, as Triton's launcher reads it: torch.cuda.current_stream() builds
        # a Stream object per call.
        raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
        if raw is not None:
            return raw(value.get_device())
        return torch.cuda.current_stream(value.device).cuda_stream
    import cupy
    return cupy.cuda.get_current_stream().ptr


def _caller_stream(values):
    """The current stream of the arrays among ``values`` when they all come from one library
    (torch or CuPy), else None."""
    libraries = {_array_library(v) for v in values}
    if len(libraries) != 1 or not libraries <= {"torch", "cupy"}:
        return None
    return _current_stream(values[0])


def _synchronize(values):
    """Waits for the current streams of the torch / CuPy arrays among ``values``: the
    compiled code then runs on a stream of its own, which does not wait for theirs."""
    seen = set()
    for value in values:
        module = _array_library(value)
        if module in seen or module not in ("torch", "cupy"):
            continue
        seen.add(module)
        if module == "torch":
            import torch
            torch.cuda.current_stream(value.device).synchronize()
        else:
            import cupy
            cupy.cuda.get_current_stream().synchronize()


@functools.lru_cache(maxsize=None)
def _descriptor_type(rank):
    """The ctypes struct of a ranked memref descriptor, one class per rank (making a ctypes
    Structure class costs about 20 us: per call, that was most of a small call's host time)."""
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}", (ctypes.Structure,), {"_fields_": fields})


class Entry:
    """One exported function of an artifact."""

    def __init__(self, artifact, spec):
        self.artifact = artifact
        self.name = spec["name"]
        self.args = spec["args"]
        self.results = spec["results"]
        self._function = getattr(artifact.library, spec["symbol"])
        self._function.restype = None
        self._result_types = [_descriptor_type(len(r["shape"])) for r in self.results]
        self._descriptors = {}
        if len(self.results) > 1:
            self._result_struct = type(
                "Results", (ctypes.Structure,),
                {"_fields_": [(f"r{i}", t) for i, t in enumerate(self._result_types)]})

    def _bind(self, args, kwargs):
        if len(args) > len(self.args):
            raise ArtifactError(f"@{self.name} takes {len(self.args)} arguments, got {len(args)}")
        bound = list(args) + [None] * (len(self.args) - len(args))
        names = [a["name"] for a in self.args]
        for key, value in kwargs.items():
            if key not in names:
                raise ArtifactError(f"@{self.name} has no argument '{key}' (arguments: "
                                    f"{', '.join(names)})")
            if bound[names.index(key)] is not None:
                raise ArtifactError(f"argument '{key}' of @{self.name} given twice")
            bound[names.index(key)] = value
        missing = [n for n, v in zip(names, bound) if v is None]
        if missing:
            raise ArtifactError(f"@{self.name}: no value for {', '.join(missing)}")
        return bound

    def _convert(self, spec, value):
        array = _to_numpy(value)
        dtype, shape = spec["dtype"], spec["shape"]
        if array.ndim != len(shape) or any(
                s is not None and s != n for s, n in zip(shape, array.shape)):
            raise ArtifactError(
                f"argument '{spec['name']}' of @{self.name}: shape {array.shape} does not fit "
                f"{['?' if s is None else s for s in shape]}")
        if dtype == "bf16":
            array = array if array.dtype == np.uint16 else _to_bf16_bits(array)
        elif array.dtype != _NUMPY[dtype]:
            raise ArtifactError(f"argument '{spec['name']}' of @{self.name}: element type "
                                f"{array.dtype}, expected {dtype}")
        return np.ascontiguousarray(array)

    def _convert_device(self, spec, value):
        where = f"argument '{spec['name']}' of @{self.name}"
        array = _device_array(value, where)
        shape = spec["shape"]
        if len(array.shape) != len(shape) or any(
                s is not None and s != n for s, n in zip(shape, array.shape)):
            raise ArtifactError(f"{where}: shape {array.shape} does not fit "
                                f"{['?' if s is None else s for s in shape]}")
        # CuPy has no bf16: its uint16 arrays stand for bf16 (see _NUMPY).
        if array.dtype != spec["dtype"]:
            raise ArtifactError(f"{where}: element type {value.dtype}, expected "
                                f"{spec['dtype']} (the device ABI converts nothing)")
        return array

    @staticmethod
    def _describe_device(array):
        rank = len(array.shape)
        strides = [1] * rank
        for d in reversed(range(rank - 1)):
            strides[d] = strides[d + 1] * array.shape[d + 1]
        if not rank:
            return _descriptor_type(0)(array.pointer, array.pointer, 0)
        vector = ctypes.c_int64 * rank
        return _descriptor_type(rank)(array.pointer, array.pointer, 0, vector(*array.shape),
                                      vector(*strides))

    def _device_pointers(self, arrays):
        """The byref pointers of the arrays' descriptors, built once per (addresses, shapes)."""
        key = tuple((a.pointer, a.shape) for a in arrays)
        pointers = self._descriptors.get(key)
        if pointers is None:
            if len(self._descriptors) >= _DESCRIPTOR_CACHE_SIZE:
                self._descriptors.clear()
            # byref keeps its descriptor alive.
            pointers = [ctypes.byref(self._describe_device(a)) for a in arrays]
            self._descriptors[key] = pointers
        return pointers

    def _call_device(self, values):
        """The device ABI: the arrays' device pointers go in; each result is the argument
        whose buffer it is (the outs operand, written on the device). When the arrays all
        come from torch (or all from CuPy) the call runs on their current stream and returns
        without waiting for it, as their own operations do; otherwise it waits for their
        streams, runs on a stream of the runtime's own and waits for it."""
        arrays = [self._convert_device(s, v) for s, v in zip(self.args, values)]
        stream = _caller_stream(values) if self.artifact.set_stream else None
        if stream is None:
            _synchronize(values)
            outs = self._invoke(self._device_pointers(arrays))
        else:
            self.artifact.set_stream(ctypes.c_void_p(stream))
            try:
                outs = self._invoke(self._device_pointers(arrays))
            finally:
                self.artifact.clear_stream()
        error = self.artifact.cuda_error()
        if error:
            raise ArtifactError(f"@{self.name}: {error}")
        by_pointer = {a.pointer: a.value for a in arrays}
        results = []
        for index, descriptor in enumerate(outs):
            if descriptor.aligned not in by_pointer:
                raise ArtifactError(f"@{self.name}: result #{index} is not an argument's "
                                    f"buffer, which the device ABI needs")
            results.append(by_pointer[descriptor.aligned])
        return results

    def _invoke(self, pointers):
        """Calls the C interface; returns the result descriptors."""
        if len(self.results) == 1:
            out = self._result_types[0]()
            self._function(ctypes.byref(out), *pointers)
            return [out]
        if self.results:
            out = self._result_struct()
            self._function(ctypes.byref(out), *pointers)
            return [getattr(out, f"r{i}") for i in range(len(self.results))]
        self._function(*pointers)
        return []

    @staticmethod
    def _describe(array):
        descriptor = _descriptor_type(array.ndim)()
        descriptor.allocated = descriptor.aligned = array.ctypes.data
        descriptor.offset = 0
        for d in range(array.ndim):
            descriptor.sizes[d] = array.shape[d]
            descriptor.strides[d] = array.strides[d] // array.itemsize
        return descriptor

    def __call__(self, *args, **kwargs):
        """Runs the entry; returns its results as a list of numpy arrays (bf16 as float32),
        copied out of the library's buffers."""
        return self.call(self._bind(args, kwargs), copy=True)

    def call(self, values, copy=True):
        """Runs the entry on ``values`` (one per argument, in order). With ``copy=False`` a
        result that the library allocated is returned in place, as a numpy array that owns
        the buffer (freed with the library's free when the array goes), and a result that is
        an argument's buffer as a view of that argument. With the device ABI the values are
        CUDA arrays and the results are the arguments (the outs operands) they were written
        into: no copy, whatever ``copy`` says."""
        if self.artifact.abi == "device":
            return self._call_device(values)
        arrays = [self._convert(s, v) for s, v in zip(self.args, values)]
        descriptors = [self._describe(a) for a in arrays]
        outs = self._invoke([ctypes.byref(d) for d in descriptors])
        error = self.artifact.cuda_error()
        if copy or self.artifact.target != "cpu" or error:
            results = [self._copy_out(spec, d) for spec, d in zip(self.results, outs)]
            self._release(outs, arrays)
        else:
            results = self._adopt(outs, arrays)
        if error:
            raise ArtifactError(f"@{self.name}: {error}")
        return results

    @staticmethod
    def _copy_out(spec, descriptor):
        dtype = np.dtype(_NUMPY[spec["dtype"]])
        rank = len(spec["shape"])
        sizes = [descriptor.sizes[d] for d in range(rank)]
        strides = [descriptor.strides[d] * dtype.itemsize for d in range(rank)]
        count = int(np.prod(sizes)) if rank else 1
        if count == 0:
            array = np.zeros(sizes, dtype)
        else:
            base = descriptor.aligned + descriptor.offset * dtype.itemsize
            span = sum((n - 1) * s for n, s in zip(sizes, strides)) + dtype.itemsize
            raw = (ctypes.c_char * span).from_address(base)
            array = np.ndarray(sizes, dtype, buffer=raw, strides=strides)
            # The buffer is freed after the call: keep a copy (bf16 converts into one).
            return _from_bf16_bits(array) if spec["dtype"] == "bf16" else array.copy()
        return _from_bf16_bits(array) if spec["dtype"] == "bf16" else array

    def _adopt(self, outs, arrays):
        """The results in place (see ``call``): no copy of a library-allocated buffer."""
        inputs = {a.ctypes.data: a for a in arrays}
        owners, results = {}, []
        for spec, descriptor in zip(self.results, outs):
            pointer = descriptor.allocated
            if spec["dtype"] == "bf16" or not pointer or pointer == _GLOBAL_MARKER:
                results.append(self._copy_out(spec, descriptor))
                continue
            if pointer not in inputs and pointer not in owners:
                owners[pointer] = _Allocation(self.artifact, pointer)
            base = inputs.get(pointer, owners.get(pointer))
            dtype = np.dtype(_NUMPY[spec["dtype"]])
            rank = len(spec["shape"])
            view = _View(base, descriptor.aligned + descriptor.offset * dtype.itemsize, dtype,
                         [descriptor.sizes[d] for d in range(rank)],
                         [descriptor.strides[d] * dtype.itemsize for d in range(rank)])
            results.append(np.asarray(view))
        return results

    def _release(self, outs, arrays):
        """Frees the result buffers that the library allocated (not the arguments')."""
        owned = {a.ctypes.data for a in arrays}
        for descriptor in outs:
            pointer = descriptor.allocated
            if pointer and pointer != _GLOBAL_MARKER and pointer not in owned:
                self.artifact.free(pointer)
                owned.add(pointer)


class _Allocation:
    """A buffer that a library call allocated; freed with the library's free when the last
    array over it goes."""

    def __init__(self, artifact, pointer):
        self.artifact, self.pointer = artifact, pointer

    def __del__(self):
        self.artifact.free(self.pointer)


class _View:
    """``__array_interface__`` of a result buffer; keeps its owner (an ``_Allocation`` or the
    argument array it aliases) alive as the numpy array's base."""

    def __init__(self, owner, address, dtype, shape, strides):
        self.owner = owner
        self.__array_interface__ = {"version": 3, "typestr": dtype.str, "shape": tuple(shape),
                                    "strides": tuple(strides), "data": (address, False)}


class Artifact:
    """An artifact directory of attn-compile, loaded."""

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        with open(os.path.join(self.directory, "manifest.json")) as f:
            self.manifest = json.load(f)
        if self.manifest.get("format") != "attn-artifact":
            raise ArtifactError(f"{directory}: manifest.json is not an attn-compile manifest")
        self.target = self.manifest["target"]
        # "host" (copies through the host) or "device" (CUDA arrays in place).
        self.abi = (self.manifest.get("gpu") or {}).get("abi", "host")
        self.runtime = None
        # attnCudaSetStream / attnCudaClearStream (runtimes of older artifacts lack them).
        self.set_stream = self.clear_stream = None
        if self.manifest.get("runtime"):
            # Loaded first and globally: the library's module constructor calls it.
            self.runtime = ctypes.CDLL(os.path.join(self.directory, self.manifest["runtime"]),
                                       mode=ctypes.RTLD_GLOBAL)
            self.runtime.attnCudaGetMessage.restype = ctypes.c_char_p
            if self.runtime.attnCudaInit() != 0:
                raise ArtifactError(self.runtime.attnCudaGetMessage().decode())
            if hasattr(self.runtime, "attnCudaSetStream"):
                self.set_stream = self.runtime.attnCudaSetStream
                self.set_stream.argtypes = [ctypes.c_void_p]
                self.set_stream.restype = None
                self.clear_stream = self.runtime.attnCudaClearStream
                self.clear_stream.restype = None
        self.library = ctypes.CDLL(os.path.join(self.directory, self.manifest["library"]))
        error = self.cuda_error()
        if error:
            raise ArtifactError(f"{directory}: loading the GPU binary failed: {error}")
        self._free = getattr(self.library, self.manifest["free"])
        self._free.argtypes = [ctypes.c_void_p]
        self._free.restype = None
        self.entries = {e["name"]: Entry(self, e) for e in self.manifest["entries"]}

    def cuda_error(self):
        """The CUDA runtime's first error message, or None (always None on the CPU)."""
        if self.runtime is None or self.runtime.attnCudaGetStatus() == 0:
            return None
        return self.runtime.attnCudaGetMessage().decode()

    def free(self, pointer):
        self._free(pointer)

    def entry(self, name="main"):
        if name not in self.entries:
            raise ArtifactError(f"{self.directory} has no entry @{name} (entries: "
                                f"{', '.join(self.entries)})")
        return self.entries[name]

    def __call__(self, *args, **kwargs):
        """Calls the entry @main, or the only entry."""
        name = "main" if "main" in self.entries or len(self.entries) != 1 else \
            next(iter(self.entries))
        return self.entry(name)(*args, **kwargs)


def load(directory):
    """Loads the artifact that ``attn-compile ... -o directory`` wrote."""
    return Artifact(directory)
