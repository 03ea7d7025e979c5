"""Shape ops: views (reshape, transpose, expand, ...) and joins (cat, stack) with their grad_fns."""
import numpy as np

from ..autograd.forward_ad import _levels
from ..autograd.grad_mode import _local
from ..tensor import InferenceVersion, Tensor
from ._core import derivative, method, numpy_spellings, record, view_like
from .elementwise import CloneBackward0

ViewBackward0 = derivative(
    "ViewBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad reshaped to self's shape", lambda grad, self_sym_sizes: grad.reshape(self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
UnsafeViewBackward0 = derivative(
    "UnsafeViewBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad reshaped to self's shape", lambda grad, self_sym_sizes: grad.reshape(self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
ReshapeAliasBackward0 = derivative(
    "ReshapeAliasBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad reshaped to self's shape", lambda grad, self_sym_sizes: grad.reshape(self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
ExpandBackward0 = derivative(
    "ExpandBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad summed over the expanded dims",
          lambda grad, self_sym_sizes: _sum_to(grad, self_sym_sizes)),
    result=("self_t expanded", lambda self_t, result: self_t.expand(result.shape)))
PermuteBackward0 = derivative(
    "PermuteBackward0", ("self",), attrs=("dims",),
    self=("grad permuted back", lambda grad, dims: grad.permute(
        tuple(int(i) for i in np.argsort([d % len(dims) for d in dims])))),
    result=("self_t permuted", lambda self_t, dims: self_t.permute(dims)))
TransposeBackward0 = derivative(
    "TransposeBackward0", ("self",), attrs=("dim0", "dim1"),
    self=("grad transposed back", lambda grad, dim0, dim1: grad.transpose(dim0, dim1)),
    result=("self_t transposed", lambda self_t, dim0, dim1: self_t.transpose(dim0, dim1)))
TBackward0 = derivative("TBackward0", ("self",), self=("grad transposed", lambda grad: grad.t()),
    result=("self_t transposed", lambda self_t: self_t.t()))
FlipBackward0 = derivative("FlipBackward0", ("self",), attrs=("dims",),
                           self=("grad flipped back", lambda grad, dims: grad.flip(dims)),
    result=("self_t flipped", lambda self_t, dims: self_t.flip(dims)))
UnsqueezeBackward0 = derivative(
    "UnsqueezeBackward0", ("self",), attrs=("dim",),
    self=("grad squeezed at dim", lambda grad, dim: grad.squeeze(dim)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
SqueezeBackward0 = derivative(
    "SqueezeBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad unsqueezed where self had size 1", lambda grad, self_sym_sizes: _unsqueeze_to(
        grad, range(len(self_sym_sizes)), self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
SqueezeBackward1 = derivative(
    "SqueezeBackward1", ("self",), attrs=("dim", "self_sym_sizes"),
    self=("grad unsqueezed at dim", lambda grad, dim, self_sym_sizes: _unsqueeze_to(
        grad, (dim,), self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))
SqueezeBackward2 = derivative(
    "SqueezeBackward2", ("self",), attrs=("dim", "self_sym_sizes"),
    self=("grad unsqueezed at dims", lambda grad, dim, self_sym_sizes: _unsqueeze_to(
        grad, dim, self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))


def _unsqueeze_to(grad, dims, sizes):
    """PyTorch's unsqueeze_to: unsqueeze at each of ``dims`` where ``sizes`` has a 1."""
    n = len(sizes)
    for d in sorted({d % n for d in dims} if n else ()):
        if sizes[d] == 1:
            grad = grad.unsqueeze(d)
    return grad


def _sum_to(grad, shape):
    from ._core import sum_to
    return sum_to(grad, tuple(shape))


def _view(self, array, cls, attrs=()):
    """A tensor sharing ``self``'s storage and version counter, with a view grad_fn."""
    base = self._base
    if base is None:
        if type(self._version_counter) is InferenceVersion:  # PyTorch: no _base, no autograd
            return Tensor._make(array, self.dtype, counter=self._version_counter)
        base = self
    out = Tensor._make(array, self.dtype, counter=self._version_counter, base=base)
    if self._requires_grad and not _local.enabled:
        out._requires_grad = True  # PyTorch: a view made in no_grad mode is a leaf requiring grad
        return out if _levels.current < 0 else record(cls, out, (self,), attrs=attrs)  # tangent
    return record(cls, out, (self,), attrs=attrs)


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, Tensor)):
        shape = shape[0]
    return tuple(map(int, shape))


def _infer(self, shape):
    """Resolve a -1 in ``shape`` with PyTorch's errors for impossible shapes."""
    numel = self._array.size
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


@method()
def reshape(self, *shape):
    shape = _infer(self, _shape_arg(shape))
    a = self._storage()
    out = a.reshape(shape)
    if np.shares_memory(out, a) if out.size else True:
        # a view; of a non-contiguous tensor, PyTorch's _reshape_alias
        cls = ViewBackward0 if a.flags.c_contiguous else ReshapeAliasBackward0
        return _view(self, out, cls, (self._array.shape,))
    # not viewable: PyTorch reshapes a contiguous clone (CloneBackward0, then UnsafeViewBackward0)
    copy = record(CloneBackward0, Tensor._make(np.ascontiguousarray(a), self.dtype), (self,))
    return record(UnsafeViewBackward0, Tensor._make(copy._array.reshape(shape), self.dtype),
                  (copy,), attrs=(self._array.shape,))


@method()
def view(self, *shape):
    if len(shape) == 1 and hasattr(shape[0], "np"):
        raise NotImplementedError("view(dtype) is not supported by gradlab")
    shape = _infer(self, _shape_arg(shape))
    a = self._storage()
    try:
        out = a.view()
        out.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return _view(self, out, ViewBackward0, (self._array.shape,))


@method()
def view_as(self, other):
    return view(self, other.shape)


@method()
def reshape_as(self, other):
    return reshape(self, other.shape)


@method()
def flatten(self, start_dim=0, end_dim=-1):
    n = self._array.ndim
    if n == 0:
        return reshape(self, 1)
    s, e = self._dim_index(start_dim), self._dim_index(end_dim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return self
    shape = self._array.shape
    return reshape(self, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


@method()
def unflatten(self, dim, sizes):
    dim = self._dim_index(dim)
    shape = self._array.shape
    return view(self, shape[:dim] + tuple(sizes) + shape[dim + 1:])


@method()
def ravel(self):
    """contiguous().view(-1), as in PyTorch: a non-contiguous tensor is cloned first."""
    return view(contiguous(self), -1)


@method()
def permute(self, *dims):
    dims = _shape_arg(dims)
    n = self._array.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    axes = tuple(self._dim_index(d) for d in dims)
    if len(set(axes)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view(self, self._storage().transpose(axes), PermuteBackward0, (dims,))


@method("transpose", "swapaxes", "swapdims")
def transpose(self, dim0, dim1):
    d0, d1 = self._dim_index(dim0), self._dim_index(dim1)
    return _view(self, self._storage().swapaxes(d0, d1), TransposeBackward0, (dim0, dim1))


swapaxes = transpose


@method()
def t(self):
    n = self._array.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _view(self, self._storage().T, TBackward0)


_warned_once = set()  # PyTorch's TORCH_WARN_ONCE: these warn once per process


def _T(self):
    n = self._array.ndim
    if n != 2 and n != 0 and "T" not in _warned_once:
        _warned_once.add("T")
        import warnings
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor. (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)",
            UserWarning, stacklevel=2)
    return permute(self, tuple(range(n - 1, -1, -1)))


def _mT(self):
    if self._array.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self._array.ndim}-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)


@method()
def unsqueeze(self, dim):
    n = self._array.ndim + 1
    d = self._dim_index(dim, n)
    return _view(self, np.expand_dims(self._storage(), d), UnsqueezeBackward0, (dim,))


@method()
def squeeze(self, dim=None):
    shape = self._array.shape
    a = self._storage()
    if dim is None:
        return _view(self, a.reshape(tuple(s for s in shape if s != 1)), SqueezeBackward0, (shape,))
    if isinstance(dim, (tuple, list)):
        dims = tuple(self._dim_index(d) for d in dim)
        keep = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
        return _view(self, a.reshape(keep), SqueezeBackward2, (tuple(dim), shape))
    d = self._dim_index(dim) if shape else 0
    if not shape or shape[d] != 1:
        return _view(self, a.view(), SqueezeBackward1, (dim, shape))
    return _view(self, a.reshape(shape[:d] + shape[d + 1:]), SqueezeBackward1, (dim, shape))


@method()
def expand(self, *sizes):
    sizes = _shape_arg(sizes)
    shape = self._array.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.{self.dtype._legacy}{{{list(shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
                           "must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    lead = len(sizes) - len(shape)
    target = sizes
    if -1 in sizes:  # -1 keeps an existing size
        if -1 in sizes[:lead]:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {sizes.index(-1)}")
        target = sizes[:lead] + tuple(n if s == -1 else s for n, s in zip(shape, sizes[lead:]))
    if target[lead:] != shape:
        for i, (have, s) in enumerate(zip(shape, target[lead:]), lead):
            if have != s and have != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the "
                                   f"existing size ({have}) at non-singleton dimension {i}.  "
                                   f"Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
    return _view(self, _broadcast(self._storage(), target), ExpandBackward0, (shape,))


def _broadcast(a, shape):
    """np.broadcast_to(a, shape), read-only, built directly from strides (a tenth of the cost)."""
    if not a.flags.c_contiguous:
        return np.broadcast_to(a, shape)
    lead = len(shape) - a.ndim
    strides = (0,) * lead + tuple(0 if n == 1 and m != 1 else st
                                  for n, m, st in zip(a.shape, shape[lead:], a.strides))
    out = np.ndarray(shape, a.dtype, a, 0, strides)
    out.setflags(write=False)
    return out


@method()
def expand_as(self, other):
    return expand(self, other.shape)


@method()
def broadcast_to(self, size):
    return expand(self, size)


@method()
def flip(self, *dims):
    """A copy with the order of elements reversed along ``dims`` (not a view, as in PyTorch)."""
    dims = _shape_arg(dims)
    axes = tuple(self._dim_index(d) for d in dims)
    out = Tensor._make(np.flip(self._array, axes).copy(), self.dtype)
    return record(FlipBackward0, out, (self,), attrs=(dims,))


@method()
def fliplr(self):
    if self._array.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(self, 1)


@method()
def flipud(self):
    if self._array.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(self, 0)


@method()
def contiguous(self, memory_format=None):
    """Self if already contiguous, else a C-ordered copy (a CloneBackward0, as in PyTorch)."""
    if is_contiguous(self):
        return self
    return record(CloneBackward0, Tensor._make(np.ascontiguousarray(self._array), self.dtype),
                  (self,))


@method()
def is_contiguous(self, memory_format=None):
    a = self._array
    return type(a) is not np.ndarray or a.flags.c_contiguous


# ---- joins and splits -------------------------------------------------------------------------


def _join_class(name, n):
    """cat/stack take any number of inputs: one grad_fn class per input count."""
    key = (name, n)
    cls = _join_classes.get(key)
    if cls is None:
        names = tuple(f"tensors{i}" for i in range(n))
        if name == "CatBackward0":
            formulas = {nm: ("the slice of grad for this input",  # the dim wrapped, as PyTorch
                             (lambda i: lambda grad, dim, sizes: grad.narrow(
                                 dim % grad.dim(), sum(sizes[:i]), sizes[i]))(i))
                        for i, nm in enumerate(names)}
            cls = derivative(name, names, attrs=("dim",), hidden=("sizes",), **formulas,
                             result=("cat(tangents, dim)",
                                     lambda tangents, dim: cat(tangents, dim)))
        else:
            formulas = {nm: ("grad selected at this input's index",
                             (lambda i: lambda grad, dim: grad.select(dim, i))(i))
                        for i, nm in enumerate(names)}
            cls = derivative(name, names, attrs=("dim",), **formulas, result=(
                "stack(tangents, dim)", lambda tangents, dim: stack(tangents, dim)))
        _join_classes[key] = cls
    return cls


_join_classes = {}


@numpy_spellings
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    from .. import _dtype
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    ref = next((t for t in tensors if t._array.ndim), tensors[0])
    if ref._array.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = ref._dim_index(dim)
    arrays = [np.asarray(t._array, dt.np) for t in tensors
              if not (t._array.ndim == 1 and t._array.shape[0] == 0)]
    for i, a in enumerate(arrays):
        if a.ndim != ref._array.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{ref._array.ndim} and {a.ndim}")
        for k in range(a.ndim):
            if k != d and a.shape[k] != ref._array.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._array.shape[k]} but got size "
                                   f"{a.shape[k]} for tensor number {i} in the list.")
    out = Tensor._make(np.concatenate(arrays, axis=d), dt)
    sizes = tuple(t._array.shape[d] if t._array.ndim else 0 for t in tensors)
    return record(_join_class("CatBackward0", len(tensors)), out, tuple(tensors),
                  attrs=(dim, sizes))


concat = concatenate = cat


@numpy_spellings
def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._array.shape
    for i, t in enumerate(tensors):
        if t._array.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} "
                               f"at entry 0 and {list(t._array.shape)} at entry {i}")
    from .. import _dtype
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    d = tensors[0]._dim_index(dim, len(shape) + 1)
    out = Tensor._make(np.stack([np.asarray(t._array, dt.np) for t in tensors], axis=d), dt)
    return record(_join_class("StackBackward0", len(tensors)), out, tuple(tensors), attrs=(dim,))


# ---- diagonals ---------------------------------------------------------------------------------

DiagonalBackward0 = derivative(
    "DiagonalBackward0", ("self",), attrs=("dim1", "dim2", "offset", "self_sym_sizes"),
    self=("grad placed on the diagonal", lambda grad, dim1, dim2, offset, self_sym_sizes:
          _diagonal_backward(grad, self_sym_sizes, offset, dim1, dim2)),
    result=("self_t's diagonal", lambda self_t, dim1, dim2, offset: self_t.diagonal(
        offset, dim1, dim2)))
DiagonalBackwardBackward0 = derivative(
    "DiagonalBackwardBackward0", ("grad_output",), attrs=("dim1", "dim2", "offset"),
    grad_output=("grad's diagonal", lambda grad, dim1, dim2, offset: grad.diagonal(
        offset, dim1, dim2)),
    result=("grad_output_t placed on the diagonal", lambda grad_output_t, result, dim1, dim2,
            offset: _diagonal_backward(grad_output_t, result.shape, offset, dim1, dim2)))
DiagEmbedBackward0 = derivative(
    "DiagEmbedBackward0", ("self",), attrs=("dim1", "dim2", "offset"),
    self=("grad's diagonal", lambda grad, dim1, dim2, offset: grad.diagonal(offset, dim1, dim2)),
    result=("self_t embedded", lambda self_t, dim1, dim2, offset: diag_embed(
        self_t, offset, dim1, dim2)))


def _diagonal_view(a, offset, d1, d2):
    """NumPy's (writable) view of the diagonal, moved to the last dim as PyTorch's is."""
    view = np.diagonal(a, offset, d1, d2)
    view.flags.writeable = a.flags.writeable
    return view


def _diagonal_backward(grad, sizes, offset, dim1, dim2):
    """zeros(sizes) with ``grad`` on the diagonal (PyTorch's diagonal_backward), recorded."""
    out = np.zeros(tuple(sizes), grad.dtype.np)
    n = len(out.shape)
    _diagonal_view(out, offset, dim1 % n, dim2 % n)[...] = grad._array
    return record(DiagonalBackwardBackward0, Tensor._make(out, grad.dtype), (grad,),
                  attrs=(dim1, dim2, offset))


@method()
def diagonal(self, offset=0, dim1=0, dim2=1):
    d1, d2 = self._dim_index(dim1), self._dim_index(dim2)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    view = _diagonal_view(self._storage(), offset, d1, d2)
    return _view(self, view, DiagonalBackward0, (dim1, dim2, offset, self._array.shape))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with ``input``'s last dim on their diagonal (PyTorch's diag_embed)."""
    a = input._array
    n = a.ndim + 1
    d1, d2 = input._dim_index(dim1, n), input._dim_index(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = a.shape[-1] + abs(offset)
    shape = list(a.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, size)
    out = np.zeros(shape, a.dtype)
    _diagonal_view(out, offset, d1, d2)[...] = a
    return record(DiagEmbedBackward0, Tensor._make(out, input.dtype), (input,),
                  attrs=(dim1, dim2, offset))


Tensor.diag_embed = diag_embed


UndefinedGradBackward = derivative(
    "torch::autograd::UndefinedGradBackward", ("self",),
    self=("undefined (no gradient)", lambda grad: None),
    result=("no tangent", lambda self_t: None))


def undefined_grad(self):
    """A copy of ``self`` whose backward passes no gradient on: PyTorch's private UndefinedGrad,
    with which gradcheck tests backward formulas on undefined output gradients."""
    return record(UndefinedGradBackward, Tensor._make(self._array.copy(), self.dtype), (self,))


def _repeat_backward(grad, repeats, self_sym_sizes):
    """PyTorch's repeat_backward: the grad's leading dims summed away, each repeated dim split
    into (repeat, size) and summed over the repeats."""
    if 0 in repeats:
        return grad.new_zeros(self_sym_sizes)
    for _ in range(grad.dim() - len(self_sym_sizes)):
        grad = grad.sum(0)
    sizes, dims = [], []
    for repeat, size in zip(repeats[len(repeats) - len(self_sym_sizes):], self_sym_sizes):
        if repeat != 1:
            sizes.append(repeat)
            dims.append(len(sizes) - 1)
        sizes.append(size)
    if dims:
        grad = grad.reshape(sizes).sum(dims)
    return grad  # (a reshape to its own shape is the tensor itself in PyTorch)


RepeatBackward0 = derivative(
    "RepeatBackward0", ("self",), attrs=("repeats", "self_sym_sizes"),
    self=("grad summed over the repeats", _repeat_backward),
    result=("self_t repeated", lambda self_t, repeats: self_t.repeat(repeats)))
RollBackward0 = derivative(
    "RollBackward0", ("self",), attrs=("dims", "shifts"),
    self=("grad rolled back", lambda grad, dims, shifts: grad.roll(
        tuple(-s for s in reversed(shifts)), tuple(reversed(dims)))),
    result=("self_t rolled", lambda self_t, dims, shifts: self_t.roll(shifts, dims)))


@method()
def repeat(self, *repeats):
    """The tensor tiled ``repeats`` times along each dim (leading repeats add dims)."""
    repeats = _shape_arg(repeats)
    shape = self._array.shape
    if len(repeats) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    if any(r < 0 for r in repeats):
        sizes = [r * s for r, s in zip(repeats, (1,) * (len(repeats) - len(shape)) + shape)]
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(s for s in sizes if s < 0)}: {sizes}")
    out = Tensor._make(np.tile(self._array, repeats), self.dtype)
    return record(RepeatBackward0, out, (self,), attrs=(repeats, shape))


@method()
def tile(self, *dims):
    """repeat, with ones put in front of ``dims`` when it names fewer dims than the tensor has."""
    dims = _shape_arg(dims)
    return repeat(self, (1,) * (self.dim() - len(dims)) + dims)


@method()
def roll(self, shifts, dims=None):
    """Elements shifted along ``dims`` (along the flattened tensor when None), wrapping around."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims) and not (not dims and len(shifts) == 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    axes = tuple(self._dim_index(d) for d in dims) or None
    out = Tensor._make(np.roll(self._array, shifts if dims else shifts[0], axes), self.dtype)
    return record(RollBackward0, out, (self,), attrs=(dims, shifts))


@method()
def type_as(self, other):
    return self.to(other.dtype)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to, with PyTorch's error for those that do not."""
    from .._size import Size
    result = []
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        result = [1] * (len(shape) - len(result)) + result
        for k in range(1, len(shape) + 1):
            have, size = result[-k], shape[-k]
            if have == 1 or size == have:
                result[-k] = size if have == 1 else have
            elif size != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at -{k}! Mismatching "
                    f"argument at index {i} had {shape}; but expected shape should be "
                    f"broadcastable to {result}")
    return Size(result)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape (a tensor already of that shape itself)."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)
