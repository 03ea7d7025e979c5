"""Backward graph nodes: Node (a grad_fn), AccumulateGrad, and the saved tensors they hold."""
import itertools
import weakref

from .anomaly_mode import _state as _anomaly, store_stack
from .grad_mode import _local

Tensor = None  # gradlab.tensor.Tensor, set by that module (which imports this one)
_sequence = itertools.count()
ACCUMULATE_SEQUENCE_NR = (1 << 64) - 1  # every AccumulateGrad's, as in PyTorch (UINT64_MAX)

FREED_ERROR = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.")


_SHARED = {}


def shared(value):
    """One shared copy of an immutable tuple that many nodes hold alike (their inputs' shapes
    and dtypes, output numbers): a node then allocates none, which leaves fewer objects for
    the garbage collector to walk while the graph lives."""
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) >= 4096:  # a program whose shapes never repeat: start again
            _SHARED.clear()
        found = _SHARED[value] = value
    return found


class SavedTensor:
    """One tensor a node saved for backward: kept with its version, released after backward.

    ``value`` is the input Tensor, the output's array (given with its ``dtype``), or a Python
    number that PyTorch would have wrapped into a tensor. Outputs are kept as arrays so no
    cycle output -> node -> output is formed. The output of an in-place op on a view unpacks
    with the view's grad_fn (``view_fn``, a weak reference, as PyTorch keeps it), not the node.
    """

    __slots__ = ("value", "version", "counter", "dtype", "is_output", "freed", "view_fn",
                 "output_nr")
    packed = False  # True for a PackedSavedTensor (saved_hooks.py)

    def __init__(self, value, version=0, counter=None, dtype=None, output_nr=0):
        self.value = value
        self.version = version
        self.counter = counter
        self.dtype = dtype
        self.is_output = dtype is not None
        self.freed = False
        self.view_fn = None
        self.output_nr = output_nr  # which output of its node a saved output is

    def release(self):
        self.value = None
        self.freed = True

    def unpack(self, node):
        """The saved value, checked: freed or modified in place raises PyTorch's errors."""
        value = self._checked(node)
        if self.is_output:
            fn = self.view_fn and self.view_fn()
            return Tensor._make(value, self.dtype, fn or node, self.output_nr, self.counter)
        return value

    def array(self, node):
        """The saved value as NumPy sees it (a Python number as is), checked as ``unpack``."""
        value = self._checked(node)
        return value if self.is_output or self.counter is None else value._array

    def _checked(self, node):
        if self.freed:
            raise RuntimeError(FREED_ERROR)
        if self.counter is not None and self.counter[0] != self.version:
            raise RuntimeError(_modified_message(self, node))
        return self.value


class SavedTensorList(SavedTensor):
    """A saved list of tensors (index's ``indices``, None where a dim is not indexed), each
    version-checked as a saved tensor is; ``value`` is the list itself."""

    __slots__ = ("items",)

    def __init__(self, tensors):
        super().__init__(tensors)
        self.items = tuple(_saved_item(t) for t in tensors)

    def release(self):
        SavedTensor.release(self)
        self.items = None

    def _checked(self, node):
        if self.freed:
            raise RuntimeError(FREED_ERROR)
        for item in self.items:
            if item is not None:
                item._checked(node)
        return self.value


def _saved_item(t):
    counter = getattr(t, "_version_counter", None)
    return SavedTensor(t, counter[0], counter) if type(counter) is list else None


def _slot(value, version):
    """A SavedTensor for a value a node keeps as it is (an input tensor, or a number)."""
    if value is None or isinstance(value, SavedTensor):
        return value
    if isinstance(value, Tensor):
        return SavedTensor(value, version, value._version_counter)
    return SavedTensor(value)


def _released(store):
    """``store`` with each value replaced by FREED (a SavedTensor, too, once released)."""
    for value in store:
        if value is None or isinstance(value, SavedTensor):
            return tuple(value if value is None or isinstance(value, SavedTensor) else FREED
                         for value in store)
    return _ALL_FREED[len(store)] if len(store) < len(_ALL_FREED) else (FREED,) * len(store)


class DualSavedTensor(SavedTensor):
    """A saved output that had a tangent: unpacked in the same dual level, the tensor has it
    again (forward-over-reverse through a formula that uses the result, as PyTorch's
    SavedVariable keeps the forward grad). The tangent is held as a dual tensor's is, in
    ``__dict__``, so exiting the level deletes it."""

    def unpack(self, node):
        value = SavedTensor.unpack(self, node)
        tangent = self.__dict__.get("_fw_grad")
        if tangent is not None:
            from .forward_ad import set_tangent
            set_tangent(value, tangent)
        return value


def _modified_message(saved, node):
    from .._size import Size
    if saved.is_output:
        shape, dtype, producer = saved.value.shape, saved.dtype, saved.view_fn and \
            saved.view_fn() or node
    else:
        tensor = saved.value
        shape, dtype, producer = tensor._array.shape, tensor.dtype, tensor._grad_fn
    where = ""
    if producer is not None:
        name = producer.name()
        op = name[:name.rfind("Backward")] if "Backward" in name else name
        where = f", which is output 0 of {op},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{dtype._legacy} {list(Size(shape))}]{where} is at version "
        f"{saved.counter[0]}; expected version {saved.version} instead. " + (
            "Hint: the backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. Good "
            "luck!" if _anomaly[0] else "Hint: enable anomaly detection to find the operation "
            "that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False)."))


FREED = SavedTensor(None)  # stands for each released value a node kept as it was
FREED.release()
_ALL_FREED = tuple((FREED,) * k for k in range(8))
NO_VERSIONS = (0,) * 64  # the versions of inputs saved unmodified (nearly always)


class Hooks:
    """The hooks a node carries, created only when the first one is registered."""

    __slots__ = ("pre", "post", "tensor_pre", "retains_grad", "post_accumulate")

    def __init__(self):
        self.pre, self.post, self.tensor_pre, self.retains_grad = {}, {}, {}, {}
        self.post_accumulate = {}


class RemovableHandle:
    """Returned by register_hook: ``handle.remove()`` unregisters the hook."""

    _next_id = itertools.count()
    __slots__ = ("_table", "id")

    def __init__(self, table):
        self._table = weakref.ref(table) if hasattr(table, "__weakref__") else (lambda: table)
        self.id = next(self._next_id)

    def remove(self):
        table = self._table()
        if table is not None:
            table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A grad_fn: maps the gradients of its outputs to the gradients of its inputs.

    Subclasses are made per PyTorch overload by ``gradlab.ops.derivative``; the engine calls
    ``apply`` and knows no op.
    """

    # Every object a node owns is one more the garbage collector walks at each full collection
    # while the graph lives, so a node owns as few as it can. Its edges to the inputs' producers
    # are ``_nrs`` (which of their outputs, a shared tuple) and the nodes themselves (None where
    # no gradient flows), the first two in slots of the node's own (``_next0``, ``_next1``) and
    # any others in ``_next_more``: ``_next`` gives them all. Saved inputs and numbers are kept
    # as they are in ``_store``, with the inputs' versions in a shared tuple ``_versions`` (see
    # ``_saved``).
    __slots__ = ("_next0", "_next1", "_next_more", "_nrs", "_store", "_versions", "_attrs",
                 "_input_meta", "_seq_nr", "_hooks", "_metadata", "__weakref__")
    num_outputs = 1
    _multi = False
    _slot_names = ()
    _attr_names = ()

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __call__(self, *grads):
        """Apply the node by hand: one gradient per input (a tensor when there is one input)."""
        _local.by_hand += 1
        try:
            result = self.apply(grads)
        finally:
            _local.by_hand -= 1
        return result[0] if len(result) == 1 else tuple(result)

    @property
    def next_functions(self):
        """``((node, output_nr), ...)`` per input, as PyTorch gives it: None where none flows."""
        return tuple(zip(self._next, self._nrs))

    @next_functions.setter
    def next_functions(self, edges):
        self._next = tuple(fn for fn, _ in edges)
        self._nrs = shared(tuple(nr for _, nr in edges))

    @property
    def _next(self):
        """The inputs' nodes, one per input (None where no gradient flows)."""
        count = len(self._nrs)
        if count > 2:
            return (self._next0, self._next1) + self._next_more
        return (self._next0, self._next1)[:count]

    @_next.setter
    def _next(self, nodes):
        nodes = tuple(nodes)
        self._next0, self._next1 = (nodes + (None, None))[:2]
        self._next_more = nodes[2:]

    def _sequence_nr(self):
        return self._seq_nr

    @property
    def metadata(self):
        try:
            return self._metadata
        except AttributeError:
            self._metadata = {}
            return self._metadata

    def _hook_tables(self):
        if getattr(self, "_hooks", None) is None:
            self._hooks = Hooks()
        return self._hooks

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after the node; it may return new grad_inputs."""
        table = self._hook_tables().post
        handle = RemovableHandle(table)
        table[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before the node; it may return new grad_outputs."""
        table = self._hook_tables().pre
        handle = RemovableHandle(table)
        table[handle.id] = fn
        return handle

    @property
    def _saved(self):
        """The saved slots as SavedTensor objects (None where nothing is saved).

        A recorded node keeps its saved inputs and numbers as they are (``_versions`` then
        holds the inputs' versions at the time); they become SavedTensor objects here, the
        first time anything but the engine asks for them.
        """
        versions = self._versions
        if versions is not None:
            self._store = tuple(_slot(value, versions[j]) for j, value in enumerate(self._store))
            self._versions = None
        return self._store

    @_saved.setter
    def _saved(self, slots):
        self._store, self._versions = slots, None

    def saved_slots(self):
        """The node's saved-tensor slots by name (name -> SavedTensor), for inspection."""
        saved = getattr(self, "_saved", ())
        return {n: s for n, s in zip(self._slot_names, saved) if isinstance(s, SavedTensor)}

    def release_saved(self):
        """Free the saved tensors (after a backward without retain_graph)."""
        store = self._store
        if self._versions is not None:  # inputs and numbers held as they are: let go of them
            self._store, self._versions = _released(store), None
        for s in store:
            if isinstance(s, SavedTensor):
                s.release()

    def _unpack_for_user(self, index):
        s = self._saved[index]
        if s is None or s.counter is not None or s.freed or s.packed:
            return None if s is None else s.unpack(self)
        if isinstance(s.value, tuple):
            return s.unpack(self)
        from .. import _dtype
        from .._creation import tensor
        # a Python number PyTorch saves as a wrapped tensor: a float is wrapped as a double
        v = s.value
        return tensor(v, dtype=_dtype.float64 if isinstance(v, float) else None)


class AccumulateGrad(Node):
    """The sink of a leaf that requires grad: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable
        self._next = self._nrs = ()
        self._store, self._versions = (), None
        self._attrs = ()
        self._input_meta = ()
        self._seq_nr = ACCUMULATE_SEQUENCE_NR  # ready ones run first, as in PyTorch
        self._hooks = None
        if _anomaly[0]:
            store_stack(self)

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def apply(self, grads, needed=None):
        """Called by hand, it accumulates into the leaf's ``.grad`` (and returns nothing)."""
        from .engine import _accumulate
        if grads[0] is not None:
            _accumulate(self, grads[0], False, True)
        return ()


# torch.autograd.graph's public names
from .saved_hooks import (allow_mutation_on_saved_tensors,  # noqa: E402, F401
                          disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks)
from .graph_hooks import increment_version, register_multi_grad_hook  # noqa: E402, F401
