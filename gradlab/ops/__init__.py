"""The op table: every differentiable op with its PyTorch grad_fn name and backward formula.

Grouped like PyTorch's docs: elementwise, reduction, linalg, shape, indexing. Each module
declares its grad_fn classes with ``derivative`` (see ``_core``) beside the forward functions,
and ``method`` exposes a function as a Tensor method too.
"""
from ._core import derivative, method  # noqa: F401
