"""In-place ops and assignment into indices, with PyTorch's version checks and graph rebasing.

An in-place op runs its out-of-place twin (which records the usual node), writes the result
into the tensor's storage and bumps the version counter. The tensor then takes over the node
as its grad_fn; if the tensor is a view, its base gets a CopySlices node instead, as in PyTorch.
"""
import weakref

import numpy as np

from .. import _batching, _dtype
from ..autograd.anomaly_mode import _state as _anomaly, store_stack
from ..autograd.forward_ad import _levels, update_tangent
from ..autograd.graph import Node
from ..autograd.grad_mode import _local
from ..autograd import saved_hooks
from ..autograd.saved_hooks import pack_saved
from ..tensor import Tensor
from . import elementwise as ew, reduction as red
from ._core import NO_EDGE, broadcast_error, derivative, method, record


def _view_error(view, indirect):
    """PyTorch's error for a view that must not be modified in place: one made in no_grad mode,
    or an output of a node with several view outputs (unbind, split)."""
    what = ("its base or another view of its base has been" if indirect else "is being")
    fn = view._grad_fn
    if fn is None:
        return RuntimeError(
            f"A view was created in no_grad mode and {what} modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
            "can clarify your code by moving both the view and the inplace either both inside "
            "the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
            "you want the inplace to be tracked).")
    name = fn.name()
    why = CUSTOM_VIEW_WHY if _is_custom(fn) else (
        "This view is the output of a function that returns multiple views. Such functions do "
        "not allow the output views to be modified inplace. You should replace the inplace "
        "operation by an out-of-place one.")
    return RuntimeError(f"Output {view._output_nr} of {name[:name.rfind('Backward')]} is a view "
                        f"and {what} modified inplace. {why}")


CUSTOM_VIEW_WHY = (
    "This view was created inside a custom Function (or because an input was returned as-is) "
    "and the autograd logic to handle view+inplace would override the custom backward "
    "associated with the custom Function, leading to incorrect gradients. This behavior is "
    "forbidden. You can fix this by cloning the output of the custom Function.")


def _is_custom(fn):
    """True for the node of a custom autograd.Function."""
    return hasattr(type(fn), "_forward_cls")


def _forbidden_view(view):
    """True for a view made in no_grad mode of a tensor requiring grad, a multi-output view,
    or a view a custom Function returned."""
    fn = view._grad_fn
    return fn is None and view._requires_grad or fn is not None and (
        fn.num_outputs > 1 or fn._multi or _is_custom(fn))


def check_inplace(self):
    """PyTorch's errors for in-place ops on leaves that require grad, and on their views."""
    if saved_hooks.mutation is not None:  # allow_mutation_on_saved_tensors: clone saved first
        saved_hooks.before_write(self)
    if not _local.enabled:
        return
    base = self._base
    if base is not None and _forbidden_view(self):
        raise _view_error(self, False)
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _type_name(dt):
    return dt._legacy[:-len("Tensor")]


def inplace(self, compute, overlap_ok=False):
    """Run ``compute(self)`` out of place, then make its result this tensor's new value.

    Like PyTorch's TensorIterator ops, it refuses a tensor whose elements share memory (an
    expanded view) unless ``overlap_ok`` (fill_, zero_, masked_fill_, index_put_).
    """
    check_inplace(self)
    if not overlap_ok:
        _check_overlap(self)
    hooks = _local.saved_hooks
    if hooks is None:
        result = compute(self)
    else:  # saved-tensor hooks pack after the write, as PyTorch saves an in-place op's result
        _local.saved_hooks = None
        try:
            result = compute(self)
        finally:
            _local.saved_hooks = hooks
    if _batching.LEVELS:
        _batching.check_inplace(self, result)
    commit(self, result)
    return self


def commit(self, result):
    if result.dtype is not self.dtype and result.dtype._category > self.dtype._category:
        raise RuntimeError(f"result type {_type_name(result.dtype)} can't be cast to the desired "
                           f"output type {_type_name(self.dtype)}")
    if result._array.shape != self._array.shape:
        raise RuntimeError(f"output with shape {list(self._array.shape)} doesn't match the "
                           f"broadcast shape {list(result._array.shape)}")
    node = result._grad_fn
    if node is not None:
        _snapshot_saved_self(node, self)
    storage = self._storage()
    np.copyto(_writable(storage), result._array, casting="unsafe")
    self._bump_version()
    if result._fw_grad is not None:
        update_tangent(self, result._fw_grad)
    if node is None:
        return
    for s in node._saved:
        if s is not None and s.is_output:
            s.value, s.counter, s.version = storage, self._version_counter, self._version
    if self._base is None:
        _move_retains_grad(self, self._grad_fn, node)
        self._grad_fn, self._output_nr, self._requires_grad = node, 0, True
    else:
        _rebase_view(self, node)
        view_fn = weakref.ref(self._grad_fn)  # CopySlices -> node -> here: weak, no cycle
        for s in node._saved:
            if s is not None and s.is_output:
                s.view_fn = view_fn
    if node._saved and _local.saved_hooks is not None:
        pack_saved(node, self, _local.saved_hooks)


def _check_overlap(self):
    a = self._array
    if type(a) is np.ndarray and not a.flags.writeable and any(
            st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the tensor "
                           "before performing the operation.")


def _writable(a):
    """The array itself, or for a broadcast (read-only) view a writable alias of its memory."""
    if a.flags.writeable:
        return a
    owner = a
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    offset = a.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=owner, offset=offset, strides=a.strides)


def _snapshot_saved_self(node, self):
    """The node saved ``self``, about to be overwritten: keep a clone, as PyTorch does."""
    for name, s in zip(node._slot_names, node._saved):
        if name == "self" and s is not None and not s.is_output and s.value is self:
            copy = ew.clone(self)
            s.value, s.counter, s.version = copy, copy._version_counter, 0


# ---- views modified in place --------------------------------------------------------------------

class CopySlices(Node):
    """The base's grad_fn after an in-place op on one of its views.

    Runs the in-place op's node ``fn`` on the view's part of the gradient; the rest of the
    base's gradient passes through unchanged.
    """

    __slots__ = ("fn", "_view_index", "_geometry")

    def name(self):
        return "torch::autograd::CopySlices"

    def apply(self, grads, needed=None):
        from ..autograd.engine import _validate
        grad = grads[0]
        if grad is None:
            return [None] * len(self.next_functions)
        if _local.enabled and self._geometry is not None:
            return self._apply_graph(grad)
        index = Tensor._make(self._view_index, _dtype.int64)
        flat = grad.reshape(-1)
        res = _validate(self.fn, list(self.fn.apply([flat[index]])))
        view_grad = res[0] if res[0] is not None else ew.zeros_like(flat[index])
        base_grad = flat.index_put((index,), view_grad).reshape(grad.shape)
        return [base_grad] + res[1:]

    def _apply_graph(self, grad):
        """Under create_graph, PyTorch's own steps (and nodes): copy grad into a new tensor
        (CopyBackwards), take the view's part of it (as_strided), run ``fn`` on a clone of that
        part, and copy_ the view's gradient back into it (a CopySlices)."""
        from ..autograd.engine import _validate
        result = ew.copy_graph(grad)
        result._array = np.ascontiguousarray(result._storage())
        grad_slice = _as_strided(result, *self._geometry, self._view_index)
        res = _validate(self.fn, list(self.fn.apply([ew.clone(grad_slice)])))
        if res[0] is None:  # PyTorch leaves the base's gradient undefined
            return res
        grad_slice.copy_(res[0])
        return [result] + res[1:]

    def release_saved(self):
        self.fn.release_saved()

    def saved_slots(self):
        return self.fn.saved_slots()

    @property
    def _saved(self):
        return self.fn._saved

    @property
    def _store(self):
        return self.fn._store


AsStridedBackward0 = derivative(
    "AsStridedBackward0", ("self",), attrs=("size", "stride", "storage_offset"), hidden=("index",),
    self=("grad placed at the view's elements", lambda grad, size, stride, storage_offset, index:
          _scatter_view(grad, size, stride, storage_offset, index)),
    result=("self_t.as_strided(size, stride, storage_offset)", lambda self_t, size, stride,
            storage_offset, index: _as_strided(self_t.contiguous(), size, stride, storage_offset,
                                               index[0])))


def _as_strided(t, size, stride, offset, index):
    """The view ``t.as_strided(size, stride, offset)`` of a C-contiguous ``t``, recorded;
    ``index`` is its elements' flat indices in ``t``."""
    flat = t._storage().reshape(-1)
    part = np.lib.stride_tricks.as_strided(flat[offset:], size,
                                           tuple(n * flat.itemsize for n in stride))
    view = Tensor._make(part, t.dtype, counter=t._version_counter, base=t)
    return record(AsStridedBackward0, view, (t,), attrs=(size, stride, offset, (index, t.shape)))


def _scatter_view(grad, size, stride, offset, index):
    """PyTorch's as_strided_backward: under create_graph its own nodes (grad copied into a view
    of zeros, viewed back with the base's geometry)."""
    from .indexing import _index_put_zeros
    base_shape = index[1]
    if _local.enabled and np.unique(index[0]).size == index[0].size:
        storage = Tensor._make(np.zeros(int(np.prod(base_shape)), grad.dtype.np), grad.dtype)
        _as_strided(storage, size, stride, offset, index[0]).copy_(grad)
        strides = tuple(n // storage._array.itemsize
                        for n in storage._array.reshape(base_shape).strides)
        return _as_strided(storage, tuple(base_shape), strides, 0,
                           np.arange(storage._array.size).reshape(base_shape))
    flat = _index_put_zeros(grad.reshape(-1), (int(np.prod(base_shape)),),
                            (Tensor._make(index[0].reshape(-1), _dtype.int64),))
    return flat.reshape(base_shape)


def _view_index(view, base):
    """For each element of ``view``, its flat (C-order) index in ``base``."""
    b = base._storage()
    v = view._storage()
    item = b.itemsize
    strides = np.array(b.strides) // item
    lowest = sum(s * (n - 1) for s, n in zip(strides, b.shape) if s < 0)
    grids = np.indices(b.shape).reshape(b.ndim, -1)
    memory = (strides[:, None] * grids).sum(axis=0) - lowest if b.ndim else np.zeros(1, np.int64)
    logical_of_memory = np.empty(memory.max() + 1 if memory.size else 0, np.int64)
    logical_of_memory[memory] = np.arange(b.size)
    start = (v.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // item - lowest
    v_strides = tuple(s * 8 for s in np.array(v.strides) // item)
    return np.lib.stride_tricks.as_strided(logical_of_memory[start:], v.shape, v_strides).copy()


def _rebase_view(view, node):
    base = view._base
    index = _view_index(view, base)
    old = (base._grad_fn, base._output_nr) if base._grad_fn is not None else \
        ((base._accumulator(), 0) if base._requires_grad else NO_EDGE)
    copy = object.__new__(CopySlices)
    copy.fn = node
    copy._view_index = index
    copy._geometry = _geometry(view, index) if base._storage().flags.c_contiguous else None
    copy.next_functions = (old,) + node.next_functions[1:]
    copy._input_meta = ((base._array.shape, base.dtype),) + node._input_meta[1:]
    copy._attrs = ()
    copy._hooks = None
    from ..autograd.graph import _sequence
    copy._seq_nr = next(_sequence)
    if _anomaly[0]:
        store_stack(copy)
    _move_retains_grad(base, base._grad_fn, copy)
    base._grad_fn, base._output_nr, base._requires_grad = copy, 0, True
    _as_strided_of_base(view, index)


def _geometry(view, index):
    """The view's size, stride and storage offset in its base, as as_strided takes them."""
    v = view._storage()
    offset = int(index.reshape(-1)[0]) if index.size else 0
    return v.shape, tuple(s // v.itemsize for s in v.strides), offset


def _as_strided_of_base(view, index):
    """Give ``view`` the grad_fn AsStridedBackward0 -> its base's current grad_fn."""
    size, stride, offset = _geometry(view, index)
    old = view._grad_fn
    view._grad_fn = None
    view._view_version = view._version_counter[0]
    prev = _local.enabled
    _local.enabled = True  # PyTorch regenerates a view's grad_fn whatever the grad mode
    try:
        record(AsStridedBackward0, view, (view._base,),
               attrs=(size, stride, offset, (index, view._base._array.shape)))
    finally:
        _local.enabled = prev
    _move_retains_grad(view, old, view._grad_fn)


def _move_retains_grad(tensor, old, new):
    """retain_grad() follows the tensor to its new grad_fn, as PyTorch moves the hook."""
    if tensor._retains_grad and old is not None and old._hooks is not None:
        ref = old._hooks.retains_grad.pop(tensor._output_nr, None)
        if ref is not None:
            new._hook_tables().retains_grad[0] = ref


def refresh_view(view):
    """A view whose base (or another view of it) was modified in place since its grad_fn was
    recorded gets a new one from the base's current grad_fn, as PyTorch does on access (and
    raises for the views that must not be modified in place)."""
    base = view._base
    if view._grad_fn is None and not base._requires_grad:
        view._view_version = view._version_counter[0]
        return
    if _forbidden_view(view):
        raise _view_error(view, True)
    _as_strided_of_base(view, _view_index(view, base))


# ---- the in-place ops -----------------------------------------------------------------------------

def _binary_inplace(self, other, ufunc, out_of_place, alpha=1):
    """An in-place arithmetic op; with nothing to record it is one NumPy call into the storage.

    ``alpha`` (add_ and sub_) scales ``other``, rounded once as PyTorch's fused multiply-add.
    """
    if _batching.LEVELS:
        _batching.check_inplace(self, other, "add_" if ufunc is np.add else "inplace arithmetic")
    if _local.enabled and (self._requires_grad or isinstance(other, Tensor) and
                           other._requires_grad) or _levels.current >= 0:
        if alpha != 1:
            return inplace(self, lambda t: out_of_place(t, other, alpha=alpha))
        return inplace(self, lambda t: out_of_place(t, other))
    if isinstance(other, Tensor):
        result, y = _dtype.promote_types(self.dtype, other.dtype), other._array
    else:
        ew.check_number(other, ufunc.__name__)
        result, y = ew.promote(self, other), other
    if ufunc is np.true_divide and not result.is_floating_point:
        result = _dtype.get_default_dtype()
    if result._category > self.dtype._category:
        raise RuntimeError(f"result type {_type_name(result)} can't be cast to the desired "
                           f"output type {_type_name(self.dtype)}")
    _check_overlap(self)
    if saved_hooks.mutation is not None:
        saved_hooks.before_write(self)
    x = self._storage()
    try:
        if alpha == 1:
            ufunc(x, y, out=x, casting="unsafe")
        else:
            sign = -1 if ufunc is np.subtract else 1
            np.copyto(x, ew.fused_add(x, y, sign * alpha, result), casting="unsafe")
    except ValueError:
        try:
            shape = np.broadcast_shapes(x.shape, np.shape(y))
        except ValueError:
            raise broadcast_error(x.shape, np.shape(y)) from None
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}") from None
    self._bump_version()
    return self


@method("add_", "__iadd__")
def add_(self, other, *, alpha=1):
    return _binary_inplace(self, other, np.add, ew.add, alpha)


@method("sub_", "__isub__", "subtract_")
def sub_(self, other, *, alpha=1):
    return _binary_inplace(self, other, np.subtract, ew.sub, alpha)


@method("mul_", "__imul__", "multiply_")
def mul_(self, other):
    return _binary_inplace(self, other, np.multiply, ew.mul)


@method("div_", "__itruediv__", "divide_", "true_divide_")
def div_(self, other, *, rounding_mode=None):
    if rounding_mode is not None:
        return inplace(self, lambda t: ew.div(t, other, rounding_mode=rounding_mode))
    return _binary_inplace(self, other, np.true_divide, ew.div)


@method("pow_", "__ipow__")
def pow_(self, exponent):
    return inplace(self, lambda t: ew.pow(t, exponent))


@method("neg_", "negative_")
def neg_(self):
    return inplace(self, ew.neg)


@method("abs_", "absolute_")
def abs_(self):
    return inplace(self, ew.abs)


@method()
def square_(self):
    return inplace(self, ew.square)


@method()
def sign_(self):
    return inplace(self, ew.sign)


@method()
def sgn_(self):
    return inplace(self, ew.sgn)


@method()
def reciprocal_(self):
    return inplace(self, ew.reciprocal)


@method()
def log_(self):
    return inplace(self, ew.log)


@method()
def log1p_(self):
    return inplace(self, ew.log1p)


@method()
def sin_(self):
    return inplace(self, ew.sin)


@method()
def cos_(self):
    return inplace(self, ew.cos)


@method()
def logit_(self, eps=None):
    return inplace(self, lambda t: ew.logit(t, eps))


@method()
def remainder_(self, other):
    return inplace(self, lambda t: ew.remainder(t, other))


@method()
def fmod_(self, other):
    return inplace(self, lambda t: ew.fmod(t, other))


@method()
def cumsum_(self, dim, *, dtype=None):
    return inplace(self, lambda t: red.cumsum(t, dim, dtype=dtype))


@method()
def cumprod_(self, dim, *, dtype=None):
    return inplace(self, lambda t: red.cumprod(t, dim, dtype=dtype))


@method()
def exp_(self):
    return inplace(self, ew.exp)


@method()
def sqrt_(self):
    return inplace(self, ew.sqrt)


@method()
def relu_(self):
    return inplace(self, ew.relu)


@method()
def tanh_(self):
    return inplace(self, ew.tanh)


@method()
def sigmoid_(self):
    return inplace(self, ew.sigmoid)


@method("clamp_", "clip_")
def clamp_(self, min=None, max=None):
    return inplace(self, lambda t: ew.clamp(t, min, max))


@method()
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return inplace(self, lambda t: ew.nan_to_num(t, nan, posinf, neginf))


@method()
def clamp_min_(self, min):
    return inplace(self, lambda t: ew.clamp_min(t, min))


@method()
def clamp_max_(self, max):
    return inplace(self, lambda t: ew.clamp_max(t, max))


@method()
def masked_fill_(self, mask, value):
    return inplace(self, lambda t: ew.masked_fill(t, mask, value), overlap_ok=True)


# fill_ in place: PyTorch's FillBackward2 (Scalar) and FillBackward3 (Tensor value)
FillBackward2 = derivative("FillBackward2", ("self",), self=("0", lambda grad: ew.zeros_like(grad)),
    result=("0", lambda result: ew.zeros_like(result)))
FillBackward3 = derivative(
    "FillBackward3", ("self", "value"),
    self=("0", lambda grad: ew.zeros_like(grad)), value=("Σ grad", lambda grad: grad.sum()),
    result=("value_t everywhere", lambda value_t, result: ew.zeros_like(result) + value_t))
ZeroBackward0 = derivative("ZeroBackward0", ("self",), self=("0", lambda grad: ew.zeros_like(grad)),
    result=("0", lambda result: ew.zeros_like(result)))


@method()
def fill_(self, value):
    if _batching.LEVELS:
        _batching.check_inplace(self, value, "fill_")
    def filled(t):
        v = value._array if isinstance(value, Tensor) else value
        out = Tensor._make(np.full(t._array.shape, v, t.dtype.np), t.dtype)
        if isinstance(value, Tensor):
            return record(FillBackward3, out, (t, value))
        return record(FillBackward2, out, (t,))
    return inplace(self, filled, overlap_ok=True)


@method()
def zero_(self):
    return inplace(self, lambda t: record(
        ZeroBackward0, Tensor._make(np.zeros(t._array.shape, t.dtype.np), t.dtype), (t,)),
        overlap_ok=True)


@method()
def copy_(self, src, non_blocking=False):
    def copied(t):
        s = src._array if isinstance(src, Tensor) else src
        try:
            value = np.broadcast_to(np.asarray(s), t._array.shape)
        except ValueError:
            from ._core import broadcast_error
            raise broadcast_error(t._array.shape, getattr(s, "shape", ())) from None
        out = Tensor._make(value.astype(t.dtype.np), t.dtype)
        return record(ew.CopyBackwards, out, (t, src))
    return inplace(self, copied)


@method("__setitem__")
def setitem(self, key, value):
    """self[key] = value as PyTorch's setitem: the basic parts select a view, into which the value
    is copied, or (with index tensors) written by index_put_."""
    from .index_key import apply_slicing, as_parts, is_int, value_tensor
    value = value_tensor(self, value)
    if key is False:
        return
    simple = key is None or key is Ellipsis or key is True or is_int(key) or type(key) is slice
    parts = (key,) if simple else as_parts(key, stacklevel=3)
    view, indices = apply_slicing(self, parts)
    if not indices:
        return _copy_to(view, value)
    shape = value._array.shape
    while shape and shape[0] == 1:  # PyTorch's slicePrefix1sSize
        shape = shape[1:]
    if shape != value._array.shape:
        value = value.view(shape)
    from .indexing import _index_put, IndexPutBackward0
    inplace(view, lambda t: _index_put(t, indices, value, False, IndexPutBackward0),
            overlap_ok=True)


def _copy_to(dst, src):
    """PyTorch's copy_to for setitem: copy_ of equal shapes, fill_ of a 0-dim value, else copy_
    of the value viewed without leading ones and expanded."""
    if src._array.shape == dst._array.shape:
        copy_(dst, src)
    elif src._array.ndim == 0:
        fill_(dst, src)
    else:
        shape = src._array.shape
        while shape and shape[0] == 1:
            shape = shape[1:]
        src = src.view(shape)
        copy_(dst, src if src._array.shape == dst._array.shape else src.expand(dst._array.shape))


@method()
def index_put_(self, indices, values, accumulate=False):
    from .indexing import _index_put, _public_indices, IndexPutBackward0
    indices = _public_indices(indices, "index_put_")
    return inplace(self, lambda t: _index_put(t, indices, values, accumulate, IndexPutBackward0),
                   overlap_ok=True)


@method()
def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    from .indexing import scatter
    if reduce is not None:
        raise NotImplementedError("gradlab does not implement Tensor.scatter_(reduce=...)")
    return inplace(self, lambda t: scatter(t, dim, index, value if src is None else src))


@method()
def scatter_add_(self, dim, index, src):
    from .indexing import scatter_add
    return inplace(self, lambda t: scatter_add(t, dim, index, src))

