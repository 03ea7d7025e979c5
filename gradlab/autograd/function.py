"""Custom autograd Functions (torch.autograd.Function): the user writes forward and backward.

As in PyTorch, the ``ctx`` that forward and backward receive is the node itself: an instance of
``<Name>Backward``, a Node the engine runs like any other, whose saved tensors live in the same
SavedTensor slots as the built-in ops' (version-checked, freed after backward).
"""
import functools
import inspect
import warnings

import numpy as np

from .anomaly_mode import _state as _anomaly, store_stack
from .forward_ad import _levels, make_dual, set_tangent
from .grad_mode import _local, is_grad_enabled, no_grad
from .graph import Node, SavedTensor, _sequence
from .saved_hooks import pack_custom

Tensor = None  # gradlab.tensor.Tensor, imported on first use (tensor.py imports autograd)
NO_EDGE = (None, 0)
ONCE_DIFFERENTIABLE_ERROR = ("trying to differentiate twice a function that was marked with "
                             "@once_differentiable")


def _tensor_type():
    global Tensor
    if Tensor is None:
        from ..tensor import Tensor
    return Tensor


class FunctionCtx:
    """What forward may tell backward: tensors to save, and how its outputs are to be treated."""

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args):
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class BackwardCFunction(FunctionCtx, Node):
    """The node of one ``Function.apply``: runs the Function's ``backward`` (or ``vjp``)."""

    to_save = dirty_tensors = non_differentiable = saved_for_forward = None
    materialize_grads = True

    def __repr__(self):
        return f"<torch.autograd.function.{type(self).__name__} object at {id(self):#x}>"

    def __call__(self, *args):
        raise TypeError(f"'{type(self).__name__}' object is not callable")

    @property
    def saved_tensors(self):
        """The tensors forward saved, checked: freed or modified in place raises (in ``jvp``:
        those saved by ``save_for_forward``)."""
        if self.saved_for_forward is not None:
            return self.saved_for_forward
        return tuple(s and s.unpack(self) for s in self._saved)

    @property
    def saved_variables(self):
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning,
                      stacklevel=2)
        return self.saved_tensors

    @property
    def _raw_saved_tensors(self):
        from .saved_hooks import RawSavedTensor
        return tuple(RawSavedTensor(self, i) for i in range(len(self._saved)))

    def saved_slots(self):
        return {f"saved_tensors[{i}]": s for i, s in enumerate(self._saved) if s is not None}

    def apply(self, *args):
        """The engine passes the list of output gradients; by hand, PyTorch's ``fn.apply(*grads)``
        calls the user's backward and returns what it returns."""
        if args and type(args[0]) is list:
            return self._grad_inputs(args[0])
        return self._user_backward()(self, *args)

    def _user_backward(self):
        cls = self._forward_cls
        if cls.backward is not Function.backward and cls.vjp is not Function.vjp:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is "
                               "not allowed. You should only implement one of them.")
        return cls.vjp if cls.vjp is not Function.vjp else cls.backward

    def _grad_inputs(self, grads):
        """The user's backward on ``grads``, checked as PyTorch checks it; one per input."""
        if self.materialize_grads:
            grads = [g if g is not None or meta is None else _zeros(*meta)
                     for g, meta in zip(grads, self._output_meta)]
        result = self._user_backward()(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        n = len(self._is_tensor)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(result)})")
        out = []
        for i, (grad, is_tensor) in enumerate(zip(result, self._is_tensor)):
            if grad is not None and not isinstance(grad, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
            if is_tensor:
                out.append(grad)
            elif grad is not None:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable")
        return out


def _zeros(shape, dtype):
    return Tensor._make(np.zeros(shape, dtype.np), dtype)


class Function(FunctionCtx):
    """Subclass with static ``forward`` and ``backward`` (or ``setup_context``), call ``apply``.

    Each subclass gets its node class, ``<Name>Backward``, as ``_backward_cls``.
    """

    generate_vmap_rule = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _make_backward_cls(cls)

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode's rule (kept on the class; gradlab's forward mode calls it)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either override "
                                  "the vmap staticmethod or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward without recording, then record one ``<Name>Backward`` node."""
        _tensor_type()
        setup = cls.setup_context is not Function.setup_context
        args, kwargs = _bind(cls.forward, args, kwargs, setup)
        ctx = object.__new__(cls._backward_cls)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._saved = ()
        ctx._seq_nr = next(_sequence)
        level, _levels.current = _levels.current, -1  # forward runs without forward AD
        try:
            with no_grad():
                if setup:
                    output = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, output)
                else:
                    output = cls.forward(ctx, *args)
        finally:
            _levels.current = level
        if _local.enabled and any(ctx.needs_input_grad):
            output = _record(ctx, args, output)
        else:
            for t in ctx.dirty_tensors or ():
                t._bump_version()
        if level >= 0 and any(isinstance(a, Tensor) and a._fw_grad is not None for a in args):
            _carry_tangents(cls, ctx, args, output)
        ctx.saved_for_forward = None
        return output


def _carry_tangents(cls, ctx, inputs, output):
    """Forward mode: the outputs' tangents are what the user's ``jvp`` returns for the inputs'
    (zeros for a tensor without one, unless grads are not materialized; None for the rest)."""
    tangents = [None if not isinstance(a, Tensor) else a._fw_grad if a._fw_grad is not None
                or not ctx.materialize_grads else _zeros(a._array.shape, a.dtype) for a in inputs]
    level, _levels.current = _levels.current, -1
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        _levels.current = level
    outputs = output if type(output) is tuple else (output,)
    result = result if type(result) is tuple else (result,)
    if len(result) != len(outputs):
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients "
                           f"(expected {len(outputs)} but got {len(result)})")
    for i, (out, t) in enumerate(zip(outputs, result)):
        if t is not None and not isinstance(t, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(t).__name__}) for grad "
                               f"output {i}.")
        if t is not None and isinstance(out, Tensor) and out.dtype.is_floating_point:
            if t.shape != out.shape:
                make_dual(out, t)  # raises PyTorch's error for the size
            set_tangent(out, t)


def _make_backward_cls(cls):
    cls._backward_cls = type(cls.__name__ + "Backward", (BackwardCFunction,),
                             {"_forward_cls": cls, "__module__": __name__})


_make_backward_cls(Function)


def _bind(forward, args, kwargs, setup):
    """The inputs and keywords as PyTorch binds them: with setup_context, the defaults filled
    in; else keywords by position."""
    if not kwargs and not setup:
        return args, kwargs
    signature = inspect.signature(forward)
    if setup:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.args, bound.kwargs
    bound = signature.bind(None, *args, **kwargs)
    if bound.kwargs:
        name = next(iter(bound.kwargs))
        raise TypeError(f"forward() got an unexpected keyword argument '{name}'")
    return bound.args[1:], {}


def _edge(t):
    """The edge to a tensor input's producer (as ``record`` makes it)."""
    if not t.requires_grad:
        return NO_EDGE
    if t._base is not None:
        t._fresh()
    fn = t._grad_fn
    return (fn, t._output_nr) if fn is not None else (t._accumulator(), 0)


def _record(node, inputs, output):
    """Make ``node`` the grad_fn of forward's tensor outputs, and save what forward asked."""
    tensors = [t for t in inputs if isinstance(t, Tensor)]
    node._is_tensor = tuple(isinstance(t, Tensor) for t in inputs)
    node.next_functions = tuple(_edge(t) for t in tensors)
    node._input_meta = tuple((t._array.shape, t.dtype) for t in tensors)
    node._hooks = None
    if _anomaly[0]:
        store_stack(node)
    outputs = output if type(output) is tuple else (output,)
    dirty = {id(t) for t in node.dirty_tensors or ()}
    returned = {id(t) for t in outputs}
    if not dirty <= returned:
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all be "
                           "outputs of the Function.")
    non_diff = {id(t) for t in node.non_differentiable or ()}
    input_ids = {id(t) for t in inputs}
    node.num_outputs = len(outputs)
    node._output_meta = tuple((t._array.shape, t.dtype) if isinstance(t, Tensor) else None
                              for t in outputs)
    wrapped = []
    for nr, t in enumerate(outputs):
        if isinstance(t, Tensor):
            if id(t) in dirty:
                _check_dirty(t)
                t._bump_version()
            elif id(t) in input_ids:  # an input returned as is: a view of it, as in PyTorch
                t = Tensor._make(t._storage(), t.dtype, counter=t._version_counter,
                                 base=t._base if t._base is not None else t)
            if id(outputs[nr]) in non_diff or not t.dtype.is_floating_point:
                t._requires_grad = False
            else:
                t._grad_fn, t._output_nr, t._requires_grad = node, nr, True
        wrapped.append(t)
    node._saved = tuple(_save(node, i, t, outputs) for i, t in enumerate(node.to_save or ()))
    node.to_save = None
    if node._saved:  # the names its saved tensors go by (pack events, register_hooks)
        node._slot_names = tuple(f"saved_tensors[{i}]" for i in range(len(node._saved)))
        if _local.saved_hooks is not None:
            pack_custom(node, wrapped, _local.saved_hooks)
    return tuple(wrapped) if type(output) is tuple else wrapped[0]


def _check_dirty(t):
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                           "operation.")
    if t._base is not None and t._base.requires_grad:
        raise NotImplementedError("gradlab does not implement mark_dirty on a view of a tensor "
                                  "that requires grad")


def _save(node, i, t, outputs):
    """A SavedTensor for ``save_for_backward``'s ``i``-th argument: an output is kept as its
    array (no cycle output -> node -> output) and unpacks with the node as its grad_fn."""
    from ..tensor import INFERENCE_SAVE_ERROR
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"save_for_backward can only save variables, but argument {i} is of "
                        f"type {type(t).__name__}")
    counter = t._version_counter
    if type(counter) is not list:
        raise RuntimeError(INFERENCE_SAVE_ERROR)
    for nr, out in enumerate(outputs):
        if out is t and t._grad_fn is node:
            return SavedTensor(t._array, counter[0], counter, t.dtype, nr)
    return SavedTensor(t, counter[0], counter)


def once_differentiable(fn):
    """A backward that runs without recording; differentiating its result again raises."""
    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            outputs = fn(ctx, *args, **kwargs)
        if not is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        many = type(outputs) is tuple
        errors = _delayed_error(ONCE_DIFFERENTIABLE_ERROR, outputs if many else (outputs,))
        return errors if many else errors[0]
    return wrapper


class Error(Node):
    """PyTorch's DelayedError node: running it raises its message."""

    __slots__ = ("message", "num_outputs")

    def name(self):
        return "torch::autograd::Error"

    def apply(self, grads, needed=None):
        raise RuntimeError(self.message)


def _delayed_error(message, tensors):
    """Each tensor (detached) as an output of an Error node over a fresh leaf."""
    node = object.__new__(Error)
    node.message = message
    leaves = [None if t is None else Tensor._make(t._storage(), t.dtype, counter=[0])
              for t in tensors]
    for leaf in leaves:
        if leaf is not None:
            leaf._requires_grad = True
    node.next_functions = tuple(NO_EDGE if t is None else (t._accumulator(), 0) for t in leaves)
    node._input_meta = tuple(None if t is None else (t._array.shape, t.dtype) for t in leaves)
    node._saved, node._attrs, node._hooks = (), (), None
    node._seq_nr = next(_sequence)
    node.num_outputs = len(leaves)
    return tuple(None if t is None else Tensor._make(t._array, t.dtype, node, nr)
                 for nr, t in enumerate(leaves))
