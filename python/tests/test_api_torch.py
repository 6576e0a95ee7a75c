"""torch interop of the Python API: CPU tensors in and out without copies, the torch.library
custom op (opcheck, torch.compile with dynamic shapes), against the float64 reference.

torch is not in Debian's python: scripts/test.sh runs this file with bench/.venv's python
(which has torch); without torch every test here is skipped with that reason."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="torch is not installed for this python; scripts/test.sh runs these tests "
    "with bench/.venv/bin/python (bash bench/cpu/run.sh creates it)")

import attn_mlir as am  # noqa: E402
from attn_mlir import reference as ref  # noqa: E402
from api_cache import cache  # noqa: E402,F401 - the module's cache
from docs_blocks import code_blocks, run_python_blocks  # noqa: E402
from helpers import assert_close  # noqa: E402



def softcap(s, b, h, i, j):
    return 10.0 * am.tanh(s / 10.0)


def causal_softcap():
    q, k, v = (am.tensor(n, (None, 2, None, 8)) for n in "qkv")
    return am.compile(am.sdpa(q, k, v, pattern=am.causal(), score_mod=softcap))


def expected(q, k, v):
    return ref.sdpa(q.numpy(), k.numpy(), v.numpy(), pattern=am.causal(), score_mod=softcap)


def test_cpu_tensors_in_and_out_without_copies():
    f = causal_softcap()
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, 9, 8) for _ in range(3))
    # A CPU tensor reaches the compiled code as a view of its own storage.
    assert f.entry._convert(f.entry.args[0], q).ctypes.data == q.data_ptr()
    out = f(q, k, v)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.shape == (2, 2, 9, 8)
    # The output tensor is the numpy array over the library's buffer.
    assert out.numpy().base is not None
    assert_close(out.numpy(), expected(q, k, v))


def test_torch_bf16_tensors_round_trip():
    q, k, v = (am.tensor(n, (1, 2, 6, 8), "bf16") for n in "qkv")
    f = am.compile(am.sdpa(q, k, v))
    torch.manual_seed(1)
    Q, K, V = (torch.randn(1, 2, 6, 8).to(torch.bfloat16) for _ in range(3))
    out = f(Q, K, V)
    assert out.dtype == torch.bfloat16
    assert_close(out.float().numpy(), ref.sdpa(Q.float().numpy(), K.float().numpy(),
                                               V.float().numpy()), ref.TOLERANCE["bf16"])


def test_custom_op_eager_and_opcheck():
    op = am.torch_op(causal_softcap())
    assert am.torch_op(causal_softcap()) is op
    torch.manual_seed(2)
    q, k, v = (torch.randn(1, 2, 11, 8) for _ in range(3))
    assert_close(op(q, k, v).numpy(), expected(q, k, v))
    # Schema, fake-tensor implementation, and dispatch under AOT autograd (dynamic shapes).
    torch.library.opcheck(op, (q, k, v), test_utils=(
        "test_schema", "test_faketensor", "test_aot_dispatch_dynamic"))


class Block(torch.nn.Module):
    """Projections around the compiled attention."""

    def __init__(self, op):
        super().__init__()
        self.op = op
        self.proj = torch.nn.Linear(8, 8)

    def forward(self, x):
        y = self.proj(x)
        return self.op(y, y, y) + x


def test_custom_op_in_torch_compile_every_length_one_graph():
    op = am.torch_op(causal_softcap())
    torch.manual_seed(3)
    model = Block(op).eval()
    counts = {"graphs": 0}

    def backend(gm, example_inputs):
        counts["graphs"] += 1
        from torch._dynamo.backends.common import aot_autograd
        return aot_autograd(fw_compiler=lambda g, _: g)(gm, example_inputs)

    compiled = torch.compile(model, backend=backend, fullgraph=True, dynamic=True)
    with torch.no_grad():
        for n in (5, 12, 31):
            x = torch.randn(1, 2, n, 8)
            out = compiled(x)
            y = model.proj(x)
            assert_close(out.numpy(), expected(y, y, y) + x.numpy().astype(np.float64))
    assert counts["graphs"] == 1


def test_ir_text_with_dynamic_results_needs_out_shapes():
    q, k, v = (am.tensor(n, (1, 2, None, 8)) for n in "qkv")
    f = am.compile(am.sdpa(q, k, v).to_mlir())  # IR text: no shape rule
    with pytest.raises(ValueError, match="out_shapes"):
        am.torch_op(f)
    op = am.torch_op(f, name="sdpa_text", out_shapes=lambda s: [s[0][:3] + s[2][3:]])
    torch.manual_seed(4)
    Q, K, V = (torch.randn(1, 2, 7, 8) for _ in range(3))
    assert_close(op(Q, K, V).numpy(), ref.sdpa(Q.numpy(), K.numpy(), V.numpy()))
    torch.library.opcheck(op, (Q, K, V), test_utils=("test_schema", "test_faketensor"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA driver or GPU here")
def test_cuda_tensors_through_the_cuda_artifact():
    q, k, v = (am.tensor(n, (1, 2, None, 64)) for n in "qkv")
    f = am.compile(am.sdpa(q, k, v, pattern=am.causal()), target="cuda")
    Q, K, V = (torch.randn(1, 2, 64, 64, device="cuda") for _ in range(3))
    out = f(Q, K, V)
    assert out.device.type == "cuda"
    assert_close(out.cpu().numpy(), ref.sdpa(Q.cpu().numpy(), K.cpu().numpy(),
                                             V.cpu().numpy(), pattern=am.causal()),
                 ref.TOLERANCE["f32_fused"])


def test_quick_start_blocks_run_with_torch():
    """docs/Python.md, every python block, the torch ones included."""
    assert run_python_blocks("Python.md", with_torch=True) == len(code_blocks("Python.md",
                                                                               "python"))
