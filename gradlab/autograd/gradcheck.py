"""gradcheck: compare analytical gradients with finite differences, as torch.autograd.gradcheck.

Slow mode, as PyTorch's: full Jacobians, one column per input element (finite differences)
and one row per output element (backward, run twice to check it is reentrant); with
``check_forward_ad`` one column per input element by forward mode. Then the checks PyTorch
adds: backward multiplies by grad_output, and handles undefined (None) output gradients.
"""
import warnings

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when a gradient does not match its numerical estimate."""


_UNDEFINED_NOTE = 'Please look at "Notes about undefined output gradients" in ' \
                  '"tools/autograd/derivatives.yaml"'


_NONDET = """

NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


def _as_tuple(x):
    from ..tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _requires_grad(t):
    return getattr(t, "requires_grad", False)


def _differentiable(outputs):
    return tuple(o for o in outputs if o.requires_grad)


def _numerical(fn, inputs, outputs, eps):
    """For each output, for each input requiring grad: d output / d input by central
    differences, one row per input element. Grad mode stays on, as in PyTorch, so that ``fn``
    may itself differentiate (gradgradcheck)."""
    jacobians = [[] for _ in outputs]
    for t in filter(_requires_grad, inputs):
        flat = t._storage().reshape(-1)
        jac = [np.zeros((flat.size, o.numel())) for o in outputs]
        for i in range(flat.size):
            orig = flat[i].item()
            flat[i] = orig - eps
            lo = [_values(o) for o in _as_tuple(fn(*inputs))]
            flat[i] = orig + eps
            hi = [_values(o) for o in _as_tuple(fn(*inputs))]
            flat[i] = orig
            for k, (a, b) in enumerate(zip(lo, hi)):
                jac[k][i] = (b - a) / (2 * eps)
        for k, j in enumerate(jac):
            jacobians[k].append(j)
    return jacobians


def _values(t):
    return np.asarray(t._array, np.float64).reshape(-1).copy()


def _backward_jacobian(inputs, output):
    """d output / d each input requiring grad, by one backward per output element."""
    from .backward_api import grad
    from .._creation import zeros_like
    diff = [t for t in inputs if _requires_grad(t)]
    jac = [np.zeros((t.numel(), output.numel())) for t in diff]
    for j in range(output.numel()):
        seed = zeros_like(output)
        seed._storage().reshape(-1)[j] = 1
        grads = grad(output, diff, seed, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                if g.shape != diff[k].shape:
                    raise GradcheckError("Analytical gradient has incorrect size")
                jac[k][:, j] = _values(g)
    return jac


def _reentrant_jacobian(inputs, output, nondet_tol):
    """The backward Jacobian, computed twice: the same both times (within ``nondet_tol``)."""
    first, second = (_backward_jacobian(inputs, output) for _ in range(2))
    if any(a.size and np.abs(a - b).max() > nondet_tol for a, b in zip(first, second)):
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}." + _NONDET)
    return first


def _forward_jacobians(fn, inputs, outputs):
    """For each output, for each input requiring grad: its Jacobian by forward mode, one row
    per input element (a dual input with a one-hot tangent)."""
    from . import forward_ad as fwAD
    from .._creation import zeros_like
    floats = [i for i, o in enumerate(_as_tuple(outputs)) if o.dtype.is_floating_point]
    jacobians = [[] for _ in floats]
    for k, t in enumerate(inputs):
        if not _requires_grad(t):
            continue
        jac = [np.zeros((t.numel(), _as_tuple(outputs)[i].numel())) for i in floats]
        for e in range(t.numel()):
            tangent = zeros_like(t)
            tangent._storage().reshape(-1)[e] = 1
            with fwAD.dual_level():
                dual = [fwAD.make_dual(x.detach(), tangent) if x is t else
                        fwAD.make_dual(x.detach(), zeros_like(x)) if _requires_grad(x) else x
                        for x in inputs]
                outs = _as_tuple(fn(*dual))
                for row, i in enumerate(floats):
                    tan = fwAD.unpack_dual(outs[i]).tangent
                    if tan is not None:
                        jac[row][e] = _values(tan)
        for row, j in enumerate(jac):
            jacobians[row].append(j)
    return jacobians


def _mismatch(analytical, numerical, out_index, in_index, forward=False):
    mode = "computed with forward mode " if forward else ""
    return (f"Jacobian {mode}mismatch for output {out_index:d} with respect to input "
            f"{in_index:d},\nnumerical:{_fmt(numerical)}\nanalytical:{_fmt(analytical)}\n")


def _fmt(jac):
    """A Jacobian as PyTorch prints it: one row per input element, one column per output's."""
    from .._creation import tensor
    return repr(tensor(jac, dtype=None))


def _check_no_differentiable_outputs(fn, inputs, outputs, eps):
    for per_output in _numerical(fn, inputs, outputs, eps):
        if any(j.any() for j in per_output):
            raise GradcheckError("Numerical gradient for function expected to be zero")


def _check_backward(fn, inputs, all_outputs, eps, atol, rtol, nondet_tol):
    outputs = _differentiable(all_outputs)
    if not outputs:
        return _check_no_differentiable_outputs(fn, inputs, all_outputs, eps)
    numerical = _numerical(fn, inputs, all_outputs, eps)
    numerical = [n for o, n in zip(all_outputs, numerical) if o.requires_grad]
    for i, o in enumerate(outputs):
        analytical = _reentrant_jacobian(inputs, o, nondet_tol)
        for j, (a, n) in enumerate(zip(analytical, numerical[i])):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch(a, n, i, j))


def _check_forward(fn, inputs, all_outputs, eps, atol, rtol):
    outputs = _differentiable(all_outputs)
    if not outputs:
        return _check_no_differentiable_outputs(fn, inputs, all_outputs, eps)
    numerical = _numerical(fn, inputs, all_outputs, eps)
    numerical = [n for o, n in zip(all_outputs, numerical) if o.requires_grad]
    analytical = _forward_jacobians(fn, inputs, all_outputs)
    for i, per_output in enumerate(numerical):
        for j, n in enumerate(per_output):
            a = analytical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch(a, n, i, j, forward=True))


def _check_mul_by_grad_output(outputs, inputs):
    """Zero output gradients give zero input gradients of the inputs' dtypes and sizes."""
    from .backward_api import grad
    from .._creation import zeros_like
    diff = [t for t in inputs if _requires_grad(t)]
    grads = grad(outputs, diff, [zeros_like(o) for o in outputs], allow_unused=True)
    for g, t in zip(grads, diff):
        if g is None:
            continue
        if (np.asarray(g._array) != 0).any():
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype is not t.dtype:
            raise GradcheckError("grad is incorrect type")
        if g.shape != t.shape:
            raise GradcheckError("grad is incorrect size")


def _check_undefined_grads(fn, inputs, outputs):
    """Backward runs when output gradients are undefined (all of them, then one at a time),
    and gives inputs no gradient or a zero one."""
    from .backward_api import grad
    from .._creation import zeros_like
    from ..ops.shape import undefined_grad
    diff = [t for t in inputs if _requires_grad(t)]
    cases = [[undefined_grad(o) for o in _differentiable(_as_tuple(fn(*inputs)))]]
    if len(cases[0]) > 1:
        for k in range(len(outputs)):
            outs = _differentiable(_as_tuple(fn(*inputs)))
            cases.append([undefined_grad(o) if i == k else o for i, o in enumerate(outs)])
    for outs in cases:
        try:
            grads = grad(outs, diff, [zeros_like(o) for o in outs], allow_unused=True)
        except RuntimeError as e:
            _warn_undefined_check()
            raise GradcheckError("Expected backward function to handle undefined output grads. "
                                 + _UNDEFINED_NOTE) from e
        if any(g is not None and (np.asarray(g._array) != 0).any() for g in grads):
            _warn_undefined_check()
            raise GradcheckError("Expected all input grads to be undefined or zero when all "
                                 "output grads are undefined or zero. " + _UNDEFINED_NOTE)


def _warn_undefined_check():
    warnings.warn("Backwards compatibility: New undefined gradient support checking feature is "
                  "enabled by default, but it may break existing callers of this function. If "
                  "this is true for you, you can call this function with "
                  '"check_undefined_grad=False" to disable the feature', stacklevel=4)


def _check_inputs(inputs):
    for i, t in enumerate(inputs):
        if _requires_grad(t) and t.dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=4)
    if not any(map(_requires_grad, inputs)):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")


def _refuse(**flags):
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f"gradlab does not implement gradcheck's {name}=True")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True when every analytical gradient is close to its finite-difference estimate
    (``fast_mode`` runs the same full check: gradlab's Jacobians are small)."""
    _refuse(check_batched_grad=check_batched_grad,
            check_batched_forward_grad=check_batched_forward_grad, masked=masked)
    try:
        inputs = _as_tuple(inputs)
        _check_inputs(inputs)
        all_outputs = _as_tuple(func(*inputs))
        if check_backward_ad:
            _check_backward(func, inputs, all_outputs, eps, atol, rtol, nondet_tol)
        if check_forward_ad:
            _check_forward(func, inputs, all_outputs, eps, atol, rtol)
        if check_backward_ad:
            _check_mul_by_grad_output(_differentiable(all_outputs), inputs)
            if check_undefined_grad:
                _check_undefined_grads(func, inputs, _differentiable(all_outputs))
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the function that backpropagates ``grad_outputs`` through ``func``: checks
    second derivatives, with respect to the inputs and to ``grad_outputs`` (drawn uniformly
    from [-1, 1) by the global generator when not given, as PyTorch's make_tensor draws)."""
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev "
                             "to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to "
                             "be True")
    from .backward_api import grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = tuple(_random_like(o) for o in _differentiable(_as_tuple(func(*inputs))))
    grad_outputs = _as_tuple(grad_outputs)
    count = len(grad_outputs)
    diff = {i for i, x in enumerate(inputs + grad_outputs) if _requires_grad(x)}

    def first_derivatives(*args):  # (forward mode passes its dual tensors, which need grad)
        args = [x.requires_grad_() if i in diff else x for i, x in enumerate(args)]
        outs = _differentiable(_as_tuple(func(*args[:-count])))
        wrt = [x for i, x in enumerate(args[:-count]) if i in diff]
        grads = grad(outs, wrt, args[-count:], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, masked=masked or None)


def _random_like(output):
    from .._creation import empty
    from .. import _dtype
    dtype = output.dtype if output.dtype.is_floating_point else _dtype.float64
    return empty(output.shape, dtype=dtype).uniform_(-1, 1).requires_grad_()
