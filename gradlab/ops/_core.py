"""The machinery every op shares: derivative table entries, recording a node, type promotion."""
import numbers

import numpy as np

from .. import _dtype
from ..autograd.graph import Node, SavedTensor, _sequence
from ..autograd.grad_mode import _local
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
    ``num_outputs=0`` declares a node with a variable number of outputs (unbind, split): its
    formulas get the list ``grads``, with zeros where an output received no gradient.
    ``hidden`` attrs are kept for the formulas but, as in PyTorch, have no ``_saved_`` property.
    ``broadcasts`` names the inputs that broadcast to the output's shape (True: all of them):
    their formulas give a gradient of the output's shape, which the engine sums back to the
    input's shape (the stepper's panel says so).
    """
    names = saves + attrs + hidden
    table = []
    arrays = []
    for inp in inputs:
        text, fn, *array_fn = formulas[inp]
        params = fn.__code__.co_varnames[1:fn.__code__.co_argcount]
        table.append((fn, tuple(names.index(p) for p in params), text))
        arrays.append(array_fn[0] if array_fn else None)
    cls = type(name, (Node,), {
        "__slots__": (), "__module__": "builtins", "num_outputs": num_outputs,
        "_multi": num_outputs == 0,
        "_inputs": inputs, "_slot_names": names, "_n_saves": len(saves),
        "_broadcasts": tuple(i for i, inp in enumerate(inputs)
                             if broadcasts is True or inp in broadcasts),
        "_formulas": tuple(table),
        "_order": _formula_order(inputs),
        "_array_formulas": tuple(arrays) if any(arrays) else None,
        "_uses": tuple(frozenset(i for i in idx if i < len(saves)) for _, idx, _ in table),
    })
    for i, n in enumerate(saves + attrs):
        setattr(cls, "_saved_" + n, property(
            (lambda node, i=i: node._unpack_for_user(i)) if i < len(saves)
            else (lambda node, i=i: node._attrs[i - len(saves)]) if n in SCALAR_ATTRS
            else (lambda node, i=i: _unsigned(node._attrs[i - len(saves)]))))
    cls.apply = _apply
    GRAD_FNS[name] = cls  # lets the widgets find formula texts for torch nodes of the same name
    return cls


def _formula_order(inputs):
    """The order PyTorch's generated code runs the formulas in: by input name, a list's (cat's
    tensors0, tensors1, ...) in list order."""
    return tuple(sorted(range(len(inputs)), key=lambda i: (inputs[i].rstrip("0123456789"), i)))


# Scalar arguments in derivatives.yaml; every other integer attr is an int64_t or SymInt, which
# PyTorch's Python binding shows as unsigned (a saved dim of -1 reads 18446744073709551615).
SCALAR_ATTRS = frozenset(("alpha", "beta", "exponent", "min", "max", "ord", "correction", "value",
                          "weight",
                          "threshold", "self", "other"))


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
    grad = grads if node._multi else grads[0]
    if grad is None:
        return [None] * len(node._formulas)
    forms = node._array_formulas
    if forms is None or _local.enabled:
        return _run(node, grad, needed, None)
    token = _fp_errors.set(_FP_IGNORE)  # as the ops' quietly(): PyTorch warns of no inf or nan
    try:
        return _run(node, grad, needed, forms)
    finally:
        _fp_errors.reset(token)


def _run(node, grad, needed, forms):
    """The formulas in the alphabetical order of their inputs' names, as PyTorch's generated
    code runs them (which numbers the nodes a create_graph backward records)."""
    saved, attrs, n = node._saved, node._attrs, node._n_saves
    out = [None] * len(node._formulas)
    for i in node._order:
        next_node = node.next_functions[i][0]
        if next_node is None or needed is not None and next_node not in needed:
            continue
        fn, idx, _ = node._formulas[i]
        if forms is not None and forms[i] is not None:
            args = [grad._array]
            for j in idx:  # a slot is None where the value was None
                args.append(saved[j] and saved[j].array(node) if j < n else attrs[j - n])
            a = forms[i](*args)
            if a is not None:
                out[i] = Tensor._make(a, _dtype.FROM_NUMPY[a.dtype])
                continue
        args = [grad]
        for j in idx:
            args.append(saved[j] and saved[j].unpack(node) if j < n else attrs[j - n])
        out[i] = fn(*args)
    return out


def record(cls, outputs, inputs, saved=(), attrs=()):
    """Attach a new ``cls`` node to ``outputs`` if grad mode is on and an input requires grad."""
    if not _local.enabled:
        return outputs
    edges = []
    meta = []
    needed = None
    uses = cls._uses
    for i, inp in enumerate(inputs):
        if not isinstance(inp, Tensor):
            edges.append(NO_EDGE)
            meta.append(None)
            continue
        if inp._base is not None and inp._view_version != inp._version_counter[0]:
            inp._fresh()  # its base changed in place: regenerate the view's grad_fn
        if inp._requires_grad:
            fn = inp._grad_fn
            if fn is None and type(inp._version_counter) is not list and _inference_only(inputs):
                return outputs  # inference tensors, which (made in the mode) record nothing
            edges.append((fn, inp._output_nr) if fn is not None else (inp._accumulator(), 0))
            needed = uses[i] if needed is None else needed | uses[i]
        else:
            edges.append(NO_EDGE)
        meta.append((inp._array.shape, inp.dtype))
    if needed is None:
        return outputs
    node = object.__new__(cls)
    node.next_functions = tuple(edges)
    node._input_meta = tuple(meta)
    node._attrs = attrs
    node._seq_nr = next(_sequence)
    node._hooks = None
    if type(outputs) is tuple:
        node._saved = _save_all(saved, needed, outputs[0])
        for nr, out in enumerate(outputs):
            if out is not None and out.dtype.is_floating_point:
                out._grad_fn, out._output_nr, out._requires_grad = node, nr, True
    else:
        node._saved = _save_all(saved, needed, outputs) if saved else ()
        outputs._grad_fn = node
        outputs._requires_grad = True
    return outputs


def _inference_only(inputs):
    """True if every input is an inference tensor: as in PyTorch, where a Python number is a
    normal (wrapped) tensor, only an op with a normal tensor among its inputs records."""
    return all(x is None or isinstance(x, Tensor) and type(x._version_counter) is not list
               for x in inputs)


def _save_all(saved, needed, output):
    """A SavedTensor for each value in ``saved`` that a needed formula uses, else None."""
    slots = []
    for j, value in enumerate(saved):
        if j not in needed or value is None:
            slots.append(None)
        elif value is RESULT:
            slots.append(SavedTensor(output._array, output._version_counter[0],
                                     output._version_counter, output.dtype))
        elif isinstance(value, Tensor):
            counter = value._version_counter
            if type(counter) is not list:  # an inference tensor's: it has no version to check
                raise RuntimeError(INFERENCE_SAVE_ERROR)
            slots.append(SavedTensor(value, counter[0], counter))
        else:
            slots.append(SavedTensor(value))  # a Python number PyTorch wraps into a tensor
    return tuple(slots)


def quietly(fn, *args, **kwargs):
    """fn(*args) with NumPy's floating-point warnings off: PyTorch gives inf and nan silently.

    The same as ``with np.errstate(all="ignore")`` at a tenth of its cost, which matters per op.
    """
    token = _fp_errors.set(_FP_IGNORE)
    try:
        return fn(*args, **kwargs)
    finally:
        _fp_errors.reset(token)


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
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn
    return attach

