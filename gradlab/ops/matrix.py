"""Matrices as lessons build them: triangles (tril, triu), diagonals (diag), traces, moved dims,
Kronecker and cross products, meshgrids, and the fused products baddbmm, addbmm, addmv, addr."""
import warnings

import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._core import derivative, method, record
from .inplace import inplace
from .linalg import _scaled, _unsafe_view, outer
from .shape import _diagonal_backward, diag_embed, stack

TrilBackward0 = derivative(
    "TrilBackward0", ("self",), attrs=("diagonal",),
    self=("grad's lower triangle", lambda grad, diagonal: grad.tril(diagonal)),
    result=("self_t's lower triangle", lambda self_t, diagonal: self_t.tril(diagonal)))
TriuBackward0 = derivative(
    "TriuBackward0", ("self",), attrs=("diagonal",),
    self=("grad's upper triangle", lambda grad, diagonal: grad.triu(diagonal)),
    result=("self_t's upper triangle", lambda self_t, diagonal: self_t.triu(diagonal)))
DiagonalCopyBackward0 = derivative(
    "DiagonalBackward0_copy", ("self",), attrs=("dim1", "dim2", "offset", "self_sym_sizes"),
    self=("grad placed on the diagonal", lambda grad, dim1, dim2, offset, self_sym_sizes:
          _diagonal_backward(grad, self_sym_sizes, offset, dim1, dim2)),
    result=("self_t's diagonal", lambda self_t, offset: self_t.diag(offset)))
TraceBackward0 = derivative(
    "TraceBackward0", ("self",), attrs=("self_sym_sizes",),
    self=("grad on the diagonal", lambda grad, self_sym_sizes: _trace_backward(
        grad, self_sym_sizes)),
    result=("trace(self_t)", lambda self_t: self_t.trace()))
IndexFillBackward1 = derivative(
    "IndexFillBackward1", ("self", "value"), saves=("index",), attrs=("dim",),
    self=("grad, 0 at index", lambda grad, index, dim: _index_fill(grad, dim, index, 0.0)),
    value=("Σ grad at index", lambda grad, index, dim: grad.index_select(dim, index).sum()),
    result=("self_t, value_t at index", lambda self_t, value_t, index, dim: _index_fill(
        self_t, dim, index, value_t)))
IndexFillBackward0 = derivative(
    "IndexFillBackward0", ("self",), saves=("index",), attrs=("dim",),
    self=("grad, 0 at index", lambda grad, index, dim: _index_fill(grad, dim, index, 0.0)),
    result=("self_t, 0 at index", lambda self_t, index, dim: _index_fill(self_t, dim, index,
                                                                          0.0)))
BaddbmmBackward0 = derivative(
    "BaddbmmBackward0", ("self", "batch1", "batch2"), broadcasts=("self",),
    saves=("batch1", "batch2"), attrs=("alpha", "beta"),
    self=("grad · beta", lambda grad, beta: _scaled(grad, beta)),
    batch1=("grad · batch2ᵀ · alpha", lambda grad, batch2, alpha: _scaled(
        grad.bmm(batch2.transpose(1, 2)), alpha)),
    batch2=("batch1ᵀ · grad · alpha", lambda grad, batch1, alpha: _scaled(
        batch1.transpose(1, 2).bmm(grad), alpha)),
    result=("self_t · beta + (batch1_t · batch2 + batch1 · batch2_t) · alpha",
            lambda self_t, batch1_t, batch2_t, batch1, batch2, alpha, beta:
                _scaled(self_t, beta) + _scaled(batch1_t.bmm(batch2), alpha)
                + _scaled(batch1.bmm(batch2_t), alpha)))
AddbmmBackward0 = derivative(
    "AddbmmBackward0", ("self", "batch1", "batch2"), broadcasts=("self",),
    saves=("batch1", "batch2"),
    attrs=("alpha", "batch1_sym_argsize_0", "batch1_sym_argsize_1", "batch2_sym_argsize_2",
           "beta"),
    self=("grad · beta", lambda grad, beta: _scaled(grad, beta)),
    batch1=("grad · batch2ᵀ · alpha, for each batch",
            lambda grad, batch2, alpha, batch1_sym_argsize_0, batch1_sym_argsize_1,
            batch2_sym_argsize_2: _scaled(grad.unsqueeze(0).expand(
                batch1_sym_argsize_0, batch1_sym_argsize_1, batch2_sym_argsize_2).bmm(
                batch2.transpose(1, 2)), alpha)),
    batch2=("batch1ᵀ · grad · alpha, for each batch",
            lambda grad, batch1, alpha, batch1_sym_argsize_0, batch1_sym_argsize_1,
            batch2_sym_argsize_2: _scaled(batch1.transpose(1, 2).bmm(grad.unsqueeze(0).expand(
                batch1_sym_argsize_0, batch1_sym_argsize_1, batch2_sym_argsize_2)), alpha)),
    result=("self_t · beta + Σ (batch1_t · batch2 + batch1 · batch2_t) · alpha",
            lambda self_t, batch1_t, batch2_t, batch1, batch2, alpha, beta:
                _scaled(self_t, beta) + _scaled(batch1_t.bmm(batch2).sum(0), alpha)
                + _scaled(batch1.bmm(batch2_t).sum(0), alpha)))
AddmvBackward0 = derivative(
    "AddmvBackward0", ("self", "mat", "vec"), broadcasts=("self",), saves=("mat", "vec"),
    attrs=("alpha", "beta"),
    self=("grad · beta", lambda grad, beta: _scaled(grad, beta)),
    mat=("(grad ⊗ vec) · alpha", lambda grad, vec, alpha: _scaled(outer(grad, vec), alpha)),
    vec=("matᵀ · grad · alpha", lambda grad, mat, alpha: _scaled(mat.t().mv(grad), alpha)),
    result=("self_t · beta + (mat_t · vec + mat · vec_t) · alpha",
            lambda self_t, mat_t, vec_t, mat, vec, alpha, beta: _scaled(self_t, beta)
                + _scaled(mat_t.mv(vec), alpha) + _scaled(mat.mv(vec_t), alpha)))
AddrBackward0 = derivative(
    "AddrBackward0", ("self", "vec1", "vec2"), broadcasts=("self",), saves=("vec1", "vec2"),
    attrs=("alpha", "beta"),
    self=("grad · beta", lambda grad, beta: _scaled(grad, beta)),
    vec1=("grad · vec2 · alpha", lambda grad, vec2, alpha: _scaled(grad.mv(vec2), alpha)),
    vec2=("gradᵀ · vec1 · alpha", lambda grad, vec1, alpha: _scaled(grad.t().mv(vec1), alpha)),
    result=("self_t · beta + (vec1_t ⊗ vec2 + vec1 ⊗ vec2_t) · alpha",
            lambda self_t, vec1_t, vec2_t, vec1, vec2, alpha, beta: _scaled(self_t, beta)
                + _scaled(outer(vec1_t, vec2), alpha) + _scaled(outer(vec1, vec2_t), alpha)))
LinalgCrossBackward0 = derivative(
    "LinalgCrossBackward0", ("self", "other"), broadcasts=True, saves=("self", "other"),
    attrs=("dim",),
    self=("other × grad", lambda grad, other, dim: linalg_cross(other, grad, dim=dim)),
    other=("grad × self", lambda grad, self, dim: linalg_cross(grad, self, dim=dim)),
    result=("self_t × other + self × other_t", lambda self_t, other_t, self, other, dim:
            linalg_cross(self_t, other, dim=dim) + linalg_cross(self, other_t, dim=dim)))


# ---- triangles, diagonals, traces -------------------------------------------------------------

def _triangle(self, diagonal, name, keep, cls):
    a = self._array
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = a.shape[-2:]
    mask = keep(np.ones((rows, cols), np.bool_), diagonal)
    out = np.where(mask, a, a.dtype.type(0))
    return record(cls, Tensor._make(out, self.dtype), (self,), attrs=(diagonal,))


@method()
def tril(self, diagonal=0):
    return _triangle(self, diagonal, "tril", np.tril, TrilBackward0)


@method()
def triu(self, diagonal=0):
    return _triangle(self, diagonal, "triu", np.triu, TriuBackward0)


@method()
def tril_(self, diagonal=0):
    return inplace(self, lambda t: tril(t, diagonal))


@method()
def triu_(self, diagonal=0):
    return inplace(self, lambda t: triu(t, diagonal))


@method()
def diag(self, diagonal=0):
    """A vector's diagonal matrix (diag_embed), or a matrix's diagonal as a new vector."""
    n = self._array.ndim
    if n == 1:
        return diag_embed(self, diagonal, -2, -1)
    if n != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {n}D")
    out = np.diagonal(self._array, diagonal).copy()
    return record(DiagonalCopyBackward0, Tensor._make(out, self.dtype), (self,),
                  attrs=(0, 1, diagonal, self._array.shape))


@method()
def trace(self):
    a = self._array
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    if self.dtype is _dtype.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    dt = self.dtype if self.dtype.is_floating_point else _dtype.int64
    out = Tensor._make(np.asarray(np.trace(a), dt.np), dt)
    return record(TraceBackward0, out, (self,), attrs=(a.shape,))


def _trace_backward(grad, sizes):
    """PyTorch's trace_backward: zeros(rows · cols) filled with grad at the diagonal's flat
    indices (an in-place index_fill_), viewed as the matrix."""
    rows, cols = sizes
    index = Tensor._make(np.arange(0, rows * cols, cols + 1, dtype=np.int64), _dtype.int64)
    flat = Tensor._make(np.zeros(rows * cols, grad.dtype.np), grad.dtype)
    return _index_fill(flat, 0, index, grad).view(sizes)


def _index_fill(self, dim, index, value):
    """self with ``value`` (a number or a 0-dim tensor) at ``index`` along ``dim``."""
    out = self._array.copy()
    v = value._array if isinstance(value, Tensor) else value
    idx = [slice(None)] * out.ndim
    idx[dim] = index._array
    out[tuple(idx)] = v
    out = Tensor._make(out, self.dtype)
    if isinstance(value, Tensor):
        return record(IndexFillBackward1, out, (self, value), (index,), (dim,))
    return record(IndexFillBackward0, out, (self,), (index,), (dim,))


# ---- moving dims ------------------------------------------------------------------------------

def _dim_list(dims):
    return [dims] if isinstance(dims, int) else list(dims)


@method("movedim", "moveaxis")
def movedim(self, source, destination):
    """self with the dims ``source`` moved to the places ``destination`` (a permute)."""
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src_n = [self._dim_index(d) for d in src]
    dst_n = [self._dim_index(d) for d in dst]
    for name, given, wrapped in (("source", src, src_n), ("destination", dst, dst_n)):
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    n = self._array.ndim
    order = [-1] * n
    for s, d in zip(src_n, dst_n):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src_n)
    order = [d if d >= 0 else next(rest) for d in order]
    return self.permute(order)


moveaxis = movedim


# ---- products ---------------------------------------------------------------------------------

def kron(input, other):
    """The Kronecker product, as PyTorch builds it: two padded views multiplied, viewed back."""
    n = max(input._array.ndim, other._array.ndim)
    a = (1,) * (n - input._array.ndim) + input._array.shape
    b = (1,) * (n - other._array.ndim) + other._array.shape
    left = _unsafe_view(input, tuple(x for s in a for x in (s, 1)))
    right = _unsafe_view(other, tuple(x for s in b for x in (1, s)))
    return _unsafe_view(left * right, tuple(x * y for x, y in zip(a, b)))


Tensor.kron = kron


def _check_same_dtype(self, batch1, batch2):
    if self.dtype is not batch1.dtype or batch1.dtype is not batch2.dtype:
        from .linalg import _C_NAMES
        names = [_C_NAMES[t.dtype.name] for t in (self, batch1, batch2)]
        raise RuntimeError(f"Input dtypes must be the same, got: input {names[0]}, batch1: "
                           f"{names[1]}, batch2: {names[2]}")


def _combine(self, product, beta, alpha):
    """beta · self + alpha · product, where beta = 0 ignores self (its NaN and inf too)."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (self if beta == 1 else beta * self)


@method()
def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    _check_same_dtype(self, batch1, batch2)
    prod = batch1.detach().bmm(batch2.detach())._array
    try:
        np.broadcast_to(self._array, prod.shape)
    except ValueError:
        self.expand(*prod.shape)  # PyTorch's text for a self that does not expand
    out = Tensor._make(np.asarray(_combine(self._array, prod, beta, alpha), self.dtype.np),
                       self.dtype)
    return record(BaddbmmBackward0, out, (self, batch1, batch2), (batch1, batch2),
                  (alpha, beta))


@method()
def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    _check_same_dtype(self, batch1, batch2)
    prod = batch1.detach().bmm(batch2.detach())._array.sum(0)
    try:
        np.broadcast_to(self._array, prod.shape)
    except ValueError:
        self.expand(*prod.shape)
    (b, n, _), p = batch1._array.shape, batch2._array.shape[2]
    out = Tensor._make(np.asarray(_combine(self._array, prod, beta, alpha), self.dtype.np),
                       self.dtype)
    return record(AddbmmBackward0, out, (self, batch1, batch2), (batch1, batch2),
                  (alpha, b, n, p, beta))


@method()
def addmv(self, mat, vec, *, beta=1, alpha=1):
    if self.dtype is not mat.dtype or mat.dtype is not vec.dtype:
        names = ", ".join(t.dtype._legacy[:-len("Tensor")] for t in (self, mat))
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {names}, and "
                           f"{vec.dtype._legacy[:-len('Tensor')]}")
    prod = mat.detach().mv(vec.detach())._array
    try:
        np.broadcast_to(self._array, prod.shape)
    except ValueError:
        self.expand(*prod.shape)
    out = Tensor._make(np.asarray(_combine(self._array, prod, beta, alpha), self.dtype.np),
                       self.dtype)
    return record(AddmvBackward0, out, (self, mat, vec), (mat, vec), (alpha, beta))


@method()
def addr(self, vec1, vec2, *, beta=1, alpha=1):
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v._array.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got "
                               f"{v._array.ndim}-D")
    prod = np.multiply.outer(vec1._array, vec2._array)
    try:
        np.broadcast_to(self._array, prod.shape)
    except ValueError:
        self.expand(*prod.shape)
    dt = _dtype.promote_types(_dtype.promote_types(self.dtype, vec1.dtype), vec2.dtype)
    out = Tensor._make(np.asarray(_combine(self._array, prod, beta, alpha), dt.np), dt)
    return record(AddrBackward0, out, (self, vec1, vec2), (vec1, vec2), (alpha, beta))


@method()
def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return inplace(self, lambda t: baddbmm(t, batch1, batch2, beta=beta, alpha=alpha))


@method()
def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return inplace(self, lambda t: addbmm(t, batch1, batch2, beta=beta, alpha=alpha))


@method()
def addmv_(self, mat, vec, *, beta=1, alpha=1):
    return inplace(self, lambda t: addmv(t, mat, vec, beta=beta, alpha=alpha))


@method()
def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    return inplace(self, lambda t: addr(t, vec1, vec2, beta=beta, alpha=alpha))


def linalg_cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product of 3-vectors along ``dim``."""
    if input._array.ndim != other._array.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    n = input._array.ndim
    d = input._dim_index(dim, n)
    a, b = input._array, other._array
    sa, sb = a.shape[d], b.shape[d]
    if sa != 3 or sb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa} "
                           f"and {sb}")
    dt = _dtype.promote_types(input.dtype, other.dtype)
    out = np.cross(a.astype(dt.np), b.astype(dt.np), axis=d)
    return record(LinalgCrossBackward0, Tensor._make(np.asarray(out, dt.np), dt),
                  (input, other), (input, other), (dim,))


@method()
def cross(self, other, dim=None):
    """torch.cross: linalg.cross along ``dim``, or (deprecated) the first dim of size 3."""
    if dim is None:
        warnings.warn(CROSS_WARNING, UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(self._array.shape, other._array.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(self, other, dim=dim)


CROSS_WARNING = (
    "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
    "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
    "with that of linalg.cross in a future release. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/Cross.cpp:63.)")


# ---- grids ------------------------------------------------------------------------------------

MESHGRID_WARNING = (
    "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument. "
    "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4215.)")


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: each tensor viewed along its own dim and expanded (ij), or with the
    first two swapped (xy)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("xy", "ij"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    tensors = list(tensors)
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in tensors:
        if t._array.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a {t._array.ndim}D tensor")
    shape = [t._array.size for t in tensors]
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[i] = -1
        grids.append(t.view(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    for t in tensors:
        if t._array.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._array.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.flatten() for g in meshgrid(*tensors, indexing="ij")], 1)
