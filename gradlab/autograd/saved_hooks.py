"""Hooks for saved tensors (PyTorch's torch.autograd.graph): pack at save time, unpack at use.

Without hooks a node's saved tensors are plain ``SavedTensor`` slots and nothing here runs. A
slot saved under ``saved_tensors_hooks`` (or given hooks through ``grad_fn._raw_saved_<name>``)
becomes a ``PackedSavedTensor``: it keeps what the pack hook returned and the metadata needed to
rebuild the tensor's place in the graph, and the node's slot tuple becomes ``PackedSlots``, the
one cheap check by which ``apply`` knows to unpack each slot once, in PyTorch's order, first.
"""
import collections
import contextlib
import weakref

from .grad_mode import _local, no_grad
from .graph import FREED_ERROR, SavedTensor, SavedTensorList

PACK_MODIFIED_ERROR = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack "
    "hook cannot be modified by in-place operations as this can lead to unexpected side-effects. "
    "Please open an issue if you need to perform in-place operations on the input to a pack hook.")


class PackedSlots(tuple):
    """A node's saved slots when at least one of them is packed by hooks."""

    __slots__ = ()


class PackedSavedTensor(SavedTensor):
    """A saved tensor kept as its pack hook's result (``value``) and read through its unpack hook.

    As in PyTorch, the version is not checked (the hooks decide what comes back), and the tensor
    unpacked takes the saved one's place in the graph: the node's output, the input's grad_fn,
    or a leaf's AccumulateGrad.
    """

    __slots__ = ("unpack_hook", "name", "grad_fn", "output_nr", "requires_grad", "accumulator")
    packed = True

    def __init__(self, slot, name, tensor, shown, hooks):
        self.version, self.counter, self.dtype = slot.version, None, slot.dtype
        self.is_output, self.freed, self.view_fn = slot.is_output, False, slot.view_fn
        self.name = name
        self.grad_fn = None if slot.is_output else tensor.grad_fn
        self.output_nr = slot.output_nr if slot.is_output else tensor._output_nr
        self.requires_grad = tensor._requires_grad
        self.accumulator = tensor._accumulator_ref if self.grad_fn is None else None
        self.unpack_hook = None
        counter = shown._version_counter
        version = counter[0]
        with no_grad():
            self.value = hooks[0](shown)
        if counter[0] != version:
            raise RuntimeError(PACK_MODIFIED_ERROR)
        self.unpack_hook = hooks[1]

    def release(self):
        self.value = self.unpack_hook = None
        self.freed = True

    def unpack(self, node):
        if self.freed:
            raise RuntimeError(FREED_ERROR)
        from ..tensor import Tensor
        data = self.unpack_hook(self.value)
        if not isinstance(data, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(data).__name__}")
        log = _local.saved_log
        if log is not None:
            log.append(("unpacked", None, self.name, data))
        if self.is_output:
            fn, nr = self.view_fn and self.view_fn() or node, self.output_nr
        else:
            fn, nr = self.grad_fn, self.output_nr
        tensor = Tensor._make(data._array, data.dtype, fn, nr, data._version_counter)
        if fn is None and self.requires_grad:
            tensor._requires_grad, tensor._accumulator_ref = True, self.accumulator
        return tensor

    def array(self, node):
        return self.unpack(node)._array


class DualPackedSavedTensor(PackedSavedTensor):
    """A packed tensor that had a tangent: unpacked in the same dual level, the tensor has it
    again, whatever the unpack hook returns (PyTorch's SavedVariable keeps the forward grad
    beside the packed data). The tangent lives in ``__dict__`` (see DualSavedTensor)."""

    def unpack(self, node):
        tensor = PackedSavedTensor.unpack(self, node)
        tangent = self.__dict__.get("_fw_grad")
        if tangent is not None:
            from .forward_ad import set_tangent
            set_tangent(tensor, tangent)
        return tensor


class PackedSavedList(SavedTensor):
    """A saved list of tensors (index's ``indices``) under hooks: as PyTorch packs a saved
    TensorList, each tensor on its own (None entries stay None); ``value`` holds what each pack
    returned, and unpacking the list unpacks each tensor, in order."""

    __slots__ = ("items",)
    packed = True
    unpack_hook = None

    def __init__(self, items):
        super().__init__(tuple(None if p is None else p.value for p in items))
        self.items = items

    def release(self):
        self.value = self.items = None
        self.freed = True

    def unpack(self, node):
        if self.freed:
            raise RuntimeError(FREED_ERROR)
        return tuple(None if p is None else p.unpack(node) for p in self.items)

    array = unpack


def raw_saved(node, index):
    """``grad_fn._raw_saved_<name>``: a RawSavedTensor, or for a saved list a tuple of them."""
    slot = node._saved[index]
    if type(slot) in (SavedTensorList, PackedSavedList) and not slot.freed:
        return tuple(RawSavedTensor(node, index, k) for k in range(len(slot.items)))
    return RawSavedTensor(node, index)


class RawSavedTensor:
    """What ``grad_fn._raw_saved_<name>`` gives (PyTorch's torch._C._autograd.SavedTensor);
    ``item`` picks one tensor of a saved list."""

    __slots__ = ("_node", "_index", "_item")

    def __init__(self, node, index, item=None):
        self._node, self._index, self._item = node, index, item

    def _slot(self):
        slot = self._node._saved[self._index]
        if self._item is None or slot.freed:
            return slot
        return slot.items[self._item]

    def __repr__(self):
        return f"<torch._C._autograd.SavedTensor object at {id(self):#x}>"

    def register_hooks(self, *hooks):
        """Pack this saved tensor now with ``pack_hook``; ``unpack_hook`` reads it back."""
        if len(hooks) != 2 or not all(callable(h) for h in hooks):
            raise TypeError(_incompatible(
                "register_hooks", "self: torch._C._autograd.SavedTensor, arg0: "
                "collections.abc.Callable, arg1: collections.abc.Callable", (self, *hooks)))
        node, i = self._node, self._index
        slot = self._slot()
        if slot is not None and slot.packed and not slot.freed:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already "
                               "been set. Hint: only one pair of hooks is allowed at a time.")
        if slot is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is "
                               "forbidden")
        if slot.freed:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved "
                "intermediate values of the graph are freed when you call .backward() or "
                "autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved variables after calling "
                "backward.")
        tensor = self._original()
        shown = tensor if slot.is_output else tensor.detach()
        packed = PackedSavedTensor(slot, node._slot_names[i], tensor, shown, hooks)
        if self._item is not None:
            items = node._saved[i].items
            packed = PackedSavedList(items[:self._item] + (packed,) + items[self._item + 1:])
        _replace_slot(node, i, packed)

    def _original(self):
        from ..tensor import Tensor
        slot = self._slot()
        if self._item is not None:
            return slot.value
        if slot.is_output:
            return Tensor._make(slot.value, slot.dtype, counter=slot.counter)
        return slot.value if slot.counter is not None else self._node._unpack_for_user(self._index)

    @property
    def data(self):
        """The packed object under hooks, else the tensor saved; None once freed."""
        slot = self._slot()
        if slot is None or slot.freed:
            return None
        return slot.value if slot.packed else self._original()

    @property
    def unpack_hook(self):
        slot = self._slot()
        return None if slot is None or not slot.packed else slot.unpack_hook

    def unpack(self):
        if self._item is None:
            return self._node._unpack_for_user(self._index)
        slot = self._slot()
        return None if slot is None else slot.unpack(self._node)


def _incompatible(name, signature, args):
    """pybind11's TypeError for arguments of the wrong types."""
    return (f"{name}(): incompatible function arguments. The following argument types are "
            f"supported:\n    1. ({signature}) -> None\n\nInvoked with: "
            + ", ".join(map(repr, args)))


def _replace_slot(node, i, slot):
    saved = node._saved
    node._saved = PackedSlots(saved[:i] + (slot,) + saved[i + 1:])


def _save_order(node):
    """PyTorch saves (and unpacks) the inputs in the order of their names, then the outputs."""
    saved, names = node._saved, node._slot_names
    return sorted((i for i, s in enumerate(saved) if s is not None),
                  key=lambda i: (saved[i].is_output, names[i]))


def pack_saved(node, output, hooks):
    """Pack ``node``'s saved tensors with ``hooks`` (pack, unpack), showing ``output`` (the
    tensor the node made) for a saved result; Python numbers are not packed (as in PyTorch)."""
    from ..tensor import Tensor
    names = node._slot_names
    for i in _save_order(node):
        slot = node._saved[i]
        if slot.packed:
            continue
        if slot.is_output or isinstance(slot.value, Tensor):
            _pack_slot(node, i, names[i], output if slot.is_output else slot.value, hooks)
        elif type(slot) is SavedTensorList:
            _pack_list(node, i, names[i], slot.items, hooks)


def _pack_list(node, i, name, slots, hooks):
    """Pack each tensor of a saved list (PyTorch's TensorList) with ``hooks``, in order."""
    items = []
    log = _local.saved_log
    for slot in slots:
        if slot is None:
            items.append(None)
            continue
        packed = PackedSavedTensor(slot, name, slot.value, slot.value, hooks)
        items.append(packed)
        if log is not None:
            log.append(("packed", node, name, packed.value))
    _replace_slot(node, i, PackedSavedList(tuple(items)))


def pack_custom(node, outputs, hooks):
    """Pack a custom Function's saved tensors with ``hooks``, in save_for_backward's order;
    ``outputs`` are forward's outputs (a saved one is shown to the pack hook as itself)."""
    for i, slot in enumerate(node._saved):
        if slot is not None:
            tensor = outputs[slot.output_nr] if slot.is_output else slot.value
            _pack_slot(node, i, node._slot_names[i], tensor, hooks)


def _pack_slot(node, i, name, tensor, hooks):
    tangent = tensor._fw_grad
    packed = (DualPackedSavedTensor if tangent is not None else PackedSavedTensor)(
        node._saved[i], name, tensor, tensor, hooks)
    if tangent is not None:
        from .forward_ad import set_tangent
        set_tangent(packed, tangent)
    _replace_slot(node, i, packed)
    log = _local.saved_log
    if log is not None:
        log.append(("packed", node, name, packed.value))


class _Unpacked:
    """A slot already unpacked for one run of its node."""

    __slots__ = ("tensor",)
    packed = False

    def __init__(self, tensor):
        self.tensor = tensor

    def unpack(self, node):
        return self.tensor

    def array(self, node):
        return self.tensor._array


def unpack_all(node):
    """Each packed slot unpacked once, in PyTorch's order, as its generated code does first."""
    saved = list(node._saved)
    for i in _save_order(node):
        if saved[i].packed:
            saved[i] = _Unpacked(saved[i].unpack(node))
    return saved


# ---- the context managers ------------------------------------------------------------------------

class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are packed with ``pack_hook`` and
    read back with ``unpack_hook``; when nested, the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _push_hooks(self.pack_hook, self.unpack_hook)

    def __exit__(self, *exc):
        stack = _local.saved_hooks_stack[:-1]
        _local.saved_hooks_stack = stack
        _local.saved_hooks = stack[-1] if stack else None


def _push_hooks(pack_hook, unpack_hook):
    if not (callable(pack_hook) and callable(unpack_hook)):
        raise TypeError(_incompatible(
            "_push_saved_tensors_default_hooks", "arg0: collections.abc.Callable, arg1: "
            "collections.abc.Callable", (pack_hook, unpack_hook)))
    if _local.saved_hooks_disabled is not None:
        raise RuntimeError(_local.saved_hooks_disabled)
    _local.saved_hooks = (pack_hook, unpack_hook)
    _local.saved_hooks_stack += (_local.saved_hooks,)


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device for backward; on a CPU
    build (gradlab's only device) the CPU tensor is the tensor itself, as in PyTorch."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            from .._creation import empty
            packed = empty(tensor.size(), dtype=tensor.dtype)  # CPU only: nothing is pinnable
            packed.copy_(tensor)
            return (tensor.device, packed)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside it, registering saved-tensor hooks raises RuntimeError(error_message)."""
    previous = _local.saved_hooks_disabled
    try:
        _local.saved_hooks_disabled = error_message
        if _local.saved_hooks_stack:
            raise RuntimeError(error_message)
        yield
    finally:
        _local.saved_hooks_disabled = previous


# ---- allow_mutation_on_saved_tensors -------------------------------------------------------------

mutation = None  # the allow_mutation_on_saved_tensors context in force, checked before writes


class _Handle:
    """What the pack hook keeps for one saved tensor (at one version)."""


class _AllowMutationOnSavedContext:
    """The tensors saved inside the context, and the clones made before they were changed."""

    def __init__(self):
        self.cloned = weakref.WeakKeyDictionary()
        self.original = weakref.WeakKeyDictionary()
        self.tid_to_weakhandle = weakref.WeakValueDictionary()
        self.sid_to_tid = collections.defaultdict(set)

    def clear(self):
        self.cloned.clear()
        self.original.clear()
        self.tid_to_weakhandle.clear()
        self.sid_to_tid.clear()

    def pack(self, tensor):
        tid, sid = _ids(tensor)
        self.sid_to_tid[sid].add(tid)
        handle = self.tid_to_weakhandle.get(tid)
        if handle is None:  # the same tensor at the same version may be saved several times
            handle = self.tid_to_weakhandle[tid] = _Handle()
            self.original[handle] = tensor
        return handle

    def unpack(self, handle):
        message = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                   "in which the graph was originally recorded.")
        if mutation is None:
            raise AssertionError(message)
        if handle in self.cloned:
            return self.cloned[handle]
        if handle not in self.original:
            raise AssertionError(message)
        return self.original[handle]


def _ids(tensor):
    """(tensor id, storage id): a tensor at a version, and every tensor sharing its storage
    (views share the version counter) at that version."""
    counter = tensor._version_counter
    return (id(tensor), id(counter), counter[0]), (id(counter), counter[0])


def before_write(tensor):
    """``tensor`` is about to change in place: clone what was saved of its storage first."""
    ctx = mutation
    for tid in ctx.sid_to_tid.get(_ids(tensor)[1], ()):
        handle = ctx.tid_to_weakhandle.get(tid)
        if handle is None or handle in ctx.cloned:
            continue  # freed by a backward since, or cloned already
        with no_grad():
            ctx.cloned[handle] = ctx.original[handle].clone()
        del ctx.original[handle]


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Inside it, a tensor saved for backward may be changed in place: it is cloned first, and
    backward (which must run inside the same context) reads the clone."""
    global mutation
    ctx = _AllowMutationOnSavedContext()
    with saved_tensors_hooks(ctx.pack, ctx.unpack):
        try:
            if mutation is not None:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            mutation = ctx
            yield ctx
        finally:
            ctx.clear()
            mutation = None
