"""The machinery every op shares: derivative table entries, recording a node, type promotion."""
import functools
import inspect
import numbers
import sys

import numpy as np

from .. import _dtype
from .._batching import LEVELS as _vmap_levels, taint as _vmap_taint
from ..autograd.anomaly_mode import _state as _anomaly, store_stack
from ..autograd.graph import (_SHARED, NO_VERSIONS, DualSavedTensor, Node, SavedTensor,
                              SavedTensorList, _sequence, shared)
from ..autograd.forward_ad import _levels, set_tangent
from ..autograd.grad_mode import _local
from ..autograd.saved_hooks import (PackedSlots, _Unpacked, pack_saved, raw_saved,
                                    unpack_all)
from ..tensor import INFERENCE_SAVE_ERROR, Tensor

try:  # NumPy >= 2 keeps its floating-point error state in a context variable
    from numpy._core._ufunc_config import _extobj_contextvar as _fp_errors, _make_extobj
    _FP_IGNORE = _make_extobj(all="ignore")
except ImportError:  # pragma: no cover - older NumPy
    class _fp_errors:
        set = staticmethod(lambda _: np.seterr(all="ignore"))
        reset = staticmethod(lambda old: np.seterr(**old))
    _FP_IGNORE = None

RESULT = object()  # stands for the op's output in a ``saved`` tuple
NO_EDGE = (None, 0)
GRAD_FNS = {}  # grad_fn class name -> the latest class ``derivative`` declared under that name
GRAD_FNS_BY_INPUTS = {}  # (name, input count) -> the same (cat, stack have a class per count)


class JointPart:
    """One input's share of a formula that computes several inputs' gradients in one call, as
    derivatives.yaml's ``A, B: f(...)`` lines do: ``fn(grad, ..., *, needs)`` returns a gradient
    (or None) per input, ``needs`` saying which inputs want one (PyTorch's grad_input_mask). A
    node has one such formula; ``array_fn``, if given, is its NumPy form (see derivative).
    ``shows`` names the values this input's gradient depends on, which the stepper's panel lists
    (None: all of fn's)."""
    __slots__ = ("fn", "array_fn", "index", "count", "__code__", "shows")

    def __init__(self, fn, array_fn, index, count, shows=None):
        self.fn, self.array_fn, self.index, self.count = fn, array_fn, index, count
        self.__code__ = fn.__code__
        self.shows = shows

    def __call__(self, *args):
        """This input's gradient alone."""
        needs = tuple(i == self.index for i in range(self.count))
        return self.fn(*args, needs=needs)[self.index]


def joint(fn, count, array_fn=None, shows=None):
    """The formulas of ``count`` inputs whose gradients ``fn`` computes together (JointPart);
    ``shows``: per input, the values the panel lists for it."""
    return tuple(JointPart(fn, array_fn, i, count, shows and shows[i]) for i in range(count))


def derivative(name, inputs, saves=(), attrs=(), num_outputs=1, hidden=(), broadcasts=(),
               **formulas):
    """Declare a grad_fn class, as PyTorch's derivatives.yaml declares one per overload.

    ``inputs`` names the differentiable inputs in order; ``saves`` the tensors kept for backward
    (``result`` is the output); ``attrs`` the non-tensor values kept. Each input has a formula
    ``(text, fn)``: fn takes ``grad`` (a tuple ``grads`` when the node has several outputs) and,
    by parameter name, the saved values it needs; it is written with gradlab ops, so
    ``create_graph=True`` differentiates it again. Only what a needed formula uses is saved.
    A formula may add ``array_fn``, the same arithmetic on NumPy values (``(text, fn,
    array_fn)``): with no graph to record, backward runs it without a Tensor per intermediate,
    as PyTorch runs its backward kernels (tests/test_array_formulas.py holds the two equal).
    A NumPy form may take a keyword ``out``: when its input is the only one that needs a
    gradient, it gets the gradient's own array if nothing but the engine holds it (and no hook
    of the node will read it), and may write its result there (or ignore it), so that a large
    tensor's backward touches less fresh memory (each fresh page costs a page fault). A NumPy
    form may return a saved array itself (1 expanded times ``other`` is ``other``): the engine
    passes it on uncopied only where no one else sees the gradient (_engine_sees_only).
    ``num_outputs=0`` declares a node with a variable number of outputs (unbind, split): its
    formulas get the list ``grads``, with zeros where an output received no gradient.
    ``hidden`` attrs are kept for the formulas but, as in PyTorch, have no ``_saved_`` property.
    ``broadcasts`` names the inputs that broadcast to the output's shape (True: all of them):
    their formulas give a gradient of the output's shape, which the engine sums back to the
    input's shape (the stepper's panel says so).
    ``result`` is the forward derivative (PyTorch's ``result:`` line), ``(text, fn)``: fn takes,
    by parameter name, ``<input>_t`` (an input's tangent, zeros if it has none), the inputs,
    ``result`` (the output) and the saved values and attrs (None: the output has no tangent);
    or ``"element_wise"``, the backward
    formula of the only input with the tangent as ``grad`` (PyTorch's auto_element_wise).
    """
    names = saves + attrs + hidden
    forward = _forward_formula(formulas.pop("result", None), inputs, names, formulas)
    table = []
    arrays = []
    for inp in inputs:
        text, fn, *array_fn = formulas[inp]
        params = fn.__code__.co_varnames[1:fn.__code__.co_argcount]
        table.append((fn, tuple(names.index(p) for p in params), text))
        arrays.append(array_fn[0] if array_fn else getattr(fn, "array_fn", None))
    cls = type(name, (Node,), {
        "__slots__": (), "__module__": "builtins", "num_outputs": num_outputs,
        "_multi": num_outputs == 0,
        "_inputs": inputs, "_slot_names": names, "_n_saves": len(saves),
        "_broadcasts": tuple(i for i, inp in enumerate(inputs)
                             if broadcasts is True or inp in broadcasts),
        "_formulas": tuple(table), "_forward": forward,
        "_order": _formula_order(inputs),
        "_array_formulas": tuple(arrays) if any(arrays) else None,
        "_into_grad": tuple(map(_takes_out, arrays)) if any(map(_takes_out, arrays)) else None,
        "_uses": tuple(frozenset(i for i in idx if i < len(saves)) for _, idx, _ in table),
    })
    for i, n in enumerate(saves + attrs):
        setattr(cls, "_saved_" + n, property(
            (lambda node, i=i: node._unpack_for_user(i)) if i < len(saves)
            else (lambda node, i=i: node._attrs[i - len(saves)]) if n in SCALAR_ATTRS
            else (lambda node, i=i: _unsigned(node._attrs[i - len(saves)]))))
    for i, n in enumerate(saves):
        setattr(cls, "_raw_saved_" + n, property(lambda node, i=i: raw_saved(node, i)))
    cls.apply = _apply
    # lets the widgets find formula texts for torch nodes of the same name and input count
    GRAD_FNS[name] = GRAD_FNS_BY_INPUTS[name, len(inputs)] = cls
    return cls


def _takes_out(fn):
    """True if a formula's NumPy form takes the keyword ``out`` (see derivative)."""
    code = getattr(fn, "__code__", None)
    return code is not None and "out" in code.co_varnames[
        code.co_argcount:code.co_argcount + code.co_kwonlyargcount]


def _forward_formula(result, inputs, names, formulas):
    """``(text, fn, sources)``: where each of fn's parameters comes from when the op runs;
    ``fn`` is None for "element_wise" and "reduction", which use the backward formulas."""
    if result is None:
        return None
    if result in ("element_wise", "reduction"):
        texts = (formulas[inp][0].replace("grad", "ones" if result == "reduction" else inp + "_t")
                 for inp in inputs)
        text = " + ".join(f"Σ ({t}) · {inp}_t" if result == "reduction" else t
                          for t, inp in zip(texts, inputs))
        return text, None, result
    text, fn = result
    sources = []
    for p in fn.__code__.co_varnames[:fn.__code__.co_argcount]:
        if p.endswith("_t") and p[:-2] in inputs:
            sources.append(("t", inputs.index(p[:-2])))
        elif p == "tangents":
            sources.append(("ts", 0))
        elif p == "result" and p not in names:
            sources.append(("r", 0))
        elif p in names:
            sources.append(("s", names.index(p)))
        else:
            sources.append(("p", inputs.index(p)))
    return text, fn, tuple(sources)


def _formula_order(inputs):
    """The order PyTorch's generated code runs the formulas in: by input name, a list's (cat's
    tensors0, tensors1, ...) in list order."""
    return tuple(sorted(range(len(inputs)), key=lambda i: (inputs[i].rstrip("0123456789"), i)))


# Scalar arguments in derivatives.yaml; every other integer attr is an int64_t or SymInt, which
# PyTorch's Python binding shows as unsigned (a saved dim of -1 reads 18446744073709551615).
SCALAR_ATTRS = frozenset(("alpha", "beta", "exponent", "min", "max", "ord", "correction", "value",
                          "weight",
                          "threshold", "self", "other",
                          "negative_slope", "min_val", "max_val", "scale", "input_scale"))


def _unsigned(value):
    if type(value) is int and value < 0:
        return value + 2 ** 64
    if type(value) is tuple:
        return tuple(_unsigned(v) for v in value)
    return value


def _apply(node, grads, needed=None):
    """Run the node's formulas for the inputs that need a gradient (and lead to ``needed``).

    With no graph to record, a formula's NumPy form runs where it has one (and computes this
    case: None means no), without a Tensor per intermediate value.
    """
    saved, forms = node._store, node._array_formulas
    if type(saved) is PackedSlots:  # saved-tensor hooks: each slot unpacked once, first,
        saved, forms = unpack_all(node), None  # and used as any tensor (whatever its shape)
    grad = grads if node._multi else grads[0]
    if grad is None or node._multi and not any(g is not None for g in grads):  # all undefined
        return [None] * len(node._formulas)
    if forms is None or _local.enabled or _levels.current >= 0:  # (tangents need Tensors)
        return _run(node, grad, needed, None, saved)
    token = _fp_errors.set(_FP_IGNORE)  # as the ops' quietly(): PyTorch warns of no inf or nan
    try:
        return _run(node, grad, needed, forms, saved)
    finally:
        _fp_errors.reset(token)


def _run(node, grad, needed, forms, saved):
    """The formulas in the alphabetical order of their inputs' names, as PyTorch's generated
    code runs them (which numbers the nodes a create_graph backward records)."""
    attrs, n = node._attrs, node._n_saves
    out = [None] * len(node._formulas)
    joint_grads = None
    nexts = (node._next0, node._next1, *node._next_more)  # _next, inline (padded)
    for i in node._order:
        next_node = nexts[i]
        if next_node is None or needed is not None and next_node not in needed:
            continue
        fn, idx, _ = node._formulas[i]
        if type(fn) is JointPart:
            if joint_grads is None:
                joint_grads = _run_joint(node, fn, grad, idx, saved, forms, needed)
            out[i] = joint_grads[i]
            continue
        if forms is not None and forms[i] is not None:
            into = node._into_grad is not None and node._into_grad[i] and node._hooks is None \
                and type(grad._array) is np.ndarray and _engine_only(grad) \
                and _only_one_needed(node, i, needed)  # (a 0-dim gradient is a NumPy scalar)
            args = [grad._array]
            for j in idx:  # a slot is None where the value was None
                args.append(_saved_value(node, saved, j, True) if j < n else attrs[j - n])
            a = forms[i](*args, out=args[0]) if into else forms[i](*args)
            if type(a) is np.ndarray and a is not args[0] and any(a is v for v in args[1:]) \
                    and not _engine_sees_only(node, next_node, needed):
                a = a.copy()  # a saved array itself (1 · other): no one else may get it
            if a is not None:
                out[i] = Tensor._make(a, _dtype.FROM_NUMPY[a.dtype])
                continue
        args = [grad]
        for j in idx:
            args.append(_saved_value(node, saved, j, False) if j < n else attrs[j - n])
        out[i] = fn(*args)
    return out


def _engine_only(grad):
    """True if ``grad``'s array may be overwritten: an array of its own (no view, no one else's
    view of it) that only ``grad`` holds, and ``grad`` held by nothing but the list of gradients
    the node was given (the engine's buffer) and the calls from _apply to here. As _buffer_sum
    decides it: a hook, an event or a second buffer holding it, or a caller's name for it, adds
    a reference."""
    a = grad._array
    return (type(a) is np.ndarray and a.base is None and a.flags.writeable
            and sys.getrefcount(a) <= 3 and sys.getrefcount(grad) <= 5)


def _engine_sees_only(node, next_node, needed):
    """True if a gradient ``node`` sends to ``next_node`` reaches no one but the engine's
    buffers and formulas: a running backward pass, no node called by hand (a hook may call
    one), no trace, no capture (autograd.grad's inputs), no hook of either node. Such a
    gradient may share a saved array; the engine writes into an array (out=, _buffer_sum) or
    keeps it as a ``.grad`` only if nothing else holds it."""
    return node._hooks is None and next_node._hooks is None and needed is None \
        and _local.saved_log is None and bool(_local.final_callbacks) and not _local.by_hand


def _only_one_needed(node, i, needed):
    """True if input ``i`` is the only one of ``node``'s that needs a gradient."""
    return all(n is None or needed is not None and n not in needed
               for k, n in enumerate(node._next) if k != i)


def _run_joint(node, part, grad, idx, saved, forms, needed):
    """Every input's gradient from one call of a joint formula (its NumPy form if it may)."""
    attrs, n = node._attrs, node._n_saves
    needs = _needs(node, needed)
    if forms is not None and part.array_fn is not None:
        args = [_saved_value(node, saved, j, True) if j < n else attrs[j - n] for j in idx]
        grads = part.array_fn(grad._array, *args, needs=needs)
        return [None if a is None else Tensor._make(a, _dtype.FROM_NUMPY[a.dtype]) for a in grads]
    args = [_saved_value(node, saved, j, False) if j < n else attrs[j - n] for j in idx]
    return part.fn(grad, *args, needs=needs)


def _saved_value(node, saved, j, as_array):
    """Saved value ``j`` (its array if ``as_array``), checked: freed, or modified in place
    since it was saved, raises PyTorch's error."""
    value = saved[j]
    if isinstance(value, Tensor):  # an input kept as it is
        if value._version_counter[0] != node._versions[j]:
            node._saved[j].unpack(node)  # raises, as a SavedTensor
        return value._array if as_array else value
    if isinstance(value, (SavedTensor, _Unpacked)):
        return value.array(node) if as_array else value.unpack(node)
    return value  # None, or a number


def _needs(node, needed):
    """Which of ``node``'s inputs want a gradient (PyTorch's grad_input_mask)."""
    return tuple(fn is not None and (needed is None or fn in needed) for fn in node._next)


def record(cls, outputs, inputs, saved=(), attrs=()):
    """Attach a new ``cls`` node to ``outputs`` if grad mode is on and an input requires grad
    (and, in a dual level, give the outputs their tangents)."""
    if _levels.current >= 0:
        return _record_dual(cls, outputs, inputs, saved, attrs)
    if _vmap_levels:
        _vmap_taint(outputs, inputs)
    if not _local.enabled:
        return outputs
    nexts = []
    nrs = []
    meta = []
    needed = None
    uses = cls._uses
    for i, inp in enumerate(inputs):
        if not isinstance(inp, Tensor):
            nexts.append(None)
            nrs.append(0)
            meta.append(None)
            continue
        if inp._base is not None and inp._view_version != inp._version_counter[0]:
            inp._fresh()  # its base changed in place: regenerate the view's grad_fn
        if inp._requires_grad:
            fn = inp._grad_fn
            if fn is None and type(inp._version_counter) is not list and _inference_only(inputs):
                return outputs  # inference tensors, which (made in the mode) record nothing
            if fn is None:
                nexts.append(inp._accumulator())
                nrs.append(0)
            else:
                nexts.append(fn)
                nrs.append(inp._output_nr)
            needed = uses[i] if needed is None else needed | uses[i]
        else:
            nexts.append(None)
            nrs.append(0)
        meta.append((inp._array.shape, inp.dtype))
    if needed is None:
        return outputs
    node = object.__new__(cls)
    if len(nexts) == 2:  # (the setter's work, inline: it runs per op)
        node._next0, node._next1 = nexts
        node._next_more = ()
    else:
        node._next = nexts
    nrs, meta = tuple(nrs), tuple(meta)
    node._nrs = _SHARED.get(nrs) or shared(nrs)  # (the lookup inline: it runs per op)
    node._input_meta = _SHARED.get(meta) or shared(meta)
    node._attrs = attrs
    node._seq_nr = next(_sequence)
    node._hooks = None
    if _anomaly[0]:
        store_stack(node)
    if type(outputs) is tuple:
        _save_all(node, saved, needed, outputs[0])
        for nr, out in enumerate(outputs):
            if out is not None and out.dtype.is_floating_point:
                out._grad_fn, out._output_nr, out._requires_grad = node, nr, True
    else:
        if saved:
            _save_all(node, saved, needed, outputs)
        else:
            node._store, node._versions = (), None
        outputs._grad_fn = node
        outputs._requires_grad = True
    if saved and _local.saved_hooks is not None:
        pack_saved(node, outputs[0] if type(outputs) is tuple else outputs, _local.saved_hooks)
    return outputs


def _record_dual(cls, outputs, inputs, saved, attrs):
    """In a dual level: the node first, so that a tangent formula using the result records a
    graph through it (as PyTorch's does), then the tangents; a saved result keeps its tangent,
    and saved-tensor hooks pack it once it has one (PyTorch saves outputs last)."""
    first = outputs[0] if type(outputs) is tuple else outputs
    before = first is not None and first._grad_fn
    level, _levels.current = _levels.current, -1
    hooks, _local.saved_hooks = _local.saved_hooks, None
    try:
        record(cls, outputs, inputs, saved, attrs)
    finally:
        _levels.current, _local.saved_hooks = level, hooks
    _carry_tangents(cls, outputs, inputs, saved, attrs)
    node = first is not None and first._grad_fn
    if node and node is not before:
        if first._fw_grad is not None:
            node._saved = tuple(_saved_dual(first) if slot is not None and value is RESULT
                                else slot for slot, value in zip(node._saved, saved))
        if saved and hooks is not None:
            pack_saved(node, first, hooks)
    return outputs


def _carry_tangents(cls, outputs, inputs, saved, attrs):
    """Forward mode: the outputs' tangents from the op's forward formula, if an input has one."""
    tangents = [x._fw_grad if isinstance(x, Tensor) else None for x in inputs]
    if all(t is None for t in tangents):
        return
    if cls._forward is None:
        raise NotImplementedError(no_forward_message(cls.__name__))
    _, fn, sources = cls._forward
    first = outputs[0] if type(outputs) is tuple else outputs
    n = cls._n_saves

    def value(i):
        v = (saved[i] if i < len(saved) else None) if i < n else attrs[i - n]
        return first if v is RESULT else v

    def tangent(i):
        t = tangents[i]
        return t if t is not None else _zero_tangent(inputs[i], first)

    level, _levels.current = _levels.current, -1  # the formula's own ops carry no tangents
    try:
        if fn is None:
            out_t = _from_backward(cls, tangents, value, first, sources == "reduction")
        else:
            args = []
            for kind, i in sources:
                args.append(tangent(i) if kind == "t" else outputs if kind == "r" else
                            value(i) if kind == "s" else inputs[i] if kind == "p" else
                            [tangent(j) for j in range(len(inputs))])
            out_t = fn(*args)
    finally:
        _levels.current = level
    if out_t is None:  # the formula found nothing to carry (PyTorch's undefined tangent)
        return
    if _levels.watch is not None:
        _levels.watch(cls, outputs, _formula_arguments(cls, args if fn else None, tangents,
                                                       value, tangent), out_t)
    if type(outputs) is tuple or type(outputs) is list:
        for out, t in zip(outputs, out_t):
            if out is not None and t is not None and out.dtype.is_floating_point:
                set_tangent(out, _shaped(t, out))
    elif outputs.dtype.is_floating_point:
        set_tangent(outputs, _shaped(out_t, outputs))


def _formula_arguments(cls, args, tangents, value, tangent):
    """``{name: value}`` of what an op's forward formula read, for a watcher of forward mode:
    its parameters, or (element_wise, reduction) the tangents and the backward's saved values."""
    if args is not None:
        code = cls._forward[1].__code__
        return dict(zip(code.co_varnames[:code.co_argcount], args))
    named = {}
    for i, t in enumerate(tangents):
        if t is not None:
            fn, idx, _ = cls._formulas[i]
            named[cls._inputs[i] + "_t"] = tangent(i)
            code = fn.__code__
            for name, j in zip(code.co_varnames[1:code.co_argcount], idx):
                named[name] = value(j)
    return named


def _from_backward(cls, tangents, value, result, reduction):
    """The forward derivative of an elementwise op (PyTorch's auto_element_wise): each input's
    backward formula applied to its tangent, summed; of a reduction, the backward formula
    applied to ones, times the tangent, reduced as the op reduces. Inputs without a tangent
    add nothing (PyTorch's ZeroTensor)."""
    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        fn, idx, _ = cls._formulas[i]
        args = [value(j) for j in idx]
        if reduction:
            slope = fn(_ones_like(result), *args)
            if slope is None:  # a backward that gives none (norm 0): the derivative is 0
                continue
            term = _reduce_like(slope * t, result, cls, value)
        else:
            term = fn(t, *args)
            term = term.clone() if term is t else term
        total = term if total is None else total + term
    return _zero_tangent(result, result) if total is None else total


def view_like(t, like):
    """``t`` viewed with ``like``'s shape (a copy where no view can give it)."""
    try:
        return t.view(like.shape)
    except RuntimeError:
        return t.reshape(like.shape)


def _ones_like(t):
    return Tensor._make(np.ones(t._array.shape, t.dtype.np), t.dtype)


def _reduce_like(x, result, cls, value):
    """``x`` summed over the dims the op reduced to give ``result``."""
    if x._array.shape == result._array.shape:
        return x
    if result._array.ndim == 0:
        return x.sum()
    if x._array.ndim == result._array.ndim:  # keepdim
        dims = tuple(d for d, (a, b) in enumerate(zip(x.shape, result.shape)) if a != b)
        return x.sum(dims, keepdim=True)
    names = cls._slot_names
    dim = value(names.index("dim")) if "dim" in names else 1  # nll_loss: the class dim
    return x.sum(dim if dim is not None else tuple(range(x._array.ndim)))


def no_forward_message(name):
    """PyTorch's text for an op with no forward derivative (named from its grad_fn's name)."""
    op = name[:name.rfind("Backward")].lower()
    return (f"Trying to use forward AD with {op} that does not support it because it has not "
            "been implemented yet.\nPlease file an issue to PyTorch at https://github.com/pytorch/"
            "pytorch/issues/new?template=feature-request.yml so that we can prioritize its "
            "implementation.")


def _zero_tangent(x, like):
    """The tangent of an input that has none: zeros (PyTorch's ZeroTensor)."""
    if isinstance(x, Tensor):
        return Tensor._make(np.zeros(x._array.shape, x.dtype.np), x.dtype)
    return Tensor._make(np.zeros((), like.dtype.np), like.dtype)


def _shaped(t, out):
    """A tangent with its output's shape (a broadcast input's tangent is expanded)."""
    return t if t._array.shape == out._array.shape else t.expand(out._array.shape)


def _inference_only(inputs):
    """True if every input is an inference tensor: as in PyTorch, where a Python number is a
    normal (wrapped) tensor, only an op with a normal tensor among its inputs records."""
    return all(x is None or isinstance(x, Tensor) and type(x._version_counter) is not list
               for x in inputs)


def _save_all(node, saved, needed, output):
    """Keep each value in ``saved`` that a needed formula uses (None for the others): input
    tensors and numbers as they are, the inputs' versions in ``node._versions``; the output
    and lists of tensors as SavedTensor objects (see Node._saved)."""
    slots = []
    versions = None
    for j, value in enumerate(saved):
        if j not in needed or value is None:
            slots.append(None)
        elif isinstance(value, Tensor):
            counter = value._version_counter
            if type(counter) is not list:  # an inference tensor's: it has no version to check
                raise RuntimeError(INFERENCE_SAVE_ERROR)
            if counter[0]:
                versions = versions or [0] * len(saved)
                versions[j] = counter[0]
            slots.append(value)
        elif value is RESULT:
            slots.append(SavedTensor(output._array, output._version_counter[0],
                                     output._version_counter, output.dtype))
        elif type(value) is tuple:
            slots.append(SavedTensorList(value))  # index's indices: tensors (and Nones)
        else:
            slots.append(value)  # a Python number PyTorch wraps into a tensor
    node._store = tuple(slots)
    # (versions of modified inputs, a training loop's weights, are not shared: they never repeat;
    # a tuple of ints leaves the garbage collector's lists at its first collection)
    node._versions = tuple(versions) if versions else \
        NO_VERSIONS if len(slots) <= len(NO_VERSIONS) else (0,) * len(slots)


def _saved_dual(output):
    """A saved output that keeps its tangent for as long as the dual level lasts."""
    slot = DualSavedTensor(output._array, output._version_counter[0], output._version_counter,
                           output.dtype)
    set_tangent(slot, output._fw_grad)
    return slot


def quietly(fn, *args, **kwargs):
    """fn(*args) with NumPy's floating-point warnings off: PyTorch gives inf and nan silently.

    The same as ``with np.errstate(all="ignore")`` at a tenth of its cost, which matters per op.
    """
    token = _fp_errors.set(_FP_IGNORE)
    try:
        return fn(*args, **kwargs)
    finally:
        _fp_errors.reset(token)


def quiet(fn):
    """``fn`` run as quietly() runs it: for forwards computed in several NumPy steps."""
    def quiet_fn(*args, **kwargs):
        token = _fp_errors.set(_FP_IGNORE)
        try:
            return fn(*args, **kwargs)
        finally:
            _fp_errors.reset(token)
    quiet_fn.__name__, quiet_fn.__doc__, quiet_fn.__wrapped__ = fn.__name__, fn.__doc__, fn
    quiet_fn.__module__ = fn.__module__
    return quiet_fn


def accumulator(dt):
    """The NumPy dtype PyTorch's CPU kernels accumulate ``dt`` in: float32 for float16."""
    return np.float32 if dt.np == np.float16 else dt.np


EXACT_MAX = 4096  # elements: up to this size float32 transcendentals are correctly rounded


def rounded(fn):
    """``fn`` computed in float64 and rounded to the first input's float dtype, for small tensors.

    PyTorch's float32 exp/log/tanh/... (SLEEF) are correctly rounded for nearly every input;
    NumPy's float32 loops are one ulp off for up to 40% of inputs, which shows in printed values
    (a softmax that sums to ``1.0000`` rather than ``1.``), and NumPy picks them per CPU (AVX2,
    AVX-512 with SVML, or plain C), so they would also make gradlab's values depend on the machine.
    The float64 detour costs ten times the float32 loop, so tensors larger than what lessons print
    (``EXACT_MAX`` elements) take NumPy's float32 loop: at most one ulp from PyTorch, as PyTorch's
    own kernels differ by CPU.
    """
    def f(a, *rest):
        if a.dtype.kind != "f" or a.dtype == np.float64 or \
                max(np.size(x) for x in (a, *rest)) > EXACT_MAX:
            return fn(a, *rest)
        return fn(a.astype(np.float64), *rest).astype(a.dtype)
    f.__name__ = fn.__name__
    return f


# "correctly rounded" versions of the NumPy functions the ops use
cr_exp, cr_log, cr_log1p, cr_tanh, cr_sin, cr_cos, cr_power = map(
    rounded, (np.exp, np.log, np.log1p, np.tanh, np.sin, np.cos, np.power))


def sum_to(grad, shape):
    """Sum a broadcast gradient back to ``shape`` (PyTorch's sum_to).

    With grad mode off (backward without create_graph) nothing is recorded, so NumPy does it
    alone: the same sum, without the graph machinery of the two ops.
    """
    a = grad._array
    if a.shape == shape:
        return grad
    lead = a.ndim - len(shape)
    dims = tuple(range(lead))
    if a.shape[lead:] != shape:
        dims += tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
    if not _local.enabled:
        if dims:
            a = a.sum(dims, dtype=a.dtype)
        return Tensor._make(a if a.shape == shape else a.reshape(shape), grad.dtype)
    if not shape:
        return grad.sum()  # PyTorch's _sum_to: a full sum (SumBackward0) for a 0-dim target
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad.reshape(shape) if lead or grad.shape != shape else grad


# ---- type promotion ----------------------------------------------------------------------------

def _group(x):
    return 0 if x._array.ndim else 1


def promote(a, b):
    """The dtype of ``a op b`` for tensors and Python numbers, as PyTorch computes it."""
    groups = ([], [], [])
    for x in (a, b):
        if isinstance(x, Tensor):
            groups[_group(x)].append(x.dtype)
        else:
            groups[2].append(_dtype.scalar_dtype(x))
    return _dtype.result_type(*groups)


def array_of(x, dt):
    """The NumPy value of a tensor or Python number, in dtype ``dt``."""
    if isinstance(x, Tensor):
        a = x._array
        return a if x.dtype is dt else a.astype(dt.np)
    return dt.np.type(x)


def check_number(x, op):
    if not isinstance(x, (numbers.Number, np.generic)) or isinstance(x, complex):
        raise TypeError(f"{op}(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")


def broadcast_error(a_shape, b_shape):
    """PyTorch's text for shapes that do not broadcast."""
    n = max(len(a_shape), len(b_shape))
    a = (1,) * (n - len(a_shape)) + tuple(a_shape)
    b = (1,) * (n - len(b_shape)) + tuple(b_shape)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                                f"({b[i]}) at non-singleton dimension {i}")
    return RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} cannot be broadcast")


def shape_of(x):
    return x._array.shape if isinstance(x, Tensor) else ()


def method(*names):
    """Expose the decorated function as Tensor methods (its own name unless ``names`` given)."""
    def attach(fn):
        fn = numpy_spellings(fn)
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn
    return attach


NUMPY_SPELLINGS = {"axis": "dim", "keepdims": "keepdim"}  # PyTorch's argument parser takes them


def numpy_spellings(fn):
    """``fn`` also taking NumPy's ``axis=`` and ``keepdims=`` for its ``dim`` and ``keepdim``."""
    params = inspect.signature(fn).parameters
    if not any(name in params for name in NUMPY_SPELLINGS.values()):
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for alias, name in NUMPY_SPELLINGS.items():
                if alias in kwargs and name in params:
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return call

