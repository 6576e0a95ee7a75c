"""Builds attn IR text for one op wrapped in a function (tests, examples, users).

``sdpa``, ``lsh``, ``cluster``, ``lowrank``, ``kernelized``, ``pkm`` and ``lightconv`` return
a ``Spec`` over named ``Tensor``s (``tensor("q", (None, 8, None, 64))``) whose output the
function allocates, for ``attn_mlir.compile``; ``str(spec)`` is its attn IR. ``sdpa_func``
is the text of an ``attn.sdpa`` function with the outs operand as argument ``%o``, for
``attn_mlir.run.run``. Function arguments are named after the operands, so inputs can be
passed by those names.
"""


def tensor_type(shape, dtype):
    """``tensor<2x?x8xf32>`` from a shape whose dynamic dims are ``None`` (or ``"?"``)."""
    dims = ["?" if d is None or d == "?" else str(int(d)) for d in shape]
    return "tensor<" + "x".join(dims + [dtype]) + ">"


def sdpa_func(q, k, v, *, pattern=None, mask=None, bias=None, memory=None, positions=None,
              span=None, ramp=None, max_span=None, scale=None, score_mod=None, lse=False,
              segments=None, mask_mod=None, blocks=None, full_blocks=None, block_size=None,
              name="main"):
    """An ``attn.sdpa`` in a function whose outs operand is the argument ``%o`` (the form
    attn-run and the tests feed), from ``(shape, dtype)`` pairs.

    ``q``, ``k``, ``v``, ``mask``, ``bias`` are ``(shape, dtype)`` pairs (dtype as MLIR
    spells it: ``f32``, ``f16``, ``bf16``, ``i1``); ``memory`` and ``positions`` are pairs of
    such pairs, and so is ``segments`` (document ids ``%qseg``, ``%kseg``); ``span`` is one.
    ``pattern`` is a ``Pattern`` or attribute text.
    ``score_mod`` is the body of the region: MLIR ops over ``%s, %b, %h, %i, %j`` ending
    with ``attn.yield``; ``mask_mod`` likewise over ``%b, %h, %i, %j``. ``blocks`` and
    ``full_blocks`` are pairs (counts, indices) with ``block_size = (BQ, BK)``. The arguments
    are ``%q, %k, %v, %o, %mask, %bias, %mk, %mv, %qpos, %kpos, %span, %qseg, %kseg, %kvn,
    %kvi, %fkvn, %fkvi`` (those given, in this order).
    """
    def arg(name, pair):
        return None if pair is None else Tensor(name, *pair)

    tq, tk, tv = arg("q", q), arg("k", k), arg("v", v)
    out = Tensor("o", [tq.shape[0], tq.shape[1], tq.shape[2], tv.shape[3]], tv.dtype)
    return sdpa(tq, tk, tv, pattern=pattern, mask=arg("mask", mask), bias=arg("bias", bias),
                memory=memory and (arg("mk", memory[0]), arg("mv", memory[1])),
                positions=positions and (arg("qpos", positions[0]), arg("kpos", positions[1])),
                span=arg("span", span),
                segments=segments and (arg("qseg", segments[0]), arg("kseg", segments[1])),
                blocks=blocks and (arg("kvn", blocks[0]), arg("kvi", blocks[1])),
                full_blocks=full_blocks and (arg("fkvn", full_blocks[0]),
                                             arg("fkvi", full_blocks[1])),
                block_size=block_size, ramp=ramp, max_span=max_span, scale=scale,
                score_mod=score_mod, mask_mod=mask_mod, lse=lse, name=name,
                out=out).to_mlir()


# ------------------------------------------------------------------------------------------
# Specs: one op in a function whose arguments are ``Tensor``s and whose output is allocated
# by the function (``tensor.empty``), for ``attn_mlir.compile``.

class Tensor:
    """A named argument of a spec: ``tensor("q", (1, 8, None, 64), "f32")``; ``None`` marks a
    dynamic dimension. Indexed with traced integers inside a score_mod it reads one element."""

    def __init__(self, name, shape, dtype="f32"):
        if not str(name).isidentifier():
            raise ValueError(f"tensor name {name!r} must be an identifier")
        self.name, self.shape, self.dtype = str(name), tuple(shape), dtype
        self.mlir_type = tensor_type(self.shape, dtype)

    def __repr__(self):
        return f"%{self.name}: {self.mlir_type}"

    def __getitem__(self, indices):
        from .scoremod import read_element
        return read_element(self, indices if isinstance(indices, tuple) else (indices,))


def tensor(name, shape, dtype="f32"):
    """A spec argument (see ``Tensor``)."""
    return Tensor(name, shape, dtype)


class Spec:
    """A function ``@name`` holding one attn op, its arguments and its results.

    ``results`` lists ``(dims, dtype)`` with every dim an int or ``(Tensor, axis)``: the
    output shape as a rule over the argument shapes (``result_shapes``). ``str(spec)`` is the
    attn IR."""

    def __init__(self, name, args, results, op_lines, empty_init=True):
        self.name, self.args, self.results = name, list(args), list(results)
        self._op_lines = op_lines
        # Whether the op's outs operand is %init = tensor.empty (else an argument).
        self._empty_init = empty_init

    def result_shapes(self, arg_shapes):
        """The shapes of the results for arguments of ``arg_shapes`` (in argument order)."""
        shapes = []
        for dims, _ in self.results:
            # No int(): torch's symbolic sizes stay symbolic under torch.compile.
            shapes.append(tuple(d if isinstance(d, int) else
                                arg_shapes[self.args.index(d[0])][d[1]] for d in dims))
        return shapes

    def result_types(self):
        return [tensor_type([d if isinstance(d, int) else d[0].shape[d[1]] for d in dims], dt)
                for dims, dt in self.results]

    def has_outs_argument_form(self):
        """Whether ``to_mlir(outs_argument=True)`` exists: one result, allocated by the
        function."""
        return self._empty_init and len(self.results) == 1

    def to_mlir(self, outs_argument=False):
        """The attn IR. With ``outs_argument`` (see ``has_outs_argument_form``) the result is
        written into a last argument ``%init`` instead of a ``tensor.empty`` (the form that
        ``attn-compile --gpu-abi=device`` needs)."""
        lines = []
        constants = {}
        for dims, dtype in self.results[:1] if self._empty_init and not outs_argument else ():
            dynamic = []
            for d in dims:
                if isinstance(d, int) or d[0].shape[d[1]] not in (None, "?"):
                    continue
                if d[1] not in constants:
                    constants[d[1]] = f"%c{d[1]}"
                    lines.append(f"%c{d[1]} = arith.constant {d[1]} : index")
                lines.append(f"%dim{len(dynamic)} = tensor.dim %{d[0].name}, %c{d[1]} : "
                             f"{d[0].mlir_type}")
                dynamic.append(f"%dim{len(dynamic)}")
            lines.append(f"%init = tensor.empty({', '.join(dynamic)}) : "
                         f"{self.result_types()[0]}")
        lines += self._op_lines
        types = self.result_types()
        names = ", ".join(f"%r{i}" for i in range(len(types)))
        signature = ", ".join([repr(a) for a in self.args] +
                              ([f"%init: {types[0]}"] if outs_argument else []))
        body = "\n".join("  " + line for line in lines)
        return (f"func.func @{self.name}({signature}) -> ({', '.join(types)}) {{\n{body}\n"
                f"  return {names} : {', '.join(types)}\n}}\n")

    __str__ = to_mlir


def _attrs(items):
    """``{a = 1, b}`` of the (name, text-or-True) pairs whose value is not None, or ""."""
    parts = [name if text is True else f"{name} = {text}" for name, text in items
             if text is not None and text is not False]
    return "{" + ", ".join(parts) + "} " if parts else ""


def _f32(value):
    return None if value is None else f"{float(value)!r} : f32"


def _operands(*tensors):
    return (", ".join(f"%{t.name}" for t in tensors) + " : "
            + ", ".join(t.mlir_type for t in tensors))


def _out(q, v, dtype=None):
    """The dims ``[q0, q1, q2, v3]`` and v's element type: most ops' output."""
    return [(q, 0), (q, 1), (q, 2), (v, 3)], dtype or v.dtype


def _dims_type(dims):
    return tensor_type([d if isinstance(d, int) else d[0].shape[d[1]] for d in dims[0]],
                       dims[1])


def _unique(tensors):
    seen = []
    for t in tensors:
        if t is not None and t not in seen:
            seen.append(t)
    names = [t.name for t in seen]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"two different spec tensors are named {sorted(duplicates)}")
    return seen


def _single(name, op, args, out, lines_fn):
    ot = _dims_type(out)
    return Spec(name, _unique(args), [out],
                [f"%r0 = {op} {lines_fn(ot)}-> {ot}"])


def _region_text(body):
    """The score_mod region around ``body``: MLIR ops over ``%s, %b, %h, %i, %j``."""
    return ("score_mod {\n  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):\n"
            + body + "\n  }")


def _mask_mod_text(body):
    """The mask_mod region around ``body``: MLIR ops over ``%b, %h, %i, %j``."""
    return ("mask_mod {\n  ^bb0(%b: index, %h: index, %i: index, %j: index):\n"
            + body + "\n  }")


def sdpa(q, k, v, *, pattern=None, mask=None, bias=None, memory=None, positions=None,
         span=None, ramp=None, max_span=None, scale=None, score_mod=None, lse=False,
         segments=None, mask_mod=None, blocks=None, full_blocks=None, block_size=None,
         name="main", out=None):
    """A spec of ``attn.sdpa`` (docs/Semantics.md §2) over ``Tensor``s.

    ``pattern``: a ``Pattern`` (``window(256) | global_tokens(64)``) or attribute text;
    ``mask``, ``bias``, ``span``: Tensors; ``memory``, ``positions``, ``segments`` (document
    ids): pairs of Tensors;
    ``score_mod``: a Python function ``(s, b, h, i, j) -> score`` traced into the region
    (``attn_mlir.scoremod``), or the region's body as MLIR text over ``%s, %b, %h, %i, %j``.
    ``mask_mod``: the body of the mask_mod region as MLIR text over ``%b, %h, %i, %j``
    ending in ``attn.yield %x : i1``. ``blocks``, ``full_blocks``: pairs of i32 Tensors
    (counts, indices) of a block layout with ``block_size = (BQ, BK)``.
    With ``lse`` the spec returns ``(o, lse)``. ``out``: a Tensor argument (after ``v``) as
    the outs operand, instead of an output allocated by the function."""
    from .scoremod import trace
    if score_mod is None:
        region, captured = "", []
    elif isinstance(score_mod, str):
        region, captured = _region_text(score_mod), []
    else:
        region, captured = trace(score_mod)
    clauses = []
    if mask is not None:
        clauses.append(f"mask({_operands(mask)})")
    if bias is not None:
        clauses.append(f"bias({_operands(bias)})")
    if memory is not None:
        clauses.append(f"memory({_operands(*memory)})")
    if positions is not None:
        clauses.append(f"positions({_operands(*positions)})")
    if span is not None:
        clauses.append(f"span({_operands(span)})")
    if segments is not None:
        clauses.append(f"segments({_operands(*segments)})")
    if blocks is not None:
        clauses.append(f"blocks({_operands(*blocks)})")
    if full_blocks is not None:
        clauses.append(f"full_blocks({_operands(*full_blocks)})")
    if pattern is not None:
        clauses.append(f"pattern({pattern if isinstance(pattern, str) else pattern.to_mlir()})")
    attrs = _attrs([("scale", _f32(scale)), ("ramp", _f32(ramp)),
                    ("max_span", _f32(max_span)),
                    ("block_size", block_size and
                     f"array<i64: {int(block_size[0])}, {int(block_size[1])}>")])
    if attrs:
        clauses.append(attrs.strip())
    if region:
        clauses.append(region)
    if mask_mod is not None:
        clauses.append(_mask_mod_text(mask_mod))
    results = [_out(q, v)] + ([([(q, 0), (q, 1), (q, 2)], "f32")] if lse else [])
    types = [_dims_type(r) for r in results]
    names = "%r0, %r1" if lse else "%r0"
    init = "%init" if out is None else f"%{out.name}"
    line = (f"{names} = attn.sdpa ins({_operands(q, k, v)}) outs({init} : {types[0]})\n"
            f"      " + " ".join(clauses) + f"\n      -> {', '.join(types)}")
    args = [q, k, v, out, mask, bias, *(memory or ()), *(positions or ()), span,
            *(segments or ()), *(blocks or ()), *(full_blocks or ()), *captured]
    return Spec(name, _unique(args), results, [line], empty_init=out is None)


def lsh(qk, v, rotations, *, num_buckets, chunk_size, look_back=1, look_ahead=0,
        causal=False, scale=None, name="main"):
    """A spec of ``attn.lsh`` (Reformer; docs/Semantics.md §4)."""
    attrs = _attrs([("num_buckets", num_buckets), ("chunk_size", chunk_size),
                    ("look_back", look_back), ("look_ahead", look_ahead),
                    ("causal", bool(causal)), ("scale", _f32(scale))])
    out = ([(qk, 0), (qk, 1), (qk, 2), (v, 3)], v.dtype)
    return _single(name, "attn.lsh", [qk, v, rotations], out, lambda ot:
                   f"ins({_operands(qk, v, rotations)}) outs(%init : {ot}) {attrs}")


def cluster(q, k, v, centroids, *, window, causal=False, scale=None, name="main"):
    """A spec of ``attn.cluster`` (Routing Transformer); ``k`` may be ``q`` (shared)."""
    attrs = _attrs([("window", window), ("causal", bool(causal)), ("scale", _f32(scale))])
    return _single(name, "attn.cluster", [q, k, v, centroids], _out(q, v), lambda ot:
                   f"ins({_operands(q, k, v, centroids)}) outs(%init : {ot}) {attrs}")


def lowrank(q, k, v, e, f=None, *, scale=None, name="main"):
    """A spec of ``attn.lowrank`` (Linformer): projections ``e`` (and ``f``)."""
    projections = _operands(e) if f is None else f"%{e.name} : {e.mlir_type}, " \
        f"%{f.name} : {f.mlir_type}"
    attrs = _attrs([("scale", _f32(scale))])
    return _single(name, "attn.lowrank", [q, k, v, e, f], _out(q, v), lambda ot:
                   f"ins({_operands(q, k, v)})\n      projections({projections}) "
                   f"outs(%init : {ot}) {attrs}")


def kernelized(q, k, v, feature_map, *, projection=None, causal=False, name="main"):
    """A spec of ``attn.kernelized`` (Performer / linear transformer); ``feature_map`` is
    ``favor_plus`` (with ``projection``), ``elu_plus_one`` or ``relu``."""
    proj = "" if projection is None else f"projection({_operands(projection)}) "
    attrs = _attrs([("causal", bool(causal))])
    return _single(name, "attn.kernelized", [q, k, v, projection], _out(q, v), lambda ot:
                   f"{feature_map} ins({_operands(q, k, v)})\n      {proj}"
                   f"outs(%init : {ot}) {attrs}")


def pkm(q, subkeys1, subkeys2, values, *, top_k, name="main"):
    """A spec of ``attn.pkm`` (product-key memory): output ``[B, H, N, Dv]``."""
    out = ([(q, 0), (q, 1), (q, 2), (values, 1)], values.dtype)
    return _single(name, "attn.pkm", [q, subkeys1, subkeys2, values], out, lambda ot:
                   f"ins({_operands(q, subkeys1, subkeys2, values)}) outs(%init : {ot}) "
                   + _attrs([("top_k", top_k)]))


def lightconv(x, weight, *, causal=False, normalize=None, name="main"):
    """A spec of ``attn.lightconv`` (lightweight convolution): output shaped like ``x``."""
    norm = None if normalize is None else ("true" if normalize else "false")
    attrs = _attrs([("causal", bool(causal)), ("normalize", norm)])
    out = ([(x, 0), (x, 1), (x, 2)], x.dtype)
    return _single(name, "attn.lightconv", [x, weight], out, lambda ot:
                   f"ins({_operands(x, weight)}) outs(%init : {ot}) {attrs}")
