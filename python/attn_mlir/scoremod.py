"""Traces a Python score function into the ``score_mod`` region of ``attn.sdpa``.

A score function takes ``(s, b, h, i, j)`` -- the scaled score, the batch, the query head and
the positions ``qpos_i``, ``kpos_j`` -- and returns the new score (docs/Semantics.md §2). While
tracing, the arguments are symbolic ``Value``s: Python arithmetic, comparisons and the
functions of this module (``where``, ``exp``, ``tanh``, ...) on them emit arith and math ops.
The same functions work on numpy arrays, so one Python function serves both the compiled spec
and the float64 reference (``reference.sdpa(..., score_mod=fn)``)::

    def softcap(s, b, h, i, j):
        return 30.0 * tanh(s / 30.0)

Integers (``b``, ``h``, ``i``, ``j`` and Python ints) are signed 64-bit; mixing them with a
float converts them to f32. ``//`` and ``%`` are Python's (floor division, remainder with the
sign of the divisor). A traced condition cannot steer Python's ``if``: use ``where``. A
``Tensor`` of the builder indexed with traced integers reads one element
(``tensor.extract``), for learned relative biases; it becomes an argument of the spec.
Every op carries the location of the Python line that made it, so a verifier error points
there.
"""

import math
import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

__all__ = ["Value", "trace", "where", "exp", "log", "tanh", "sqrt", "erf", "sin", "cos",
           "maximum", "minimum", "to_float"]


class Tracer:
    """Collects the lines of one region body; ``captured`` lists the tensors it reads."""

    def __init__(self):
        self.lines = []
        self.captured = []
        self._count = 0
        self._constants = {}

    def fresh(self):
        self._count += 1
        return f"%sm{self._count}"

    def emit(self, text, type_):
        """Emits ``%new = text`` with the caller's Python location; returns its Value."""
        name = self.fresh()
        self.lines.append(f"{name} = {text} {_location()}")
        return Value(self, name, type_)

    def constant(self, number, type_):
        key = (repr(number), type_)
        if key not in self._constants:
            literal = repr(float(number)) if type_ == "f32" else str(int(number))
            if type_ == "f32" and not math.isfinite(number):
                bits = np.array(number, dtype=np.float32).view(np.uint32)
                literal = f"0x{int(bits):08X}"
            self._constants[key] = self.emit(f"arith.constant {literal} : {type_}", type_)
        return self._constants[key]


def _location():
    """``loc("file.py":line:0)`` of the innermost frame outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
    if frame is None:
        return ""
    path = frame.f_code.co_filename.replace("\\", "\\\\").replace('"', '\\"')
    return f'loc("{path}":{frame.f_lineno}:0)'


def _is_value(x):
    return isinstance(x, Value)


class Value:
    """A traced scalar: an SSA name and its type (``f32``, ``i64`` or ``i1``)."""

    __hash__ = object.__hash__

    def __init__(self, tracer, name, type_):
        self.tracer, self.name, self.type = tracer, name, type_

    def __repr__(self):
        return f"Value({self.name}: {self.type})"

    def __bool__(self):
        raise TypeError("a traced score_mod value has no Python truth value: use "
                        "attn_mlir.where(cond, a, b) instead of if / and / or")

    # -- conversions ---------------------------------------------------------------------
    def _lift(self, other):
        """``other`` (a Value or a Python number) as a Value of this tracer; a Python int
        next to a float becomes an f32 constant."""
        if _is_value(other):
            return other
        if self.type == "f32" and isinstance(other, (int, np.integer)) and \
                not isinstance(other, (bool, np.bool_)):
            return self.tracer.constant(float(other), "f32")
        if isinstance(other, (bool, np.bool_)):
            return self.tracer.constant(int(other), "i1")
        if isinstance(other, (int, np.integer)):
            return self.tracer.constant(int(other), "i64")
        if isinstance(other, (float, np.floating)):
            return self.tracer.constant(float(other), "f32")
        raise TypeError(f"cannot use {type(other).__name__} in a traced score_mod")

    def as_float(self):
        if self.type == "f32":
            return self
        if self.type == "i64":
            return self.tracer.emit(f"arith.sitofp {self.name} : i64 to f32", "f32")
        raise TypeError("a condition (i1) cannot be used as a number: use where()")

    def _pair(self, other, reverse=False):
        a, b = self, self._lift(other)
        if reverse:
            a, b = b, a
        if "i1" in (a.type, b.type):
            raise TypeError("a condition (i1) cannot be used as a number: use where()")
        if a.type != b.type:
            a, b = a.as_float(), b.as_float()
        return a, b

    # -- arithmetic ----------------------------------------------------------------------
    def _arith(self, other, fop, iop, reverse=False):
        a, b = self._pair(other, reverse)
        op = fop if a.type == "f32" else iop
        return self.tracer.emit(f"arith.{op} {a.name}, {b.name} : {a.type}", a.type)

    def __add__(self, o): return self._arith(o, "addf", "addi")
    def __radd__(self, o): return self._arith(o, "addf", "addi", True)
    def __sub__(self, o): return self._arith(o, "subf", "subi")
    def __rsub__(self, o): return self._arith(o, "subf", "subi", True)
    def __mul__(self, o): return self._arith(o, "mulf", "muli")
    def __rmul__(self, o): return self._arith(o, "mulf", "muli", True)

    def _truediv(self, other, reverse=False):
        a, b = self._pair(other, reverse)
        a, b = a.as_float(), b.as_float()
        return self.tracer.emit(f"arith.divf {a.name}, {b.name} : f32", "f32")

    def __truediv__(self, o): return self._truediv(o)
    def __rtruediv__(self, o): return self._truediv(o, True)

    def _floordiv(self, other, reverse=False):
        a, b = self._pair(other, reverse)
        if a.type != "i64":
            raise TypeError("// is defined on integers only in a traced score_mod")
        return self.tracer.emit(f"arith.floordivsi {a.name}, {b.name} : i64", "i64")

    def __floordiv__(self, o): return self._floordiv(o)
    def __rfloordiv__(self, o): return self._floordiv(o, True)

    def _mod(self, other, reverse=False):
        a, b = self._pair(other, reverse)
        if a.type != "i64":
            raise TypeError("% is defined on integers only in a traced score_mod")
        return a - a._floordiv(b) * b

    def __mod__(self, o): return self._mod(o)
    def __rmod__(self, o): return self._mod(o, True)

    def __neg__(self):
        if self.type == "f32":
            return self.tracer.emit(f"arith.negf {self.name} : f32", "f32")
        return 0 - self

    def __pos__(self):
        return self

    def __abs__(self):
        if self.type == "f32":
            return self.tracer.emit(f"math.absf {self.name} : f32", "f32")
        return self.tracer.emit(f"math.absi {self.name} : i64", "i64")

    # -- comparisons and conditions ------------------------------------------------------
    _FPRED = {"<": "olt", "<=": "ole", ">": "ogt", ">=": "oge", "==": "oeq", "!=": "une"}
    _IPRED = {"<": "slt", "<=": "sle", ">": "sgt", ">=": "sge", "==": "eq", "!=": "ne"}

    def _compare(self, other, op):
        a, b = self._pair(other)
        if a.type == "f32":
            text = f"arith.cmpf {self._FPRED[op]}, {a.name}, {b.name} : f32"
        else:
            text = f"arith.cmpi {self._IPRED[op]}, {a.name}, {b.name} : i64"
        return self.tracer.emit(text, "i1")

    def __lt__(self, o): return self._compare(o, "<")
    def __le__(self, o): return self._compare(o, "<=")
    def __gt__(self, o): return self._compare(o, ">")
    def __ge__(self, o): return self._compare(o, ">=")
    def __eq__(self, o): return self._compare(o, "==")
    def __ne__(self, o): return self._compare(o, "!=")

    def _logic(self, other, op):
        b = self._lift(other)
        if self.type != "i1" or b.type != "i1":
            raise TypeError("&, | and ~ combine conditions (comparisons) only")
        return self.tracer.emit(f"arith.{op} {self.name}, {b.name} : i1", "i1")

    def __and__(self, o): return self._logic(o, "andi")
    def __rand__(self, o): return self._logic(o, "andi")
    def __or__(self, o): return self._logic(o, "ori")
    def __ror__(self, o): return self._logic(o, "ori")

    def __invert__(self):
        return self._logic(True, "xori")


def _traced(*args):
    """The first Value among ``args``, or None."""
    return next((a for a in args if _is_value(a)), None)


def _unary(name, numpy_fn):
    def function(x):
        if not _is_value(x):
            return numpy_fn(x)
        x = x.as_float()
        return x.tracer.emit(f"math.{name} {x.name} : f32", "f32")
    function.__name__ = name
    function.__doc__ = f"``math.{name}`` on a traced value, ``numpy`` on arrays."
    return function


exp = _unary("exp", np.exp)
log = _unary("log", np.log)
tanh = _unary("tanh", np.tanh)
sqrt = _unary("sqrt", np.sqrt)
sin = _unary("sin", np.sin)
cos = _unary("cos", np.cos)
erf = _unary("erf", np.vectorize(math.erf, otypes=[np.float64]))


def to_float(x):
    """An integer as a float (``arith.sitofp``), ``float64`` on arrays."""
    return x.as_float() if _is_value(x) else np.asarray(x, dtype=np.float64)


def where(cond, a, b):
    """``arith.select``: ``a`` where ``cond`` holds, else ``b`` (``numpy.where`` on arrays)."""
    v = _traced(cond, a, b)
    if v is None:
        return np.where(cond, a, b)
    cond = v._lift(cond)
    if cond.type != "i1":
        raise TypeError("where() needs a condition (a comparison) as its first argument")
    a, b = v._lift(a)._pair(b)
    return v.tracer.emit(f"arith.select {cond.name}, {a.name}, {b.name} : {a.type}", a.type)


def _extremum(fop, iop, numpy_fn):
    def function(a, b):
        v = _traced(a, b)
        if v is None:
            return numpy_fn(a, b)
        return v._lift(a)._arith(b, fop, iop)
    return function


maximum = _extremum("maximumf", "maxsi", np.maximum)
minimum = _extremum("minimumf", "minsi", np.minimum)
maximum.__doc__ = "Larger of two values (``arith.maximumf`` / ``maxsi``; ``numpy.maximum``)."
minimum.__doc__ = "Smaller of two values (``arith.minimumf`` / ``minsi``; ``numpy.minimum``)."


def read_element(tensor, indices):
    """``tensor[indices]`` while tracing: ``tensor.extract`` at the i64 ``indices``."""
    v = _traced(*indices)
    if v is None:
        raise TypeError(f"indexing the spec tensor '{tensor.name}' needs traced indices "
                        "(inside a score_mod)")
    tracer = v.tracer
    if len(indices) != len(tensor.shape):
        raise IndexError(f"'{tensor.name}' has rank {len(tensor.shape)}, indexed with "
                         f"{len(indices)} indices")
    if tensor not in tracer.captured:
        tracer.captured.append(tensor)
    names = []
    for index in indices:
        index = v._lift(index)
        if index.type != "i64":
            raise TypeError(f"indices of '{tensor.name}' must be integers")
        names.append(tracer.emit(f"arith.index_cast {index.name} : i64 to index", "index").name)
    element = tracer.emit(f"tensor.extract %{tensor.name}[{', '.join(names)}] : "
                          f"{tensor.mlir_type}", tensor.dtype)
    if tensor.dtype == "f32":
        return element
    if tensor.dtype in ("f16", "bf16"):
        return tracer.emit(f"arith.extf {element.name} : {tensor.dtype} to f32", "f32")
    if tensor.dtype == "f64":
        return tracer.emit(f"arith.truncf {element.name} : f64 to f32", "f32")
    raise TypeError(f"score_mod reads float tensors only, '{tensor.name}' is {tensor.dtype}")


def trace(fn):
    """Traces ``fn(s, b, h, i, j)``; returns ``(region text, captured tensors)``."""
    tracer = Tracer()
    s = Value(tracer, "%sm_s", "f32")
    args = [s]
    for name in "bhij":
        args.append(tracer.emit(f"arith.index_cast %sm_{name} : index to i64", "i64"))
    result = fn(*args)
    if not _is_value(result):
        result = s._lift(result)
    if result.tracer is not tracer:
        raise ValueError("score_mod returned a value of another trace")
    result = result.as_float()
    body = "\n".join("    " + line for line in tracer.lines)
    text = ("score_mod {\n  ^bb0(%sm_s: f32, %sm_b: index, %sm_h: index, %sm_i: index, "
            f"%sm_j: index):\n{body}\n    attn.yield {result.name} : f32\n  }}")
    return text, tracer.captured
