"""torch.linalg: norms, the inverse, det, slogdet, solve and matrix products, as PyTorch's
namespace names them."""
from .ops.linalg import _LinAlgError as LinAlgError, det, inv, matmul, slogdet, solve  # noqa: F401
from .ops.reduction import vector_norm  # noqa: F401
from .ops.matrix import linalg_cross as cross  # noqa: F401
from ._missing import missing_names


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The Frobenius norm (the only matrix norm gradlab implements)."""
    if ord != "fro":
        raise NotImplementedError(f"gradlab does not implement torch.linalg.matrix_norm with "
                                  f"ord={ord!r}")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions.")
    dims = tuple(A._dim_index(d) for d in dim)
    return vector_norm(A, 2, dims, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm, or a matrix norm for a string ``ord`` (or a number with two dims)."""
    if isinstance(ord, str) or ord is not None and (
            dim is None and A.dim() == 2 or isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                           keepdim)
    return vector_norm(A, 2.0 if ord is None else ord, dim, keepdim)


__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
