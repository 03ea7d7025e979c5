"""x[key] and x[key] = v as PyTorch reads the key (python_variable_indexing.cpp): ints, slices,
None, ... and bools become views of x; lists, ranges and tensors become the index tensors that
at::index and index_put_ take, checked as make_info checks them."""
import operator
import warnings

import numpy as np

from .. import _dtype
from ..tensor import Tensor
from . import indexing

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
INDEX_TYPES = (_dtype.int64, _dtype.int32, _dtype.uint8, _dtype.bool_)
MASK_TYPES = (_dtype.uint8, _dtype.bool_)
NON_TUPLE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
    "a different result (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/python_variable_indexing.cpp:{}.)")
UINT8_WARNING = ("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                 "torch.bool instead. (Triggered internally at "
                 "/__w/pytorch/pytorch/aten/src/ATen/native/IndexingUtils.h:37.)")


def type_name(x):
    """Python's tp_name of x's type, which PyTorch's messages show (``numpy.bool``, ``list``)."""
    t = type(x)
    if t.__module__ == "builtins" or t.__flags__ & (1 << 9):  # a heap type: a class's own name
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


def is_int(k):
    """PyTorch's THPUtils_checkLong: a Python or NumPy integer, not a bool."""
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def unpack_long(k):
    k = int(k)
    if not INT64_MIN <= k <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return k


def is_sequence(k):
    """PySequence_Check (a tensor is dealt with before)."""
    return not isinstance(k, (dict, np.generic)) and hasattr(type(k), "__getitem__")


def as_parts(key, stacklevel):
    """PyTorch's wrapTuple: a tuple, a short list holding a sequence, slice, tensor, None or ...
    (with PyTorch's deprecation warning), or the key alone."""
    if type(key) is tuple:
        return key
    if isinstance(key, (Tensor, np.ndarray)) or not is_sequence(key):
        return (key,)
    items = list(key) if len(key) < 32 else ()
    for item in items:
        if isinstance(item, (Tensor, slice)) or is_sequence(item) or item is None or \
                item is Ellipsis:
            line = 359 if item is None or item is Ellipsis else 349
            warnings.warn(NON_TUPLE_WARNING.format(line), UserWarning, stacklevel=stacklevel)
            return tuple(items)
    return (key,)


def _specified(parts):
    """How many of self's dims the parts index (a mask: its dims; None, ..., bools: none)."""
    count = 0
    for k in parts:
        if isinstance(k, Tensor):
            count += k._array.ndim if k.dtype in MASK_TYPES else 1
        elif k is not None and k is not Ellipsis and k is not True and k is not False:
            count += 1
    return count


def sequence_index(k):
    """PyTorch's sequenceToVariable: a bool or uint8 tensor if the data is, else int64."""
    if isinstance(k, range):
        return Tensor._make(np.arange(k.start, k.stop, k.step, dtype=np.int64), _dtype.int64)
    from .._creation import tensor
    try:
        t = tensor(k)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    if t.dtype in MASK_TYPES or t.dtype is _dtype.int64:
        return t
    return Tensor._make(t._array.astype(np.int64), _dtype.int64)


def _bool_index(value):
    """A bool indexes a new dim of size 1: all of it (True) or none of it (False)."""
    return Tensor._make(np.zeros(1 if value else 0, np.int64), _dtype.int64)


def _select(t, dim, index, pos):
    size = t._array.shape[dim] if dim < t._array.ndim else 0
    if index == 0 and dim == 0 and not t._array.ndim:
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {pos} with size {size}")
    return indexing.select(t, dim, index)


def _full(k, size):
    """A slice PyTorch skips in a tuple key: from 0, step 1, to the end or beyond."""
    return k.start in (None, 0) and k.step in (None, 1) and (k.stop is None or k.stop >= size)


def apply_slicing(self, parts, skip_full=True):
    """PyTorch's applySlicing: (the view of self the basic parts select, the index tensors by
    position (None where a dim is not indexed), as at::index takes them)."""
    n = self._array.ndim
    specified = _specified(parts)
    if specified > n:
        raise IndexError(f"too many indices for tensor of dimension {n}")
    result, dim, indices, covered = self, 0, [], 0

    def add_index(t):
        nonlocal dim, covered
        indices.extend([None] * (dim - covered - len(indices)))
        indices.append(t)
        span = t._array.ndim if t.dtype in MASK_TYPES else 1
        covered += span - 1
        dim += span

    for pos, k in enumerate(parts):
        if is_int(k):
            result = _select(result, dim, unpack_long(k), pos)
        elif type(k) is slice:
            if not (skip_full and _full(k, result._array.shape[dim])):
                result = indexing._slice_view(result, dim, k)
            dim += 1
        elif k is Ellipsis:
            dim += n - specified
        elif k is None:
            result = result.unsqueeze(dim)
            dim += 1
        elif k is True or k is False:
            result = result.unsqueeze(dim)
            add_index(_bool_index(k))
        elif isinstance(k, Tensor):
            if k._array.ndim or k.dtype.is_floating_point:
                add_index(k)
            elif k.dtype in MASK_TYPES:
                result = result.unsqueeze(dim)
                add_index(_bool_index(bool(k._array)))
            else:
                result = _select(result, dim, int(k._array), pos)
        elif is_sequence(k):
            add_index(sequence_index(k))
        else:
            try:
                i = operator.index(k)
            except TypeError:
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                                 f"byte Variables are valid indices (got {type_name(k)})") from None
            result = _select(result, dim, unpack_long(i), pos)
    return result, tuple(indices)


def _sizes(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def np_key(shape, indices, stacklevel, bounds=True):
    """make_info's checks of the index tensors for a tensor of ``shape`` (types, masks, that they
    broadcast), then the kernel's of the bounds (unless ``bounds`` is False: index_put checks its
    values first): the NumPy key they make."""
    for t in indices:
        if t is not None and t.dtype not in INDEX_TYPES:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    key, longs, dim = [], [], 0
    for t in indices:
        if t is None:
            key.append(slice(None))
            dim += 1
            continue
        a = np.asarray(t._array)
        if t.dtype is _dtype.uint8:
            warnings.warn(UINT8_WARNING, UserWarning, stacklevel=stacklevel)
            a = a.astype(np.bool_)
        if a.dtype == np.bool_:
            for j, m in enumerate(a.shape):
                if dim + j >= len(shape) or m != shape[dim + j]:
                    raise IndexError(f"The shape of the mask {_sizes(a.shape)} at index {j} does "
                                     f"not match the shape of the indexed tensor {_sizes(shape)} "
                                     f"at index {dim + j}")
            longs.extend((dim + j, nz) for j, nz in enumerate(np.nonzero(a)))
            dim += a.ndim
        else:
            longs.append((dim, a))
            dim += 1
        key.append(a)
    longs = _broadcast(longs)
    if bounds:
        check_bounds(shape, longs)
    return tuple(key) if bounds else (tuple(key), longs)


def _broadcast(longs):
    """The index tensors broadcast together, as (dim, array) pairs."""
    try:
        common = np.broadcast_shapes(*(a.shape for _, a in longs))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                         "shapes " + ", ".join(_sizes(a.shape) for _, a in longs)) from None
    return [(d, np.broadcast_to(a, common)) for d, a in longs]


def check_bounds(shape, longs):
    """The index kernel's check: element by element (in order), each index in range of its dim
    (numbered among the indexed dims)."""
    if not longs:
        return
    common = longs[0][1].shape
    sizes = np.array([shape[d] for d, _ in longs], np.int64)[:, None]
    values = np.stack([np.broadcast_to(a, common).reshape(-1) for _, a in longs])
    bad = (values < -sizes) | (values >= sizes)
    if bad.any():
        element = int(np.argmax(bad.any(0)))
        k = int(np.argmax(bad[:, element]))
        raise IndexError(f"index {values[k, element]} is out of bounds for dimension {k} with size "
                         f"{sizes[k, 0]}")


C_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "int64_t",
           "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
           "bool": "bool"}


def value_tensor(self, value):
    """PyTorch's valueToTensor for x[key] = value: a tensor as it is, a Python number as a 0-dim
    tensor of x's dtype."""
    if isinstance(value, Tensor):
        return value
    if is_int(value) or isinstance(value, (bool, float)):
        if not isinstance(value, float):
            value = unpack_long(value)
        return Tensor._make(np.array(value).astype(self.dtype.np), self.dtype)
    if isinstance(value, complex):
        raise RuntimeError(f"value cannot be converted to type {C_TYPES[self.dtype.name]} without "
                           "overflow")
    raise TypeError(f"can't assign a {type_name(value)} to a torch.{self.dtype._legacy}")
