"""attn_mlir: Python side of the attn-mlir project (float64 reference of the attn dialect)."""
from . import reference
