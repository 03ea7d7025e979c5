"""Tensor: a NumPy array with a dtype, a version counter and a place in the autograd graph."""
import warnings
import weakref

import numpy as np

from . import _batching, _dtype
from ._missing import TENSOR_NAMES, Lacking
from ._size import Size
from . import autograd
from .autograd import graph
from .autograd.grad_mode import _local
from .autograd.graph import AccumulateGrad, RemovableHandle

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information. (Triggered internally at "
    "/__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)")

# C++ element type names, as PyTorch's .grad setter prints them
_C_TYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
           "int32": "int", "int64": "long int", "float16": "c10::Half", "float32": "float",
           "float64": "double"}

INFERENCE_SAVE_ERROR = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a clone "
    "to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")
INFERENCE_INPLACE_ERROR = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone "
    "to get a normal tensor before doing inplace update."
    "See https://github.com/pytorch/rfcs/pull/17 for more details.")
INFERENCE_REQUIRES_GRAD_ERROR = (
    "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")

NON_LEAF_REQUIRES_GRAD_HINT = (
    " If you want to use a computed variable in a subgraph that doesn't require differentiation "
    "use var_no_grad = var.detach().")


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    ``_array`` is an ndarray, or a NumPy scalar for 0-dim results (cheaper to compute with);
    whoever needs shared storage calls ``_storage()``, and arithmetic takes the scalar back once
    nothing else holds it (ops.elementwise._value). Views share ``_version_counter`` with
    their ``_base``, as in PyTorch.
    """

    __slots__ = ("_array", "dtype", "_requires_grad", "_grad_fn", "_output_nr", "_grad",
                 "_version_counter", "_base", "_accumulator_ref", "_retains_grad", "_view_version",
                 "__weakref__", "__dict__")

    _fw_grad = None  # a dual tensor's tangent, in its __dict__ (autograd.forward_ad)

    def __init__(self, *args, **kwargs):
        from ._creation import legacy_tensor
        legacy_tensor(self, *args, **kwargs)

    def __dir__(self):  # completions offer what gradlab has
        return [n for n in super().__dir__() if n not in TENSOR_NAMES]

    @staticmethod
    def _make(array, dtype, grad_fn=None, output_nr=0, counter=None, base=None):
        t = object.__new__(Tensor)
        t._array = array
        t.dtype = dtype
        t._requires_grad = grad_fn is not None
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._grad = None
        if counter is None:
            counter = InferenceVersion() if _local.inference else [0]
        t._version_counter = counter
        t._base = base
        if base is not None:
            t._view_version = t._version_counter[0]  # see _fresh
        t._accumulator_ref = None
        t._retains_grad = False
        return t

    def _fresh(self):
        """Bring a view's grad_fn up to date after an in-place change of its base (or of another
        view of it); callers check ``_base is not None`` first, to stay cheap."""
        if self._view_version != self._version_counter[0]:
            from .ops.inplace import refresh_view
            refresh_view(self)

    def _storage(self):
        """The array, converted in place from a NumPy scalar so that it can be shared."""
        a = self._array
        if type(a) is not np.ndarray:
            a = self._array = np.array(a)
        return a

    def _accumulator(self):
        """This leaf's AccumulateGrad node, created on first use and held weakly.

        None for a view made in no_grad mode of a tensor that requires grad: as in PyTorch,
        no gradient flows to it.
        """
        base = self._base
        if base is not None and base._requires_grad:
            return None
        ref = self._accumulator_ref
        node = ref() if ref is not None else None
        if node is None:
            node = AccumulateGrad(self)
            node._hooks = self.__dict__.get("_leaf_hook_tables")
            self._accumulator_ref = weakref.ref(node)
        return node

    # ---- autograd attributes -------------------------------------------------------------------

    @property
    def grad_fn(self):
        if self._base is not None:
            self._fresh()
        return self._grad_fn

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        base = self._base  # a view also requires grad once its base does (PyTorch)
        return self._requires_grad or base is not None and base._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables." +
                               ("" if value else NON_LEAF_REQUIRES_GRAD_HINT))
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        if value and self.is_inference() and not _local.inference:
            raise RuntimeError(INFERENCE_REQUIRES_GRAD_ERROR)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables." +
                                   NON_LEAF_REQUIRES_GRAD_HINT)
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self.is_inference() and not _local.inference:
            raise RuntimeError(INFERENCE_REQUIRES_GRAD_ERROR)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_C_TYPE[value.dtype.name]}' to "
                    f"a tensor with grad_dtype '{self.dtype._legacy[:-6]}'. The gradient must "
                    "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                    "the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match.")
            if value._array.shape != self._array.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._array.shape)}' to a "
                    f"tensor of size '{list(self._array.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep this non-leaf's gradient in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None:
            self._grad_fn._hook_tables().retains_grad[self._output_nr] = weakref.ref(self)
            self._retains_grad = True

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            hooks = self._grad_fn._hook_tables()
        else:
            hooks = self._leaf_hooks()
            if hooks is None:
                return RemovableHandle({})  # no gradient ever reaches this tensor
        table = hooks.tensor_pre.setdefault(self._output_nr, {})
        handle = RemovableHandle(table)
        table[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after this leaf's ``.grad`` has been accumulated."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self._leaf_hooks()
        table = hooks.post_accumulate if hooks is not None else {}
        handle = RemovableHandle(table)
        table[handle.id] = hook
        return handle

    def _leaf_hooks(self):
        """A leaf's hook tables: they belong to the tensor (as in PyTorch) and every
        AccumulateGrad made for it shares them, so the leaf need not keep its node alive."""
        hooks = self.__dict__.get("_leaf_hook_tables")
        if hooks is None:
            node = self._accumulator()
            if node is None:
                return None
            hooks = self.__dict__["_leaf_hook_tables"] = node._hook_tables()
        return hooks

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. the graph leaves (see autograd.backward)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A new tensor sharing storage, cut from the graph."""
        t = Tensor._make(self._storage(), self.dtype, counter=self._version_counter)
        return _batching.taint(t, (self,)) if _batching.LEVELS else t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are "
                               "using DistributedDataParallel (DDP) for training, and "
                               "gradient_as_bucket_view is set as True, gradients are views of "
                               "DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the "
                               "Optimizer.zero_grad() function in torch/optim/optimizer.py as "
                               "the solution.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        counter = self._version_counter  # a new counter, but .data of an inference tensor is one
        return Tensor._make(self._storage(), self.dtype,
                            counter=counter if type(counter) is InferenceVersion else [0])

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and not value.dtype.is_floating_point:
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._array = value._storage()
        self.dtype = value.dtype

    @property
    def _version(self):
        if self.is_inference():
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter[0]

    def is_inference(self):
        """Whether this tensor was made in inference mode (or is a view of one that was)."""
        return type(self._version_counter) is InferenceVersion

    def _bump_version(self):
        self._version_counter[0] += 1

    # ---- shape and conversions -----------------------------------------------------------------

    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[self._dim_index(dim)]

    def dim(self):
        return self._array.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._array.ndim

    def numel(self):
        return int(self._array.size)

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.dtype.itemsize * int(self._array.size)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    is_sparse = False

    def _dim_index(self, dim, ndim=None, op=None):
        """Wrap a negative dim, with PyTorch's IndexError when it is out of range (and its
        TypeError, naming ``op``, when it is no integer)."""
        if type(dim) is not int:
            dim = _int_dim(dim, op)
        n = self._array.ndim if ndim is None else ndim
        lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
        if not lo <= dim <= hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                             f"but got {dim})")
        return dim + n if dim < 0 else dim

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def item(self):
        if _batching.LEVELS:
            _batching.check_item(self)
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted "
                               "to Scalar")
        return self._array.reshape(()).item() if self._array.ndim else self._array.item()

    def tolist(self):
        return np.asarray(self._array).tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._storage()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _scalar(self, kind):
        if self._array.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return kind(self.item())

    def __bool__(self):
        if _batching.LEVELS:
            _batching.check_item(self, control_flow=True)
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'more than one value' if self._array.size else 'no values'} is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self._requires_grad:
            from ._creation import SCALAR_REQUIRES_GRAD_WARNING
            warnings.warn(SCALAR_REQUIRES_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._scalar(float)

    def __complex__(self):
        return self._scalar(complex)

    def __int__(self):
        return self._scalar(int)

    def __index__(self):
        if self.dtype.is_floating_point or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        grad_fn = self._grad_fn
        return tensor_repr(self._array, self.dtype,
                           requires_grad=self._requires_grad and grad_fn is None,
                           grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
                           tangent=self._fw_grad)

    __str__ = __repr__

    def __format__(self, spec):
        if self._array.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __reduce_ex__(self, protocol):
        from ._creation import tensor
        return (tensor, (np.asarray(self._array).copy(), self.dtype, None, self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = Tensor._make(np.array(self._array), self.dtype)
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # dtype conversions
    def to(self, *args, **kwargs):
        from .ops.elementwise import to
        return to(self, *args, **kwargs)

    def type(self, dtype=None):
        if dtype is None:
            return "torch." + self.dtype._legacy
        if isinstance(dtype, str):  # a legacy type name, e.g. "torch.DoubleTensor"
            legacy = {"torch." + d._legacy: d for d in _dtype.ALL}
            if dtype not in legacy:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = legacy[dtype]
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def short(self):
        return self.to(_dtype.int16)

    def char(self):
        return self.to(_dtype.int8)

    def byte(self):
        return self.to(_dtype.uint8)

    def bool(self):
        return self.to(_dtype.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        from ._device import require_cpu
        require_cpu("cuda")

    @property
    def device(self):
        from ._device import cpu
        return cpu

    @property
    def is_cuda(self):
        return False

    @property
    def is_cpu(self):
        return True

    @property
    def output_nr(self):
        """Which output of its grad_fn this tensor is (0 for a leaf)."""
        return self._output_nr if self._grad_fn is not None else 0

    def is_signed(self):
        return self.dtype.is_signed


def _int_dim(dim, op):
    """An integer dim as an int; PyTorch's TypeError for anything else."""
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        return int(dim)
    if isinstance(dim, Tensor) and dim._array.ndim == 0 and dim.dtype._category == 1:
        return int(dim._array)
    prefix = f"{op}(): " if op else ""
    raise TypeError(f"{prefix}argument 'dim' (position 1) must be int, not {type(dim).__name__}")


class InferenceVersion:
    """An inference tensor's version counter, as PyTorch has none: reading it gives 0, and
    bumping it outside inference mode is refused (after the write, as in PyTorch)."""

    __slots__ = ()

    def __getitem__(self, i):
        return 0

    def __setitem__(self, i, value):
        if not _local.inference:
            raise RuntimeError(INFERENCE_INPLACE_ERROR)


graph.Tensor = Tensor  # saved outputs are unpacked into Tensors (graph.py cannot import this module)
Tensor.__module__ = "gradlab"  # its public name (type(x) shows gradlab.Tensor, as torch.Tensor)
for _name in TENSOR_NAMES:  # PyTorch's names gradlab lacks: reading one says so
    setattr(Tensor, _name, Lacking(f"torch.Tensor.{_name}"))
