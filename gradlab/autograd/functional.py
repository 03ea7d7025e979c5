"""torch.autograd.functional: Jacobians, Hessians and their products with a vector, for functions.

A transcription of PyTorch's torch/autograd/functional.py: the same steps, checks and error texts,
so results, grad_fns and create_graph behave alike. One difference of means, not of results:
gradlab has no vmap here, so ``vectorize=True`` loops over the rows (``grad(is_grads_batched=True)``
is one backward per row), and ``strategy="forward-mode"`` over the columns, one run of the function
on dual tensors per column.
"""
from .._creation import eye, zeros, zeros_like
from ..ops.shape import stack
from ..tensor import Tensor
from . import forward_ad
from .backward_api import grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

STRATEGIES = ("forward-mode", "reverse-mode")


def _as_tuple(inp, arg_name=None, fn_name=None):
    """(whether ``inp`` was a tuple, ``inp`` as a tuple of Tensors) with PyTorch's TypeError."""
    if arg_name is None and fn_name is None:
        return inp if isinstance(inp, tuple) else tuple(inp) if isinstance(inp, list) else (inp,)
    is_inp_tuple = isinstance(inp, tuple)
    if not is_inp_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = (f"the value at index {i} has type" if is_inp_tuple
                     else f"the given {arg_name} has type")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but {where} {type(el)}.")
    return is_inp_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo _as_tuple: unwrap the levels (outputs, inputs) that were not tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Always new Tensor objects: a differentiable view when the graph must reach the caller's
    tensors, a detached leaf otherwise (PyTorch issue 32576)."""
    return tuple(inp.view_as(inp) if create_graph and inp.requires_grad
                 else inp.detach().requires_grad_(need_graph) for inp in inputs)


def _grad_postprocess(inputs, create_graph):
    """Detach the results unless the caller asked for a graph."""
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got "
                               f"{el_v.size()}.")


STRICT_NOT_REQUIRING_GRAD = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent"
               " of the input. This is not allowed in strict mode. You should ensure that your "
               "function is thrice differentiable and that the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function"
                " with respect to input {i} is independent of the input. This is not allowed in "
                "strict mode. You should ensure that your function is twice differentiable and "
                "that the jacobian depends on the inputs (this would be violated by a linear "
                "function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
               "must be computed in a differentiable manner from the input when running in "
               "strict mode.",
}


def _check_requires_grad(inputs, input_type, strict):
    """In strict mode, PyTorch's errors for a None or a tensor that does not require grad."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            raise RuntimeError(STRICT_NOT_REQUIRING_GRAD[input_type].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
                   is_grads_batched=False):
    """autograd.grad that skips the outputs that are None or do not require grad."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, g) for out, g in zip(outputs, grad_outputs)
            if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    new_outputs, new_grad_outputs = zip(*kept)
    return grad(new_outputs, inputs, new_grad_outputs, allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph,
                is_grads_batched=is_grads_batched)


STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros for the None gradients, or in strict mode PyTorch's error for the stage."""
    res = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(STRICT_NONE[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode when create_graph=True.")
        res += (grads_i,)
    return res


def _check_v_none(tensors, condition):
    if len(tensors) != 1 or tensors[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if {condition} a single Tensor with a "
                           "single element.")


def _preprocess_v(v, other, is_other_tuple, create_graph, fn_name):
    _, v = _as_tuple(v, "v", fn_name)
    v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
    _validate_v(v, other, is_other_tuple)
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``v`` times the Jacobian of ``func`` at ``inputs``: (func's output, vjp)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            v = _preprocess_v(v, outputs, is_outputs_tuple, create_graph, "vjp")
        else:
            _check_v_none(outputs, "the user-provided function returns")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    vjp = _grad_postprocess(vjp, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(vjp, is_inputs_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian of ``func`` at ``inputs`` times ``v``, by the double-backward trick (the
    backward of the backward, as PyTorch computes it): (func's output, jvp)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _preprocess_v(v, inputs, is_inputs_tuple, create_graph, "jvp")
        else:
            _check_v_none(inputs, "the input to the user-provided function is")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # the backward is linear in grad_outputs: their value never reaches the result
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        jvp = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    jvp = _grad_postprocess(jvp, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(jvp, is_outputs_tuple))


def _standard_basis(tensors, numels):
    """The identity of size sum(numels), its columns split per tensor, in each tensor's dtype."""
    total, start, chunks = sum(numels), 0, []
    for t, n in zip(tensors, numels):
        chunks.append(eye(total, dtype=t.dtype)[:, start:start + n])
        start += n
    return tuple(chunks)


def _jacfwd(func, inputs, strict, vectorize):
    """The forward-mode Jacobian, one column per input element: each column is the tangent of
    the outputs for a basis tangent of the inputs, carried by dual tensors (PyTorch vmaps over
    the basis; gradlab, which has no vmap here, runs ``func`` once per column)."""
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy='
                           '"forward-mode"` are not supported together (yet). Please either set '
                           '`strict=False` or `strategy="reverse-mode"`.')
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian isonly implemented for `vectorize=True`.")
    input_numels = tuple(inp.numel() for inp in inputs)
    basis = _standard_basis(inputs, input_numels)
    tangent_sets = [tuple(b[k].view_as(inp) for b, inp in zip(basis, inputs))
                    for k in range(sum(input_numels))]
    runs = [_dual_jvp(func, inputs, tangents) for tangents in tangent_sets or
            [tuple(zeros_like(inp) for inp in inputs)]]  # (one run gives the outputs' shapes)
    is_outputs_tuple, outputs, _ = runs[0]
    jacobian_input_output = []
    for i, out in enumerate(outputs):
        jac_i = stack([jv[i] for _, _, jv in runs]) if tangent_sets else \
            zeros((0, *out.shape), dtype=out.dtype)
        # the batch dimension runs over the inputs: move it last (PyTorch's transpose)
        jacobian_input_output.append([
            jac.permute(*range(1, jac.ndim), 0).reshape((*out.shape, *inp.shape))
            for jac, inp in zip(jac_i.split(input_numels, dim=0), inputs)])
    # PyTorch returns lists here, not tuples
    return _tuple_postprocess(jacobian_input_output, (is_outputs_tuple, is_inputs_tuple))


def _dual_jvp(func, inputs, tangents):
    """(whether func returns a tuple, its outputs, their tangents) for the inputs' ``tangents``:
    func runs on dual tensors; an output without a tangent gets zeros."""
    with forward_ad.dual_level():
        duals = tuple(forward_ad.make_dual(inp, t) for inp, t in zip(inputs, tangents))
        is_outputs_tuple, dual_outputs = _as_tuple(func(*duals), "outputs")
        unpacked = [forward_ad.unpack_dual(out) for out in dual_outputs]
    return (is_outputs_tuple, [p for p, _ in unpacked],
            [zeros_like(p) if t is None else t for p, t in unpacked])


def _jacobian_vectorized(outputs, inputs, create_graph):
    """The reverse-mode Jacobian from one batched autograd.grad (which gradlab runs row by row)."""
    output_numels = tuple(out.numel() for out in outputs)
    grad_outputs = _standard_basis(outputs, output_numels)
    flat_outputs = tuple(out.reshape(-1) for out in outputs)
    vj = list(_autograd_grad(flat_outputs, inputs, grad_outputs, create_graph=create_graph,
                             is_grads_batched=True))
    for el_idx, vj_el in enumerate(vj):
        if vj_el is None:
            vj[el_idx] = zeros_like(inputs[el_idx]).expand(
                (sum(output_numels),) + inputs[el_idx].shape)
    jacobian_input_output = [
        [jac.view(out.shape + inp.shape)
         for jac, out in zip(jac_inp.split(output_numels, dim=0), outputs)]
        for jac_inp, inp in zip(vj, inputs)]
    return tuple(zip(*jacobian_input_output))


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """The reverse-mode Jacobian, one autograd.grad per output element."""
    jacobian = ()
    for i, out in enumerate(outputs):
        jac_i = tuple([] for _ in inputs)
        for j in range(out.nelement()):
            vj = _autograd_grad((out.reshape(-1)[j],), inputs, retain_graph=True,
                                create_graph=create_graph)
            for el_idx, (jac_i_el, vj_el, inp_el) in enumerate(zip(jac_i, vj, inputs)):
                if vj_el is not None:
                    if strict and create_graph and not vj_el.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input "
                            f"{i}. This is not allowed in strict mode when create_graph=True.")
                    jac_i_el.append(vj_el)
                else:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of input "
                            f"{el_idx}. This is not allowed in strict mode.")
                    jac_i_el.append(zeros_like(inp_el))
        jacobian += (tuple(stack(jac_i_el, dim=0).view(out.size() + inputs[el_idx].size())
                           for el_idx, jac_i_el in enumerate(jac_i)),)
    return jacobian


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has output i's then input j's shape.

    ``vectorize=True`` gives the same results, computed in gradlab row by row (no vmap);
    ``strategy="forward-mode"`` (which needs ``vectorize=True``, as in PyTorch) computes column
    by column with dual tensors (forward-mode AD).
    """
    if strategy not in STRATEGIES:
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and `strategy="
                '"forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize:
            if strict:
                raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                                   "`vectorized=True` are not supported together. Please either "
                                   "set `strict=False` or `vectorize=False`.")
            jacobian = _jacobian_vectorized(outputs, inputs, create_graph)
        else:
            jacobian = _jacobian_rows(outputs, inputs, create_graph, strict)
        jacobian = _grad_postprocess(jacobian, create_graph)
        return _tuple_postprocess(jacobian, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func``: the Jacobian of its (reverse-mode) Jacobian,
    the outer one taken with ``outer_jacobian_strategy`` (see ``jacobian``)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            # forward-over-reverse: the inner jacobian must not detach the dual inputs
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _check_scalar_output(outputs, is_outputs_tuple, fn_name):
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def _scalar_function_gradient(func, inputs, v, create_graph, strict, fn_name):
    """vhp's and hvp's common start: (tuple flags, inputs, v, outputs, the gradient)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        v = _preprocess_v(v, inputs, is_inputs_tuple, create_graph, fn_name)
    else:
        _check_v_none(inputs, "the input to the user-provided function is")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    _check_scalar_output(outputs, is_outputs_tuple, fn_name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``v`` times the Hessian of the scalar function ``func``: (func's output, vhp)."""
    with enable_grad():
        is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        vhp = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    vhp = _grad_postprocess(vhp, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(vhp, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian of the scalar function ``func`` times ``v``, by the double-backward trick as
    PyTorch computes it (slower than ``vhp``, equal to it for twice continuously differentiable
    functions): (func's output, hvp)."""
    with enable_grad():
        is_inputs_tuple, is_outputs_tuple, inputs, v, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        hvp = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    hvp = _grad_postprocess(hvp, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(hvp, is_inputs_tuple)
