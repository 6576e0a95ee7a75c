"""A compiled spec as a torch custom op (``torch.library``), usable inside ``torch.compile``.

    f = attn_mlir.compile(spec)
    op = attn_mlir.torch_op(f)             # torch.ops.attn_mlir.spec_<hash>
    o = op(q, k, v)                        # eager, or inside a torch.compile'd model

The op's fake (meta) implementation gives the output shapes from the builder's shape rule
(``Spec.result_shapes``), from the IR's static result types, or from ``out_shapes``
(a function from the list of argument shapes to the list of result shapes) for IR text with dynamic results; it keeps torch's
symbolic sizes symbolic, so one graph serves every length. The op has no autograd formula
(forward only).
"""

import torch

_TORCH_DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16,
                 "bf16": torch.bfloat16, "i1": torch.bool, "i8": torch.int8,
                 "i32": torch.int32, "i64": torch.int64}
_OPS = {}


def torch_op(compiled, name=None, out_shapes=None):
    """Registers (once per compiled spec and name) and returns the custom op running
    ``compiled``; ``name`` defaults to ``spec_<key>`` in the ``attn_mlir`` namespace."""
    key = (compiled.directory, name)
    if key in _OPS:
        return _OPS[key]
    qualname = f"attn_mlir::{name or 'spec_' + compiled.directory.rstrip('/')[-12:]}"
    dtypes = [_TORCH_DTYPES[d] for d in compiled.result_dtypes()]
    shape_rule = out_shapes or compiled.result_shapes
    if out_shapes is None and shape_rule([a["shape"] for a in compiled.entry.args]) is None:
        raise ValueError(f"{compiled!r}: the result shapes depend on the argument shapes in a "
                         "way the IR does not say; pass out_shapes=lambda shapes: [...] "
                         "(the result shapes from the list of argument shapes)")
    args = ", ".join(f"Tensor {n}" for n in compiled.arg_names)
    results = "Tensor" if len(dtypes) == 1 else "(" + ", ".join(["Tensor"] * len(dtypes)) + ")"

    def run(*tensors):
        outs = compiled(*(t.contiguous() for t in tensors))
        outs = outs if isinstance(outs, tuple) else (outs,)
        # An output must not alias an input (it can when the IR writes into an argument).
        inputs = {t.untyped_storage().data_ptr() for t in tensors}
        outs = tuple(o.clone() if o.untyped_storage().data_ptr() in inputs else o for o in outs)
        return outs[0] if len(outs) == 1 else outs

    def fake(*tensors):
        shapes = shape_rule([tuple(t.shape) for t in tensors])
        device = tensors[0].device if tensors else None
        outs = tuple(tensors[0].new_empty(s, dtype=d, device=device)
                     for s, d in zip(shapes, dtypes))
        return outs[0] if len(outs) == 1 else outs

    op = torch.library.custom_op(qualname, run, mutates_args=(),
                                 schema=f"({args}) -> {results}")
    op.register_fake(fake)
    _OPS[key] = op
    return op
