"""Matrix products (mm, mv, dot, matmul (@), bmm, addmm, outer) and torch.linalg's inv, det,
slogdet and solve."""
import numpy as np

from .. import _dtype
from ..autograd.grad_mode import _local
from ..tensor import Tensor
from ._core import RESULT, derivative, joint, method, quiet, record, view_like

MmBackward0 = derivative(
    "MmBackward0", ("self", "mat2"), saves=("self", "mat2"),
    attrs=("self_sym_sizes", "self_sym_strides", "mat2_sym_sizes", "mat2_sym_strides"),
    self=("grad · mat2ᵀ", lambda grad, mat2, self_sym_sizes, self_sym_strides: _mat1_backward(
        grad, mat2, self_sym_sizes, self_sym_strides, 1),
        lambda g, mat2, self_sym_sizes, self_sym_strides: (mat2 @ g.T).T
        if _column_major(self_sym_sizes, self_sym_strides) else g @ mat2.T),
    mat2=("selfᵀ · grad", lambda grad, self, mat2_sym_sizes, mat2_sym_strides: _mat2_backward(
        grad, self, mat2_sym_sizes, mat2_sym_strides, 1),
        lambda g, self, mat2_sym_sizes, mat2_sym_strides: (g.T @ self).T
        if _column_major(mat2_sym_sizes, mat2_sym_strides) else self.T @ g),
    result=("self_t · mat2 + self · mat2_t",
            lambda self_t, mat2_t, self, mat2: self_t.mm(mat2) + self.mm(mat2_t)))
MvBackward0 = derivative(
    "MvBackward0", ("self", "vec"), saves=("self", "vec"),
    self=("grad ⊗ vec", lambda grad, vec: outer(grad, vec)),
    vec=("selfᵀ · grad", lambda grad, self: self.t().mv(grad)),
    result=("self_t · vec + self · vec_t",
            lambda self_t, vec_t, self, vec: self_t.mv(vec) + self.mv(vec_t)))
DotBackward0 = derivative(
    "DotBackward0", ("self", "tensor"), saves=("self", "tensor"),
    self=("grad · tensor", lambda grad, tensor: grad * tensor),
    tensor=("grad · self", lambda grad, self: grad * self),
    result=("self_t · tensor + self · tensor_t",
            lambda self_t, tensor_t, self, tensor: self_t.dot(tensor) + self.dot(tensor_t)))
BmmBackward0 = derivative(
    "BmmBackward0", ("self", "mat2"), saves=("self", "mat2"),
    self=("grad · mat2ᵀ", lambda grad, mat2: grad.bmm(mat2.transpose(1, 2))),
    mat2=("selfᵀ · grad", lambda grad, self: self.transpose(1, 2).bmm(grad)),
    result=("self_t · mat2 + self · mat2_t",
            lambda self_t, mat2_t, self, mat2: self_t.bmm(mat2) + self.bmm(mat2_t)))
AddmmBackward0 = derivative(
    "AddmmBackward0", ("self", "mat1", "mat2"), saves=("mat1", "mat2"),
    broadcasts=("self",),
    attrs=("alpha", "beta", "mat1_sym_sizes", "mat1_sym_strides", "mat2_sym_sizes",
           "mat2_sym_strides"),
    self=("grad · beta", lambda grad, beta: _scaled(grad, beta)),
    mat1=("grad · mat2ᵀ · alpha", lambda grad, mat2, alpha, mat1_sym_sizes, mat1_sym_strides:
          _mat1_backward(grad, mat2, mat1_sym_sizes, mat1_sym_strides, alpha)),
    mat2=("mat1ᵀ · grad · alpha", lambda grad, mat1, alpha, mat2_sym_sizes, mat2_sym_strides:
          _mat2_backward(grad, mat1, mat2_sym_sizes, mat2_sym_strides, alpha)),
    result=("self_t · beta + (mat1_t · mat2 + mat1 · mat2_t) · alpha",
            lambda self_t, mat1_t, mat2_t, mat1, mat2, alpha, beta:
                _scaled(self_t, beta) + _scaled(mat1_t.mm(mat2) + mat1.mm(mat2_t), alpha)))


def _column_major(sizes, strides):
    return len(strides) == 2 and strides[0] == 1 and strides[1] == sizes[0]


def _mat1_backward(grad, mat2, sizes, strides, alpha):
    """PyTorch's mm_mat1_backward: for a column-major mat1, the gradient is made column-major."""
    if _column_major(sizes, strides):
        return _scaled(mat2.mm(grad.t()).t(), alpha)
    return _scaled(grad.mm(mat2.t()), alpha)


def _mat2_backward(grad, mat1, sizes, strides, alpha):
    """PyTorch's mm_mat2_backward: for a column-major mat2, the gradient is made column-major."""
    if _column_major(sizes, strides):
        return _scaled(grad.t().mm(mat1).t(), alpha)
    return _scaled(mat1.t().mm(grad), alpha)


def _scaled(x, alpha):
    from .elementwise import mul_scalar
    return x if alpha == 1 else mul_scalar(x, alpha)


def _strides(t):
    """The strides PyTorch keeps for matrix ``t``'s own gradient formula: none if t needs no
    gradient (or no graph is recorded, as in a backward formula)."""
    if not t._requires_grad or not _local.enabled:
        return ()
    a = t._array
    (rows, cols), size = a.strides, a.itemsize
    return rows // size, cols // size


# the C++ names PyTorch's mm error text uses
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def _promoted(a, b, name):
    if a.dtype is not b.dtype:
        if name == "mm":
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_C_NAMES[a.dtype.name]} != {_C_NAMES[b.dtype.name]}")
        mat, vec = a.dtype._legacy[:-6], b.dtype._legacy[:-6]
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {vec}, {mat}, "
                           f"and {vec}")


@method()
def mm(self, mat2):
    if self._array.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._array.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (n, k), (k2, m) = self._array.shape, mat2._array.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    _promoted(self, mat2, "mm")
    out = Tensor._make(np.matmul(self._array, mat2._array), self.dtype)
    return record(MmBackward0, out, (self, mat2), (self, mat2),
                  (self._array.shape, _strides(self), mat2._array.shape, _strides(mat2)))


@method()
def mv(self, vec):
    if self._array.ndim != 2 or vec._array.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self._array.ndim}, "
                           f"{vec._array.ndim}")
    (n, k), (k2,) = self._array.shape, vec._array.shape
    if k != k2:
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({n}x{k}), vec ({k2})")
    _promoted(self, vec, "mv")
    out = Tensor._make(np.matmul(self._array, vec._array), self.dtype)
    return record(MvBackward0, out, (self, vec), (self, vec))


@method()
def dot(self, tensor):
    if self._array.ndim != 1 or tensor._array.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {self._array.ndim}D and "
                           f"{tensor._array.ndim}D tensors")
    n, m = self._array.shape[0], tensor._array.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have "
                           f"the same number of elements, but got {n} and {m} elements respectively")
    if self.dtype is not tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{self.dtype._legacy[:-6]} and {tensor.dtype._legacy[:-6]}")
    out = Tensor._make(np.asarray(np.dot(self._array, tensor._array)), self.dtype)
    return record(DotBackward0, out, (self, tensor), (self, tensor))


inner = dot


@method()
def bmm(self, mat2):
    if self._array.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._array.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (b, _n, k), (b2, k2, _m) = self._array.shape, mat2._array.shape
    if b != b2 or k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{b2}, {k2}].")
    out = Tensor._make(np.matmul(self._array, mat2._array), self.dtype)
    return record(BmmBackward0, out, (self, mat2), (self, mat2))


@method("matmul", "__matmul__")
def matmul(self, other):
    """PyTorch's matmul dispatch: dot, mv, mm, or folded/batched products."""
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    da, db = self._array.ndim, other._array.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return dot(self, other)
    if da == 2 and db == 1:
        return mv(self, other)
    if da == 1 and db == 2:
        return _squeeze4(mm(self.unsqueeze(0), other))
    if da == 2 and db == 2:
        return mm(self, other)
    if da >= 3 and db <= 2:
        lead, k = self._array.shape[:-1], self._array.shape[-1]
        folded = self.reshape(-1, k)
        if db == 1:
            out = folded.mv(other)
            return _unsafe_view(out, lead)
        if other._array.shape[0] != k:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({folded.shape[0]}x{k} "
                               f"and {other._array.shape[0]}x{other._array.shape[1]})")
        return _unsafe_view(folded.mm(other), lead + (other._array.shape[1],))
    if db >= 3 and da <= 2:
        return _fold_transposed(self, other)
    return _batched(self, other)


def _fold_transposed(self, other):
    """(1-D or 2-D) @ (≥3-D): PyTorch folds other.mT into a matrix and transposes back."""
    from .elementwise import clone
    t1 = other.mT
    t2 = self.t() if self._array.ndim == 2 else self
    lead, k = t1._array.shape[:-1], t1._array.shape[-1]
    if t2._array.shape[0] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(lead[:-1]))}, {t2._array.shape[0]}] but got: "
                           f"[{int(np.prod(lead[:-1]))}, {k}].")
    folded = t1.reshape(-1, k)
    if t2._array.ndim == 1:
        return _unsafe_view(folded.mv(t2), lead)
    return clone(_unsafe_view(folded.mm(t2), lead + (t2._array.shape[1],)).mT)


def _unsqueeze_to(grad, dims, sizes):
    from .shape import _unsqueeze_to
    return _unsqueeze_to(grad, dims, sizes)


def _squeeze4(t):
    """The squeeze after a vector-matrix product (an in-place squeeze_ in PyTorch, hence the
    version 1)."""
    out = Tensor._make(t._array.reshape(t._array.shape[1:]), t.dtype,
                       counter=None if _local.inference else [1])
    return record(SqueezeBackward4, out, (t,), attrs=(0, t._array.shape))


SqueezeBackward4 = derivative(
    "SqueezeBackward4", ("self",), attrs=("dim", "self_sym_sizes"),
    self=("grad unsqueezed at dim", lambda grad, dim, self_sym_sizes: _unsqueeze_to(
        grad, (dim,), self_sym_sizes)),
    result=("self_t viewed as result", lambda self_t, result: view_like(self_t, result)))


def _unsafe_view(t, shape):
    from .shape import UnsafeViewBackward0
    out = Tensor._make(t._array.reshape(shape), t.dtype)
    return record(UnsafeViewBackward0, out, (t,), attrs=(t._array.shape,))


def _batched(a, b):
    """Batched matmul: broadcast the batch dims, fold them, bmm, unfold."""
    va, vb = a._array.ndim == 1, b._array.ndim == 1
    a2 = a.unsqueeze(0) if va else a
    b2 = b.unsqueeze(-1) if vb else b
    (n, k), (k2, m) = a2._array.shape[-2:], b2._array.shape[-2:]
    if k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(a2._array.shape[:-2]))}, {k}] but got: "
                           f"[{int(np.prod(b2._array.shape[:-2]))}, {k2}].")
    try:
        batch = np.broadcast_shapes(a2._array.shape[:-2], b2._array.shape[:-2])
    except ValueError:
        from ._core import broadcast_error
        raise broadcast_error(a2._array.shape[:-2], b2._array.shape[:-2]) from None
    size = int(np.prod(batch))
    out = a2.expand(batch + (n, k)).reshape(size, n, k).bmm(
        b2.expand(batch + (k, m)).reshape(size, k, m))
    shape = batch + ((n,) if not va else ()) + ((m,) if not vb else ())
    return _unsafe_view(out, shape)


@method()
def addmm(self, mat1, mat2, *, beta=1, alpha=1):
    for name, t in (("self", self), ("mat1", mat1)):
        if t.dtype is not mat2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{t.dtype._legacy[:-6]} and {mat2.dtype._legacy[:-6]}")
    (n, k), (k2, m) = mat1._array.shape, mat2._array.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    shape = self._array.shape
    if len(shape) > 2 or any(a not in (1, b) for a, b in zip(shape[::-1], (m, n))):
        self.expand(n, m)  # raises PyTorch's error for a self that does not expand to n x m
    prod = np.matmul(mat1._array, mat2._array)
    if alpha != 1:
        prod *= alpha
    value = prod + (self._array if beta == 1 else beta * self._array)
    out = Tensor._make(value.astype(mat1.dtype.np, copy=False), mat1.dtype)
    return record(AddmmBackward0, out, (self, mat1, mat2), (mat1, mat2),
                  (alpha, beta, mat1._array.shape, _strides(mat1), mat2._array.shape,
                   _strides(mat2)))


@method()
def outer(self, vec2):
    return self.reshape(self._array.shape[0], 1) * vec2


ger = outer


# ---- torch.linalg (the public namespace is gradlab/linalg.py) ---------------------------------

class _LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix the factorization cannot handle (singular, ...)."""


def _inv_backward(grad, inverse):
    """-inverseᴴ (grad inverseᴴ), the inner product made first: GCC evaluates PyTorch's C++
    arguments right to left, which orders the nodes of a second derivative."""
    inner = grad @ inverse.mT
    return -(inverse.mT @ inner)


LinalgInvExBackward0 = derivative(
    "LinalgInvExBackward0", ("A",), saves=("inverse",),
    A=("-inverseᴴ · grad · inverseᴴ", _inv_backward),
    result=("-inverse · A_t · inverse", lambda A_t, inverse: -(inverse @ (A_t @ inverse))))


def _square(A, op):
    a = A._array
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype._legacy[:-6]}")


def _first_zero_pivot(a):
    """The 1-based index of the first zero pivot of LAPACK's LU with partial pivoting."""
    u = np.array(a, np.float64)
    for k in range(u.shape[0]):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return 0


def inv(A):
    """torch.linalg.inv: recorded as PyTorch records it, by linalg_inv_ex."""
    _square(A, "linalg.inv")
    a = np.asarray(A._array)
    try:
        value = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        mats = a.reshape((-1,) + a.shape[-2:])
        k = next(k for k in map(_first_zero_pivot, mats) if k)
        raise _LinAlgError(f"linalg.inv: The diagonal element {k} is zero, the inversion could "
                           "not be completed because the input matrix is singular.") from None
    value = np.asarray(value, A.dtype.np).swapaxes(-1, -2).copy().swapaxes(-1, -2)
    out = Tensor._make(value, A.dtype)  # LAPACK's solution, column-major as PyTorch keeps it
    return record(LinalgInvExBackward0, out, (A,), (RESULT,))


# ---- LU-based: det, slogdet, solve -------------------------------------------------------------

@quiet
def _lu_factor(a):
    """LAPACK's getrf on each matrix of ``a``: L (unit diagonal implied) and U in one array, and
    the 1-based int32 pivots (row k was swapped with row pivots[k] - 1), by partial pivoting."""
    n = a.shape[-1]
    lu = np.array(a).reshape((-1, n, n))
    pivots = np.empty(lu.shape[:2], np.int32)
    every = np.arange(lu.shape[0])
    for k in range(n):
        p = k + np.argmax(np.abs(lu[:, k:, k]), axis=1)
        pivots[:, k] = p + 1
        lu[every, k], lu[every, p] = lu[every, p], lu[every, k]
        pivot = lu[:, k, k:k + 1]
        column = lu[:, k + 1:, k]
        np.divide(column, pivot, out=column, where=pivot != 0)
        lu[:, k + 1:, k + 1:] -= column[:, :, None] * lu[:, k, None, k + 1:]
    return lu.reshape(a.shape), pivots.reshape(a.shape[:-1])


def _permutation(pivots):
    """The row order that LAPACK's pivots (1-based swaps, applied in turn) give."""
    n = pivots.shape[-1]
    flat = pivots.reshape(-1, n) - 1
    perm = np.tile(np.arange(n), (flat.shape[0], 1))
    every = np.arange(flat.shape[0])
    for k in range(n):
        p = flat[:, k]
        perm[every, k], perm[every, p] = perm[every, p], perm[every, k]
    return perm.reshape(pivots.shape)


def _triangular_solve(t, b, lower, unit=False):
    """x with t x = b for triangular ``t``, row by row (zeros on the diagonal give inf/nan)."""
    n = t.shape[-1]
    x = np.array(np.broadcast_to(b, np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:]))
    for i in range(n) if lower else range(n - 1, -1, -1):
        done = slice(0, i) if lower else slice(i + 1, n)
        x[..., i, :] -= np.einsum("...k,...km->...m", t[..., i, done], x[..., done, :])
        if not unit:
            x[..., i, :] /= t[..., i, i, None]
    return x


@quiet
def _lu_solve(lu, pivots, b, adjoint):
    """PyTorch's linalg_lu_solve(LU, pivots, B): x with A x = b (Aᵀ x = b if ``adjoint``)
    for A = P L U as getrf gives it."""
    batch = np.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    perm = np.broadcast_to(_permutation(pivots)[..., None], batch + (lu.shape[-1], 1))
    b = np.broadcast_to(b, batch + b.shape[-2:])
    if not adjoint:
        y = _triangular_solve(lu, np.take_along_axis(b, perm, -2), True, unit=True)
        return _triangular_solve(lu, y, False)
    y = _triangular_solve(lu.swapaxes(-1, -2), b, True)
    y = _triangular_solve(lu.swapaxes(-1, -2), y, False, unit=True)
    x = np.empty_like(y)
    np.put_along_axis(x, np.broadcast_to(perm, y.shape), y, -2)
    return x


def _permutation_sign(pivots):
    n = pivots.shape[-1]
    swaps = np.count_nonzero(pivots != np.arange(1, n + 1, dtype=np.int32), axis=-1)
    return np.where(swaps % 2, -1, 1)


def _lu_of(A):
    """The LU that PyTorch's det and slogdet keep: of Aᵀ when A is contiguous (what LAPACK,
    column-major, reads without a copy), else of A."""
    a = np.asarray(A._array)
    lu, pivots = _lu_factor(a.swapaxes(-1, -2) if A.is_contiguous() else a)
    return (Tensor._make(lu, A.dtype), Tensor._make(pivots, _dtype.int32))


def _eps(dtype):
    return float(np.finfo(dtype.np).eps)


def _det_backward(grad, A, LU, pivots, result):
    """PyTorch's linalg_det_backward: the solution G of Aᵀ G = det · grad · I."""
    if not A._array.size:
        return None
    if not _local.enabled:  # det is C¹: a singular A's zero pivots are nudged to eps
        lu = np.asarray(LU._array)
        diag = np.einsum("...ii->...i", lu)
        lu = lu + (np.eye(lu.shape[-1]) * np.where(diag == 0, _eps(A.dtype), 0)[..., None, :])
        d = (grad._array * result._array)[..., None, None] * np.eye(lu.shape[-1])
        g = _lu_solve(lu.astype(A.dtype.np), pivots._array, d, not A.is_contiguous())
        return Tensor._make(np.asarray(g, A.dtype.np), A.dtype)
    if (np.abs(result._array) < 100 * _eps(A.dtype)).any():
        raise NotImplementedError("gradlab does not implement torch.linalg.svd, which the double "
                                  "backward of det uses at a singular matrix")
    from .shape import diag_embed
    d_diag = grad * result
    d = diag_embed(d_diag.unsqueeze(-1).expand_as(pivots)).mT
    return solve(A.mT, d)


def _det_jvp(A_t, result, LU, pivots, A):
    """PyTorch's linalg_det_jvp: tr(A⁻¹ A_t) · det (zero pivots nudged to eps)."""
    lu = np.asarray(LU._array)
    diag = np.einsum("...ii->...i", lu)
    lu = lu + np.eye(lu.shape[-1]) * np.where(diag == 0, _eps(A.dtype), 0)[..., None, :]
    x = _lu_solve(lu.astype(A.dtype.np), pivots._array, A_t._array, A.is_contiguous())
    trace = Tensor._make(np.asarray(np.einsum("...ii->...", x), A.dtype.np), A.dtype)
    return trace * result


LinalgDetBackward0 = derivative(
    "LinalgDetBackward0", ("A",), saves=("A", "LU", "pivots", "result"),
    A=("det · grad · A⁻ᵀ", _det_backward),
    result=("tr(A⁻¹ · A_t) · det", _det_jvp))


def _slogdet_backward(grads, A, LU, pivots, sign):
    """PyTorch's slogdet_backward (real): grad_logabsdet · A⁻ᵀ; the sign has no gradient."""
    g = grads[1]
    if g is None:
        return None
    from .shape import diag_embed
    d = diag_embed(g.unsqueeze(-1).expand_as(pivots)).mT
    if _local.enabled:
        return solve(A.mT, d)
    x = _lu_solve(np.asarray(LU._array), pivots._array, d._array, not A.is_contiguous())
    return Tensor._make(np.asarray(x, A.dtype.np), A.dtype)


def _slogdet_jvp(A_t, LU, pivots, sign, A):
    """PyTorch's slogdet_jvp (real): zeros for the sign, tr(A⁻¹ A_t) for logabsdet."""
    x = _lu_solve(np.asarray(LU._array), pivots._array, A_t._array, A.is_contiguous())
    trace = Tensor._make(np.asarray(np.einsum("...ii->...", x), A.dtype.np), A.dtype)
    return Tensor._make(np.zeros(sign._array.shape, A.dtype.np), A.dtype), trace


LinalgSlogdetBackward0 = derivative(
    "LinalgSlogdetBackward0", ("A",), saves=("A", "LU", "pivots", "sign"), num_outputs=2,
    A=("grad_logabsdet · A⁻ᵀ", _slogdet_backward),
    result=("(0, tr(A⁻¹ · A_t))", _slogdet_jvp))
LinalgSlogdetBackward0._multi = True  # its formula reads each output's grad (None if it has none)


def det(A):
    """torch.linalg.det (and torch.det, Tensor.det): recorded as PyTorch's _linalg_det."""
    _square(A, "linalg.det")
    LU, pivots = _lu_of(A)
    lu = LU._array
    value = np.prod(np.einsum("...ii->...i", lu), axis=-1) * _permutation_sign(pivots._array)
    out = Tensor._make(np.asarray(value, A.dtype.np), A.dtype)
    return record(LinalgDetBackward0, out, (A,), (A, LU, pivots, RESULT))


class SignLogAbsDet(tuple):
    """(sign, logabsdet), printed as PyTorch prints torch.return_types.slogdet."""

    def __new__(cls, name, sign, logabsdet):
        self = super().__new__(cls, (sign, logabsdet))
        self._name = name
        return self

    sign = property(lambda self: self[0])
    logabsdet = property(lambda self: self[1])

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nsign={self[0]!r},\nlogabsdet={self[1]!r})"


@quiet
def _slogdet(A, name):
    _square(A, "linalg.slogdet")
    LU, pivots = _lu_of(A)
    diag = np.einsum("...ii->...i", LU._array)
    sign = np.prod(np.sign(diag), axis=-1) * _permutation_sign(pivots._array)
    logabsdet = np.sum(np.log(np.abs(diag)), axis=-1)
    outs = (Tensor._make(np.asarray(sign, A.dtype.np), A.dtype),
            Tensor._make(np.asarray(logabsdet, A.dtype.np), A.dtype))
    record(LinalgSlogdetBackward0, outs, (A,), (A, LU, pivots, RESULT))
    return SignLogAbsDet(name, *outs)


def slogdet(A):
    """torch.linalg.slogdet: (sign, log |det|), recorded as PyTorch's _linalg_slogdet."""
    return _slogdet(A, "linalg_slogdet")


@method("slogdet")
def _slogdet_method(self):
    """torch.slogdet and Tensor.slogdet."""
    return _slogdet(self, "slogdet")


Tensor.det = det


def _is_vector_rhs(A_shape, B_shape):
    """PyTorch's linalg_solve_is_vector_rhs: B is a vector (or a batch of them)."""
    return len(B_shape) == 1 or len(B_shape) == len(A_shape) - 1 and B_shape == A_shape[:-1]


def _solve_backward(grad, A, LU, pivots, result, left, *, needs):
    """PyTorch's linalg_solve_backward: gB = A⁻ᵀ grad (grad A⁻ᵀ if not left) by the saved LU,
    or (to differentiate it again) by a new solve; gA = -gB Xᵀ (-Xᵀ gB), from the same gB."""
    vector = _is_vector_rhs(LU._array.shape, result._array.shape)
    g = grad.unsqueeze(-1) if vector else grad
    if _local.enabled:
        gB = solve(A.mT, g, left=left)
    else:
        lu, piv = np.asarray(LU._array), pivots._array
        x = (_lu_solve(lu, piv, g._array, True) if left else
             _lu_solve(lu, piv, g._array.swapaxes(-1, -2), False).swapaxes(-1, -2))
        gB = Tensor._make(np.asarray(x, A.dtype.np), A.dtype)
    gA = None
    if needs[0]:
        X = result.unsqueeze(-1) if vector else result
        gA = -(gB @ X.mT) if left else -(X.mT @ gB)
    return gA, (gB.squeeze(-1) if vector else gB) if needs[1] else None


_solve_A, _solve_B = joint(_solve_backward, 2)


def _solve_jvp(A_t, B_t, result, A, left):
    """PyTorch's linalg_solve_jvp: A⁻¹ (B_t - A_t X) (or (B_t - X A_t) A⁻¹ if not left)."""
    vector = _is_vector_rhs(A._array.shape, result._array.shape)
    X = result.unsqueeze(-1) if vector else result
    dB = B_t.unsqueeze(-1) if vector and B_t.dim() == result.dim() else B_t
    dX = solve(A, dB - A_t @ X if left else dB - X @ A_t, left=left)
    return dX.squeeze(-1) if vector else dX


LinalgSolveExBackward0 = derivative(
    "LinalgSolveExBackward0", ("A", "B"), saves=("A", "LU", "pivots", "result"), attrs=("left",),
    A=("-A⁻ᵀ · grad · Xᵀ", _solve_A),
    B=("A⁻ᵀ · grad", _solve_B),
    result=("A⁻¹ · (B_t - A_t · X)", _solve_jvp))


def solve(A, B, *, left=True):
    """torch.linalg.solve: X with A X = B (X A = B if not ``left``), recorded as PyTorch's
    _linalg_solve_ex."""
    _square(A, "linalg.solve")
    if B._array.ndim == 0:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {A.dtype._legacy[:-6]} and B of type "
                           f"{B.dtype._legacy[:-6]} instead")
    a, b = np.asarray(A._array), np.asarray(B._array)
    vector = _is_vector_rhs(a.shape, b.shape)
    b2 = b[..., None] if vector else b
    n, (rows, cols) = a.shape[-1], b2.shape[-2:]
    if (rows if left else cols) != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and {rows}x{cols})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b2.shape[:-2])
    except ValueError:
        from ._core import broadcast_error
        raise broadcast_error(b2.shape[:-2], a.shape[:-2]) from None
    lu, pivots = _lu_factor(a)
    _check_nonsingular(lu, "torch.linalg.solve")
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    if left:  # LAPACK's solution, column-major as PyTorch keeps it
        x = np.linalg.solve(a, b2).astype(A.dtype.np).swapaxes(-1, -2).copy().swapaxes(-1, -2)
    else:
        x = np.linalg.solve(a.swapaxes(-1, -2), b2.swapaxes(-1, -2)).swapaxes(-1, -2)
        x = np.ascontiguousarray(x, A.dtype.np)
    out = Tensor._make(x[..., 0].copy() if vector else x, A.dtype)
    LU, piv = Tensor._make(lu, A.dtype), Tensor._make(pivots, _dtype.int32)
    return record(LinalgSolveExBackward0, out, (A, B), (A, LU, piv, RESULT), (left,))


def _check_nonsingular(lu, op):
    """PyTorch's LinAlgError for a zero pivot (naming the batch element in a batch)."""
    diag = np.einsum("...ii->...i", lu)
    singular = (diag == 0).any(-1)
    if singular.any():
        where = (f"(Batch element {int(np.argmax(singular.reshape(-1)))}): "
                 if lu.ndim > 2 else "")
        raise _LinAlgError(f"{op}: {where}The solver failed because the input matrix is "
                           "singular.")
