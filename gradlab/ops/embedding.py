"""embedding (EmbeddingBackward0) and its backward op embedding_dense_backward."""
import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._core import derivative, record

EmbeddingBackward0 = derivative(
    "EmbeddingBackward0", ("weight",), saves=("indices",),
    attrs=("padding_idx", "scale_grad_by_freq", "sparse", "weight_sym_argsize_0"),
    weight=("grad summed into the rows indices name (none into padding_idx)",
            lambda grad, indices, padding_idx, scale_grad_by_freq, weight_sym_argsize_0:
            embedding_dense_backward(grad, indices, weight_sym_argsize_0, padding_idx,
                                     scale_grad_by_freq)),
    result=("embedding(weight_t, indices)", lambda weight_t, indices, padding_idx:
            embedding(weight_t, indices, padding_idx)))
EmbeddingDenseBackwardBackward0 = derivative(
    "EmbeddingDenseBackwardBackward0", ("grad_output",), saves=("indices",),
    attrs=("padding_idx",),
    grad_output=("grad[indices] (0 at padding_idx)", lambda grad, indices, padding_idx:
                 _dense_double_backward(grad, indices, padding_idx)),
    result="element_wise")


def _check_indices(indices):
    if indices.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"torch.{indices.dtype._legacy} instead (while checking arguments for "
                           "embedding)")


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """ATen's embedding: the rows of ``weight`` that ``indices`` name."""
    _check_indices(indices)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    i = indices._array
    if i.size and (i.min() < 0 or i.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")
    out = Tensor._make(weight._array[i], weight.dtype)
    return record(EmbeddingBackward0, out, (weight,), (indices,),
                  (padding_idx, scale_grad_by_freq, sparse, weight.shape[0]))


def embedding_dense_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """The rows' gradients summed per index, none for padding_idx (divided by each index's
    count with scale_grad_by_freq)."""
    i = indices._array.reshape(-1)
    g = grad._array.reshape(len(i), -1)
    if scale_grad_by_freq:
        counts = np.bincount(i.astype(np.intp, copy=False), minlength=num_weights)
        g = g * (1 / counts[i, None]).astype(g.dtype)  # ATen's scale = 1 / count
    keep = i != padding_idx
    out = np.zeros((num_weights, g.shape[1]), grad.dtype.np)
    np.add.at(out, i[keep], g[keep])
    return record(EmbeddingDenseBackwardBackward0, Tensor._make(out, grad.dtype), (grad,),
                  (indices,), (padding_idx,))


def _dense_double_backward(grad, indices, padding_idx):
    """PyTorch's embedding_dense_double_backward."""
    rows = grad.index_select(0, indices.reshape(-1))
    if padding_idx >= 0:
        rows = rows.masked_fill_((indices == padding_idx).reshape(-1, 1), 0)
    return rows.view(tuple(indices.shape) + (-1,))


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rows that ``indices`` name rescaled in place to norm at most ``max_norm``."""
    rows = np.unique(indices._array)
    w = weight._array
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
    w[rows[big]] *= scale[:, None]
    weight._bump_version()
    return weight
