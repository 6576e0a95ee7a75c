"""The device ABI of cuda artifacts (attn-compile --gpu-abi=device; docs/GPU.md, "Device
ABI"): what runs without a GPU here (the manifest, the argument checks, the descriptors, the
spec's outs-argument form) and, with a driver and torch, the numbers against the float64
reference."""
import json

import numpy as np
import pytest

import attn_mlir as am
from attn_mlir import reference as ref
from attn_mlir.artifact import ArtifactError, Entry, _device_array, _DeviceArray, load
from test_artifact import _has_cuda_driver, compile_spec


def causal_bf16_spec():
    q, k, v = (am.tensor(n, (1, 2, None, 64), "bf16") for n in "qkv")
    return am.sdpa(q, k, v, pattern=am.causal())


def test_outs_argument_form():
    spec = causal_bf16_spec()
    text = spec.to_mlir(outs_argument=True)
    assert spec.has_outs_argument_form()
    assert "tensor.empty" not in text and "tensor.empty" in spec.to_mlir()
    assert "%init: tensor<1x2x?x64xbf16>) -> (tensor<1x2x?x64xbf16>)" in text
    q, k, v = (am.tensor(n, (1, 2, None, 8)) for n in "qkv")
    assert not am.sdpa(q, k, v, lse=True).has_outs_argument_form()


def test_device_abi_artifact(tmp_path):
    """The manifest records the ABI and the outs argument; without a driver loading says
    so; with one (and torch) the output is written into the outs tensor in place."""
    out = compile_spec(tmp_path, causal_bf16_spec().to_mlir(outs_argument=True),
                       target="cuda", extra=["--format=isa", "--gpu-abi=device"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["gpu"]["abi"] == "device"
    (entry,) = manifest["entries"]
    assert [a["name"] for a in entry["args"]] == ["q", "k", "v", "init"]
    if not _has_cuda_driver():
        with pytest.raises(ArtifactError, match=r"no CUDA driver \(libcuda.so.1 not found\)"):
            load(out)
        return
    torch = pytest.importorskip("torch")
    art = load(out)
    assert art.abi == "device"
    for n in (1, 77, 1000):
        q, k, v = (torch.randn(1, 2, n, 64, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        o = torch.full_like(q, float("nan"))
        (res,) = art(q, k, v, o)
        assert res is o
        expected = ref.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)),
                            pattern=am.causal())
        assert ref.rel_error(o.float().cpu().numpy(), expected) <= ref.TOLERANCE["bf16"]
    # On a stream of the caller's: the call is ordered after the inputs' writes there and
    # returns without waiting; the caller waits for its stream.
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        q, k, v = (torch.randn(1, 2, 300, 64, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        o = torch.full_like(q, float("nan"))
        art(q, k, v, o)
    side.synchronize()
    expected = ref.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)), pattern=am.causal())
    assert ref.rel_error(o.float().cpu().numpy(), expected) <= ref.TOLERANCE["bf16"]


def test_device_abi_takes_only_cuda_arrays():
    with pytest.raises(ArtifactError, match=r"has the device ABI .* takes CUDA arrays "
                                            r"\(torch or CuPy\), not ndarray"):
        _device_array(np.zeros((1, 2)), "argument 'q' of @main")
    with pytest.raises(ArtifactError, match="takes CUDA arrays .* not list"):
        _device_array([1.0], "argument 'q' of @main")


def test_device_descriptor_is_row_major():
    descriptor = Entry._describe_device(_DeviceArray(None, 4096, (2, 3, 5, 4), "f32"))
    assert descriptor.allocated == descriptor.aligned == 4096 and descriptor.offset == 0
    assert list(descriptor.sizes) == [2, 3, 5, 4]
    assert list(descriptor.strides) == [60, 20, 4, 1]


def test_device_descriptor_of_rank_0_and_1():
    scalar = Entry._describe_device(_DeviceArray(None, 512, (), "f32"))
    assert scalar.aligned == 512 and scalar.offset == 0
    vector = Entry._describe_device(_DeviceArray(None, 768, (7,), "f32"))
    assert list(vector.sizes) == [7] and list(vector.strides) == [1]


def test_device_descriptors_follow_each_call():
    """The descriptors a call passes are those of its own arrays, whichever were seen before:
    kept ones for repeated (address, shape) lists, new ones otherwise, also after the cache
    starts over."""
    import ctypes
    from attn_mlir import artifact

    entry = Entry.__new__(Entry)
    entry.name, entry._descriptors = "main", {}
    rank4 = artifact._descriptor_type(4)
    seen = []

    def capture(arrays):
        for pointer in entry._device_pointers(arrays):
            descriptor = ctypes.cast(pointer, ctypes.POINTER(rank4)).contents
            seen.append((descriptor.aligned, tuple(descriptor.sizes), tuple(descriptor.strides)))

    calls = [[_DeviceArray(None, 4096 * (1 + i + a), (1, 2, n, 8), "f32") for a in range(3)]
             for i, n in enumerate([5, 9, 5] +
                                  list(range(10, 10 + 2 * artifact._DESCRIPTOR_CACHE_SIZE)))]
    # The same addresses at another length must not reuse the first call's descriptors.
    calls.append([_DeviceArray(None, a.pointer, (1, 2, 6, 8), "f32") for a in calls[0]])
    for arrays in calls + calls[:3]:
        seen.clear()
        capture(arrays)
        assert seen == [(a.pointer, a.shape, (2 * a.shape[2] * 8, a.shape[2] * 8, 8, 1))
                        for a in arrays]
    assert len(entry._descriptors) <= artifact._DESCRIPTOR_CACHE_SIZE


class _FakeArray:
    """Stands for a CUDA array of the library named by its class's module."""


def _fake(library):
    return type("Tensor", (_FakeArray,), {"__module__": f"{library}.fake"})()


def test_caller_stream_only_for_one_library(monkeypatch):
    from attn_mlir import artifact
    monkeypatch.setattr(artifact, "_current_stream", lambda value: 1234)
    assert artifact._caller_stream([_fake("torch"), _fake("torch")]) == 1234
    assert artifact._caller_stream([_fake("cupy")]) == 1234
    assert artifact._caller_stream([_fake("torch"), _fake("cupy")]) is None
    assert artifact._caller_stream([_fake("numpy")]) is None


def test_device_call_runs_on_the_caller_stream(monkeypatch):
    """The runtime is given the arrays' stream for the call and cleared after it, also when
    the call fails; without the runtime functions the call waits for the streams instead."""
    from attn_mlir import artifact
    monkeypatch.setattr(artifact, "_current_stream", lambda value: 0x5000)
    waited = []
    monkeypatch.setattr(artifact, "_synchronize", lambda values: waited.append(len(values)))
    events = []

    class FakeArtifact:
        abi = "device"
        set_stream = staticmethod(lambda s: events.append(("set", s.value)))
        clear_stream = staticmethod(lambda: events.append(("clear",)))
        cuda_error = staticmethod(lambda: None)

    entry = Entry.__new__(Entry)
    entry.name, entry.artifact, entry._descriptors = "main", FakeArtifact(), {}
    entry.args = [{"name": "q"}]
    monkeypatch.setattr(entry, "_convert_device",
                        lambda spec, value: _DeviceArray(value, 4096, (2,), "f32"))

    def invoke(pointers):
        events.append(("invoke",))
        return []
    monkeypatch.setattr(entry, "_invoke", invoke)
    assert entry.call([_fake("torch")]) == []
    assert events == [("set", 0x5000), ("invoke",), ("clear",)] and not waited

    def fail(pointers):
        raise RuntimeError("boom")
    events.clear()
    monkeypatch.setattr(entry, "_invoke", fail)
    with pytest.raises(RuntimeError, match="boom"):
        entry.call([_fake("torch")])
    assert events == [("set", 0x5000), ("clear",)]

    events.clear()
    FakeArtifact.set_stream = None
    monkeypatch.setattr(entry, "_invoke", invoke)
    entry.call([_fake("torch")])
    assert events == [("invoke",)] and waited == [1]
