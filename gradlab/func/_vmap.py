"""vmap: a function mapped over a dimension of its inputs, as torch.func.vmap."""
import functools

from .. import _random
from .._batching import Level, levels, mark
from .._creation import zeros
from ..ops.shape import stack
from ..tensor import Tensor
from ._pytree import broadcast_to_and_flatten, tree_flatten, tree_unflatten
from ._transforms import check_randomness


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs (None: an input not mapped),
    the results stacked along ``out_dims``; inputs and outputs may be nested tuples, lists and
    dicts.

    gradlab runs ``func`` once per batch element and stacks the results, where PyTorch runs it
    once on batched tensors: values are the same, and what PyTorch's vmap refuses gradlab's
    refuses with PyTorch's error (``.item()`` and data-dependent control flow on a batched
    tensor, an in-place write of a batched value into an unbatched tensor, random ops with
    randomness="error"). Side effects in ``func`` happen once per element, and its outputs'
    grad_fn is a StackBackward0. ``chunk_size`` is accepted: a loop needs no chunks.
    """
    check_randomness(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(out_dims, func)
        size, flat_dims, flat_args, spec = _batched_inputs(in_dims, args, func)
        with Level(size, randomness) as level:
            state = _random.default_generator.get_state() if randomness == "same" else None
            results = []
            for b in range(max(size, 1)):  # PyTorch runs func once even for an empty batch
                level.last = b >= size - 1
                if state is not None:
                    _random.default_generator.set_state(state)
                element = [_element(x, d, b, size, level) for x, d in zip(flat_args, flat_dims)]
                results.append(func(*tree_unflatten(element, spec), **kwargs))
            return _stacked(results, size, out_dims, func, level)
    return wrapped


def _name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    for d in tree_flatten(out_dims)[0]:
        if d is not None and not isinstance(d, int):
            raise ValueError(
                f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None "
                "or a python collection of ints representing where in the outputs the vmapped "
                "dimension should appear.")


def _batched_inputs(in_dims, args, func):
    """(batch size, in_dim per flat input, flat inputs, their structure), checked as PyTorch's
    _process_batched_inputs checks them."""
    where = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(
            f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or "
            "you are trying to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, spec = tree_flatten(args)
    flat_dims = broadcast_to_and_flatten(in_dims, spec)
    if flat_dims is None:
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    for i, (x, d) in enumerate(zip(flat_args, flat_dims)):
        if not isinstance(d, int) and d is not None:
            raise ValueError(f"{where}: Got in_dim={d} for an input but in_dim must be either an "
                             "integer dimension or None.")
        if isinstance(d, int) and not isinstance(x, Tensor):
            raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of type "
                             f"{type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        if d is not None and not -x.dim() <= d < x.dim():
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {x.dim()} so expected in_dim to satisfy "
                             f"-{x.dim()} <= in_dim < {x.dim()}.")
        if d is not None and d < 0:
            flat_dims[i] = d % x.dim()
    sizes = [x.size(d) for x, d in zip(flat_args, flat_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(n != sizes[0] for n in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0], flat_dims, flat_args, spec


def _element(x, dim, b, size, level):
    """Element ``b`` of input ``x`` along ``dim``, marked as batched (zeros for an empty batch)."""
    if dim is None:
        return x
    if size == 0:
        shape = x.shape[:dim] + x.shape[dim + 1:]
        return mark(zeros(shape, dtype=x.dtype), levels(x) | {level.id})
    return mark(x.select(dim, b), {level.id})


def _stacked(results, size, out_dims, func, level):
    """The per-element results stacked along their out_dims, as PyTorch's _unwrap_batched."""
    name = _name(func)
    flat0, spec = tree_flatten(results[0])
    if isinstance(results[0], Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            flat_dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat_dims = list(out_dims)
        else:
            flat_dims = None
    else:
        flat_dims = broadcast_to_and_flatten(out_dims, spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         "compatible with the structure of `outputs`. out_dims has structure "
                         f"{tree_flatten(out_dims)[1]} but outputs has structure {spec}.")
    columns = list(zip(*(tree_flatten(r)[0] for r in results)))
    out = []
    for column, d in zip(columns, flat_dims):
        first = column[0]
        if d is None:
            if isinstance(first, Tensor) and level.id in levels(first):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 "when out_dim is None")
            out.append(first)
        elif not isinstance(first, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(first)}. Did you mean to set out_dims= to None for output?")
        elif size == 0:
            out.append(stack([first], d).narrow(d if d >= 0 else d + first.dim() + 1, 0, 0))
        else:
            out.append(stack(column, d))
    return tree_unflatten(out, spec)

