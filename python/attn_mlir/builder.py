"""Builds attn IR text for one op wrapped in a function (tests, examples, users).

The functions return the text of a ``func.func`` whose arguments are named after the
operands (``%q``, ``%k``, ``%v``, ``%o``, ...), so ``attn_mlir.run.run`` can take its inputs
by those names.
"""


def tensor_type(shape, dtype):
    """``tensor<2x?x8xf32>`` from a shape whose dynamic dims are ``None`` (or ``"?"``)."""
    dims = ["?" if d is None or d == "?" else str(int(d)) for d in shape]
    return "tensor<" + "x".join(dims + [dtype]) + ">"


def sdpa_func(q, k, v, *, pattern=None, mask=None, bias=None, memory=None, positions=None,
              span=None, ramp=None, max_span=None, scale=None, score_mod=None, lse=False,
              segments=None, name="main"):
    """An ``attn.sdpa`` in a function.

    ``q``, ``k``, ``v``, ``mask``, ``bias`` are ``(shape, dtype)`` pairs (dtype as MLIR
    spells it: ``f32``, ``f16``, ``bf16``, ``i1``); ``memory`` and ``positions`` are pairs of
    such pairs, and so is ``segments`` (document ids ``%qseg``, ``%kseg``); ``span`` is one.
    ``pattern`` is a ``Pattern`` or attribute text.
    ``score_mod`` is the body of the region: MLIR ops over ``%s, %b, %h, %i, %j`` ending
    with ``attn.yield``. The outs operand is the argument ``%o``.
    """
    (qs, qt), (ks, kt), (vs, vt) = q, k, v
    out_shape = [qs[0], qs[1], qs[2], vs[3]]
    out = tensor_type(out_shape, vt)
    args = [("q", tensor_type(qs, qt)), ("k", tensor_type(ks, kt)),
            ("v", tensor_type(vs, vt)), ("o", out)]
    clauses = []
    if mask is not None:
        args.append(("mask", tensor_type(*mask)))
        clauses.append(f"mask(%mask : {args[-1][1]})")
    if bias is not None:
        args.append(("bias", tensor_type(*bias)))
        clauses.append(f"bias(%bias : {args[-1][1]})")
    if memory is not None:
        args += [("mk", tensor_type(*memory[0])), ("mv", tensor_type(*memory[1]))]
        clauses.append(f"memory(%mk, %mv : {args[-2][1]}, {args[-1][1]})")
    if positions is not None:
        args += [("qpos", tensor_type(*positions[0])), ("kpos", tensor_type(*positions[1]))]
        clauses.append(f"positions(%qpos, %kpos : {args[-2][1]}, {args[-1][1]})")
    if span is not None:
        args.append(("span", tensor_type(*span)))
        clauses.append(f"span(%span : {args[-1][1]})")
    if segments is not None:
        args += [("qseg", tensor_type(*segments[0])), ("kseg", tensor_type(*segments[1]))]
        clauses.append(f"segments(%qseg, %kseg : {args[-2][1]}, {args[-1][1]})")
    if pattern is not None:
        text = pattern if isinstance(pattern, str) else pattern.to_mlir()
        clauses.append(f"pattern({text})")
    attrs = []
    if scale is not None:
        attrs.append(f"scale = {float(scale)!r} : f32")
    if ramp is not None:
        attrs.append(f"ramp = {float(ramp)!r} : f32")
    if max_span is not None:
        attrs.append(f"max_span = {float(max_span)!r} : f32")
    if attrs:
        clauses.append("{" + ", ".join(attrs) + "}")
    if score_mod is not None:
        clauses.append("score_mod {\n  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):\n"
                       + score_mod + "\n  }")
    results = [out]
    if lse:
        results.append(tensor_type(qs[:3], "f32"))
    signature = ", ".join(f"%{n}: {t}" for n, t in args)
    names = "%r, %lse" if lse else "%r"
    body = (f"  {names} = attn.sdpa ins(%q, %k, %v : {args[0][1]}, {args[1][1]}, {args[2][1]})\n"
            f"       outs(%o : {out}) " + " ".join(clauses) + f"\n       -> {', '.join(results)}\n")
    return (f"func.func @{name}({signature}) -> ({', '.join(results)}) {{\n" + body
            + f"  return {names} : {', '.join(results)}\n}}\n")
