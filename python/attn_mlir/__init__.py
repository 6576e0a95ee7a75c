"""attn_mlir: the Python side of attn-mlir.

* ``compile(spec, target="cpu")``: a spec (builder or attn IR text) to an in-process callable
  on numpy arrays and torch tensors, cached in memory and on disk (``compiler``);
  ``attention(q, k, v, pattern=..., score_mod=fn)`` builds, compiles and calls in one go;
* the builder: ``tensor``, ``sdpa``, ``lsh``, ``cluster``, ``lowrank``, ``kernelized``,
  ``pkm``, ``lightconv`` (``builder``); patterns ``window(256) | global_tokens(64)``
  (``patterns``); score_mod functions traced from Python (``scoremod``);
* ``torch_op(compiled)``: a torch.library custom op (``torch_ops``);
* the float64 reference of every op (``reference``).

docs/Python.md is the quick start.
"""
from . import reference
from .builder import (Spec, Tensor, cluster, kernelized, lightconv, lowrank, lsh, pkm, sdpa,
                      tensor)
from .compiler import AttnCompileError, Compiled, Diagnostic, attention, cache_dir, compile
from .patterns import (Pattern, axial, block_local, block_sparse, causal, dense, dilated,
                       fixed, global_tokens, random_blocks, strided, window)
from .scoremod import (cos, erf, exp, log, maximum, minimum, sin, sqrt, tanh, to_float,
                       where)


def torch_op(compiled, name=None, out_shapes=None):
    """A torch.library custom op running ``compiled`` (see ``attn_mlir.torch_ops``)."""
    from .torch_ops import torch_op as make
    return make(compiled, name=name, out_shapes=out_shapes)


__version__ = "0.1.0"
