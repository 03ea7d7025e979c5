"""gradcheck: compare analytical gradients with finite differences, as torch.autograd.gradcheck."""
import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when a gradient does not match its numerical estimate."""


def _inputs(inputs):
    from ..tensor import Tensor
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(fn, inputs):
    from ..tensor import Tensor
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _numerical(fn, inputs, out_index, eps):
    """d out[out_index] / d input, one column per input element (central differences).

    Grad mode stays on, as in PyTorch, so that ``fn`` may itself differentiate (gradgradcheck).
    """
    jacobians = []
    for t in inputs:
        if not getattr(t, "requires_grad", False):
            jacobians.append(None)
            continue
        a = t._storage()
        out_size = _outputs(fn, inputs)[out_index].numel()
        jac = np.zeros((a.size, out_size))
        flat = a.reshape(-1)
        for i in range(a.size):
            orig = flat[i].item()
            flat[i] = orig - eps
            lo = np.asarray(_outputs(fn, inputs)[out_index]._array, np.float64).reshape(-1).copy()
            flat[i] = orig + eps
            hi = np.asarray(_outputs(fn, inputs)[out_index]._array, np.float64).reshape(-1).copy()
            flat[i] = orig
            jac[i] = (hi - lo) / (2 * eps)
        jacobians.append(jac)
    return jacobians


def _analytical(fn, inputs, out_index):
    from .backward_api import grad
    from .._creation import zeros_like
    out = _outputs(fn, inputs)[out_index]
    diff = [t for t in inputs if getattr(t, "requires_grad", False)]
    jac = [np.zeros((t.numel(), out.numel())) for t in diff]
    for j in range(out.numel() if out.requires_grad else 0):  # else a zero Jacobian
        seed = zeros_like(out)
        seed._storage().reshape(-1)[j] = 1
        grads = grad(out, diff, seed, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                jac[k][:, j] = np.asarray(g._array, np.float64).reshape(-1)
    it = iter(jac)
    return [next(it) if getattr(t, "requires_grad", False) else None for t in inputs]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **kwargs):
    """True when every analytical gradient is close to its finite-difference estimate."""
    inputs = _inputs(inputs)
    for t in inputs:
        if getattr(t, "requires_grad", False) and t.dtype.name != "float64":
            import warnings
            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double "
                          "precision floating point or complex. This check will likely fail if "
                          "all the inputs are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=2)
    if not any(getattr(t, "requires_grad", False) for t in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for out_index in range(len(_outputs(func, inputs))):
        numerical = _numerical(func, inputs, out_index, eps)
        analytical = _analytical(func, inputs, out_index)
        for i, (n, a) in enumerate(zip(numerical, analytical)):
            if n is None:
                continue
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {out_index} with respect to input {i},\n"
                    f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n")
    return True


def _fmt(jac):
    """A Jacobian as PyTorch prints it: one row per input element, one column per output's."""
    from .._creation import tensor
    return repr(tensor(jac, dtype=None))


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, **kwargs):
    """gradcheck of the first derivatives: checks second derivatives."""
    from .backward_api import grad
    from .._creation import ones_like
    inputs = _inputs(inputs)
    diff = [t for t in inputs if getattr(t, "requires_grad", False)]

    def first_derivatives(*args):
        outs = _outputs(func, args)
        seeds = grad_outputs or [ones_like(o) for o in outs]
        return grad(outs, [a for a in args if getattr(a, "requires_grad", False)], seeds,
                    create_graph=True, allow_unused=True)

    del diff
    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol, **kwargs)
