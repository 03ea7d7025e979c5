"""grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian: torch.func's transforms on
gradlab.autograd.grad.

A transform runs ``func`` on its own leaves: a fresh tensor that requires grad for each input,
or, for an input that already requires grad (the caller's, or an outer transform's leaf), a view
connected to it, so that transforms nest. The caller's tensors are never changed. A result keeps
its graph only when it reaches past the transform's own leaves to a tensor outside that requires
grad, so results require grad only when torch.func's would.
"""
from .. import autograd
from .._batching import Level
from .._creation import eye, zeros, zeros_like
from ..autograd import forward_ad
from ..autograd.graph import AccumulateGrad
from ..autograd.grad_mode import enable_grad
from ..ops.shape import stack
from ..tensor import Tensor
from ._pytree import spec_pprint, tree_flatten, tree_unflatten

RANDOMNESS = ("error", "different", "same")


def check_randomness(randomness):
    if randomness not in RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


# ---- argnums ----------------------------------------------------------------------------------

def _wrap_argnum(argnum, n):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if -n <= argnum < n:
        return argnum % n
    raise RuntimeError(f"Got argnum={argnum}, but only {n} positional inputs")


def _wrap_argnums(argnums, n):
    """``argnums`` checked and made non-negative, as PyTorch's _slice_argnums does."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, n)
    argnums = tuple(_wrap_argnum(a, n) for a in argnums)
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return argnums


def _selected(args, argnums):
    return args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def _replaced(args, argnums, new):
    args = list(args)
    for i, value in zip((argnums,) if isinstance(argnums, int) else argnums,
                        (new,) if isinstance(argnums, int) else new):
        args[i] = value
    return tuple(args)


# ---- the transform's own leaves ---------------------------------------------------------------

class _Leaves:
    """The tensors a transform differentiates with respect to, made from its inputs."""

    def __init__(self, tree):
        flat, self.spec = tree_flatten(tree)
        self.tensors = [self._track(x) for x in flat]
        self.own = {id(t) for t in self.tensors}
        self.inputs = {id(t): x for t, x in zip(self.tensors, flat)}

    @staticmethod
    def _track(x):
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        return x.view_as(x) if x.requires_grad else x.detach().requires_grad_()

    def tree(self):
        return tree_unflatten(self.tensors, self.spec)

    def reaches_outside(self, tensors, also_own=()):
        """Whether the graph of ``tensors`` reaches a tensor requiring grad that is not ours."""
        own = self.own | {id(t) for t in also_own}
        stack_, seen = [], set()
        for t in tensors:
            if isinstance(t, Tensor) and t.requires_grad:
                if t.grad_fn is None and id(t) not in own:
                    return True
                stack_.append(t.grad_fn)
        while stack_:
            node = stack_.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, AccumulateGrad):
                if id(node.variable) not in own:
                    return True
                continue
            stack_.extend(fn for fn, _ in node.next_functions)
        return False

    def release(self, tree):
        """``tree`` with our leaves given back as the inputs they were made from, and every
        other tensor whose graph stays among our leaves detached."""
        flat, spec = tree_flatten(tree)
        return tree_unflatten([self.inputs.get(id(x), x) if id(x) in self.own else
                               x.detach() if isinstance(x, Tensor) and x.requires_grad
                               and not self.reaches_outside([x]) else x for x in flat], spec)

    def pull_back(self, outputs, cotangents):
        """The vector-Jacobian products: one gradient per leaf, zeros where none flows."""
        pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
        grads = [None] * len(self.tensors)
        if pairs:
            outs, cots = zip(*pairs)
            grads = autograd.grad(outs, self.tensors, cots, retain_graph=True,
                                  create_graph=self.reaches_outside(outs + cots),
                                  allow_unused=True)
        return [zeros_like(x) if g is None else g for g, x in zip(grads, self.tensors)]

    def push_forward(self, run, tangents):
        """``run`` (a function of the leaves' tree) on dual tensors made from our leaves and
        ``tangents``: (its output, the flat outputs' primals, their tangents, zeros for none)."""
        with forward_ad.dual_level():
            duals = [forward_ad.make_dual(x, t) for x, t in zip(self.tensors, tangents)]
            output = run(tree_unflatten(duals, self.spec))
            flat_out, _ = tree_flatten(output[0])
            _check_tensors(flat_out, JVP)
            pairs = [forward_ad.unpack_dual(o) for o in flat_out]
        return output, [p for p, _ in pairs], [zeros_like(p) if t is None else t
                                               for p, t in pairs]

    def push_forward_by_double_backward(self, outputs, tangent_sets):
        """The Jacobian-vector products J·t for each list of leaf tangents ``t``, for forward
        mode inside forward mode (gradlab's forward AD has one dual level, as PyTorch's).

        With a dummy cotangent u, g(u) = Jᵀu is linear in u, so the vector-Jacobian product of
        g with t is J·t.
        """
        live = [i for i, o in enumerate(outputs) if o.requires_grad]
        dummies = [zeros_like(outputs[i], requires_grad=True) for i in live]
        gs = autograd.grad([outputs[i] for i in live], self.tensors, dummies, create_graph=True,
                           allow_unused=True) if live else ()
        used = [j for j, g in enumerate(gs) if g is not None and g.requires_grad]
        results = []
        for tangents in tangent_sets:
            column = [zeros_like(o) for o in outputs]
            if used:
                roots = [gs[j] for j in used]
                vs = [tangents[j] for j in used]
                jts = autograd.grad(roots, dummies, vs, retain_graph=True, allow_unused=True,
                                    create_graph=self.reaches_outside(roots + vs, dummies))
                for i, jt in zip(live, jts):
                    if jt is not None:
                        column[i] = jt
            results.append(column)
        return results


def _check_tensors(flat, api):
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return output


# ---- grad and vjp -------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of ``func`` w.r.t. the ``argnums`` inputs, its value);
    with ``has_aux``, func returns (value, aux) and the wrapper (gradient, (value, aux))."""
    def wrapper(*args, **kwargs):
        with enable_grad():
            nums = _wrap_argnums(argnums, len(args))
            leaves = _Leaves(_selected(args, nums))
            output = func(*_replaced(args, nums, leaves.tree()), **kwargs)
            output, aux = _split_aux(output, has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                    "APIs instead?")
            grads = leaves.pull_back([output], [None])
            value = (output, aux) if has_aux else output
            return leaves.release((tree_unflatten(grads, leaves.spec), value))
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of the scalar ``func`` w.r.t. its ``argnums`` inputs
    (with ``has_aux``: (gradient, aux))."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def _vjp(func, primals, argnums, has_aux):
    """vjp, optionally differentiating only the ``argnums`` primals (as jacrev needs)."""
    with enable_grad():
        if argnums is None:
            leaves = _Leaves(primals)
            primals = leaves.tree()
        else:
            nums = _wrap_argnums(argnums, len(primals))
            leaves = _Leaves(_selected(primals, nums))
            primals = _replaced(primals, nums, leaves.tree())
        output, aux = _split_aux(func(*primals), has_aux, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(output)
        _check_tensors(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not o.is_floating_point():
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {spec_pprint(cot_spec)}, primal output: "
                f"{spec_pprint(out_spec)}")
        with enable_grad():
            return leaves.release(tree_unflatten(leaves.pull_back(flat_out, flat_cot),
                                                 leaves.spec))
    return leaves.release(output), vjp_fn, leaves.release(aux), flat_out, out_spec, leaves


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) gives the vector-Jacobian products, one per
    primal (with ``has_aux``: (output, vjp_fn, aux))."""
    output, vjp_fn, aux, *_ = _vjp(func, primals, None, has_aux)
    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)


# ---- jvp ----------------------------------------------------------------------------------------

JVP = "jvp(f, primals, tangents)"


def _check_primals(flat, argname):
    if not flat:
        raise RuntimeError(f"{JVP}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{JVP}: Expected {argname} to only contain Tensors, got {type(x)}")


def _linearize(func, primals, argnums, has_aux, tangent_sets):
    """Run ``func`` once and push each list of flat tangents through it:
    (output, flat output tangents per set, output spec, aux, leaves)."""
    with enable_grad():
        nums = None if argnums is None else _wrap_argnums(argnums, len(primals))
        leaves = _Leaves(primals if nums is None else _selected(primals, nums))
        for x, t in zip(leaves.tensors, tangent_sets[0] if tangent_sets else ()):
            if t.shape != x.shape:
                raise RuntimeError(
                    "Trying to set a forward gradient that has a different size than that of the "
                    "original Tensor, this is not supported. Tensor is of size "
                    f"{list(x.shape)} while the given forward gradient is of size "
                    f"{list(t.shape)}.")

        def run(tree):
            args = tree if nums is None else _replaced(primals, nums, tree)
            return _split_aux(func(*args), has_aux, JVP)
        if forward_ad._levels.current >= 0 or not tangent_sets:  # nested: the old way
            output, aux = run(leaves.tree())
            flat_out, out_spec = tree_flatten(output)
            _check_tensors(flat_out, JVP)
            columns = leaves.push_forward_by_double_backward(flat_out, tangent_sets)
        else:  # func runs once per tangent set (PyTorch vmaps over them)
            runs = [leaves.push_forward(run, tangents) for tangents in tangent_sets]
            (output, aux), flat_out, _ = runs[0]
            out_spec = tree_flatten(output)[1]
            columns = [column for _, _, column in runs]
    return flat_out, [leaves.release(c) for c in columns], out_spec, aux, leaves


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian-vector product with ``tangents``)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{JVP}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{JVP}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {p_spec} and tangents with structure {t_spec}")
    _check_primals(flat_p, "primals")
    _check_primals(flat_t, "tangents")
    flat_out, (column,), spec, aux, leaves = _linearize(func, primals, None, has_aux, [flat_t])
    result = (leaves.release(tree_unflatten(flat_out, spec)), tree_unflatten(column, spec))
    return result + (leaves.release(aux),) if has_aux else result


# ---- Jacobians ----------------------------------------------------------------------------------

def _jacobian_tree(blocks, out_spec, leaves, aux, has_aux):
    """blocks[i][j], the Jacobian of output i w.r.t. leaf j, arranged as torch.func does: the
    outputs' structure, each output holding the structure of the differentiated inputs."""
    per_output = [tree_unflatten(row, leaves.spec) for row in blocks]
    jac = tree_unflatten(per_output, out_spec)
    return (jac, leaves.release(aux)) if has_aux else jac


def _basis(t):
    """The rows of an identity matrix, each shaped like ``t``."""
    n = t.numel()
    return [row.reshape(t.shape) for row in eye(n, dtype=t.dtype)] if n else []


def _assemble(parts, lead_shape, tail_shape, like):
    """Stack ``parts`` (one per element of the ``lead`` tensor) into lead_shape + tail_shape."""
    if not parts:
        return zeros(tuple(lead_shape) + tuple(tail_shape), dtype=like.dtype)
    return stack(parts).reshape(tuple(lead_shape) + tuple(tail_shape))


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` w.r.t. the ``argnums`` inputs, a row per output element."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args):
        _, vjp_fn, aux, flat_out, out_spec, leaves = _vjp(func, args, argnums, has_aux)
        blocks = []
        with enable_grad():
            for o in flat_out:
                rows = [leaves.pull_back(flat_out, [e if p is o else zeros_like(p)  # as torch
                                                    for p in flat_out]) for e in _basis(o)]
                blocks.append([leaves.release(_assemble([r[j] for r in rows], o.shape, x.shape,
                                                        x))
                               for j, x in enumerate(leaves.tensors)])
        return _jacobian_tree(blocks, out_spec, leaves, aux, has_aux)
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` w.r.t. the ``argnums`` inputs, a column per input element.

    Its columns are Jacobian-vector products, pushed through one run of ``func`` (see
    ``_Leaves.push_forward``); random ops in ``func`` follow ``randomness`` as under vmap.
    """
    def wrapper(*args):
        check_randomness(randomness)
        nums = _wrap_argnums(argnums, len(args))
        flat, _ = tree_flatten(_selected(args, nums))
        for x in flat:
            if not isinstance(x, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        sets, owner = [], []
        for j, x in enumerate(flat):
            for e in _basis(x):
                sets.append([e if k == j else zeros_like(y) for k, y in enumerate(flat)])
                owner.append(j)
        with Level(len(sets), randomness):
            flat_out, columns, out_spec, aux, leaves = _linearize(func, args, nums, has_aux,
                                                                  sets)
        blocks = []
        for i, o in enumerate(flat_out):
            row = []
            for j, x in enumerate(flat):
                cols = [c[i] for c, k in zip(columns, owner) if k == j]
                part = _assemble(cols, x.shape, o.shape, o)  # x.shape + o.shape: swap them
                n, m = x.dim(), o.dim()
                row.append(part.permute(*range(n, n + m), *range(n)) if n and m else part)
            blocks.append(row)
        return _jacobian_tree(blocks, out_spec, leaves, aux, has_aux)
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of the scalar ``func``: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)
