"""The unpickler of torch.load(weights_only=True): it runs only the opcodes PyTorch's allows and
calls only the allowlisted names it is given, so loading a file never runs code from it. Its
errors are PyTorch's."""
import pickle
import struct
import warnings
from collections import Counter, OrderedDict
from pickle import UnpicklingError

BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def _global_name(readline):
    """A GLOBAL's ``module.name``, with Python 2's names mapped as pickle does."""
    from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
    module, name = readline()[:-1].decode(), readline()[:-1].decode()
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    elif module in IMPORT_MAPPING:
        module = IMPORT_MAPPING[module]
    return module, name


def _unsupported_global(path):
    """PyTorch's text for a global outside its allowlist (``builtins.`` left out)."""
    if path.startswith("builtins"):
        path = path[len("builtins."):] if path.startswith("builtins.") else path
    return UnpicklingError(
        f"Unsupported global: GLOBAL {path} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{path}])` or the "
        f"`torch.serialization.safe_globals([{path}])` context manager to allowlist this "
        "global if you trust this class/function.")


class Unpickler:
    """``allowed`` maps ``module.name`` to what a GLOBAL of it gives; ``missing`` holds the names
    PyTorch allows that gradlab cannot build; ``persistent_load(pid)`` gives a storage."""

    def __init__(self, file, allowed, missing, persistent_load, parameter, encoding="utf-8"):
        self.read, self.readline = file.read, file.readline
        self.allowed, self.missing, self.persistent_load = allowed, missing, persistent_load
        self.values = list(allowed.values())
        self.parameter, self.encoding = parameter, encoding

    def load(self):
        self.memo, self.metastack, self.stack = {}, [], []
        while True:
            key = self.read(1)
            if not key:
                raise EOFError
            op = OPS.get(key[0])
            if op is None:
                raise UnpicklingError(f"Unsupported operand {key[0]}")
            if op(self):
                return self.stack.pop()

    def _allowed(self, obj):
        return any(obj is v for v in self.values)

    def pop_mark(self):
        items, self.stack = self.stack, self.metastack.pop()
        return items

    def op_global(self):
        module, name = _global_name(self.readline)
        path = f"{module}.{name}"
        if module in BLOCKED_MODULES:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {path} whose module "
                                  f"{module} is blocked.")
        if path in self.allowed:
            return self.stack.append(self.allowed[path])
        if path in self.missing:
            raise RuntimeError(f"gradlab does not implement {path} (in a file for torch.load)")
        raise _unsupported_global(path)

    def op_newobj(self):
        args, cls = self.stack.pop(), self.stack.pop()
        if cls is self.parameter:
            return self.stack.append(cls(*args))
        if not self._allowed(cls):
            raise UnpicklingError("Can only create new object for nn.Parameter or classes "
                                  f"allowlisted via `add_safe_globals` but got {cls}")
        self.stack.append(cls.__new__(cls, *args))

    def op_reduce(self):
        args, func = self.stack.pop(), self.stack[-1]
        if not self._allowed(func):
            text = f"Trying to call reduce for unrecognized function {func}"
            if hasattr(func, "__self__"):
                text += f" which belongs to {func.__self__}"
            raise UnpicklingError(text)
        self.stack[-1] = func(*args)

    def op_build(self):
        state, inst = self.stack.pop(), self.stack[-1]
        if type(inst) is self.parameter or type(inst) is OrderedDict:
            inst.__dict__.update(state or {})
        elif self._allowed(type(inst)) and hasattr(inst, "__setstate__"):
            inst.__setstate__(state)
        else:
            raise UnpicklingError("Can only build Tensor, Parameter, OrderedDict or types "
                                  f"allowlisted via `add_safe_globals`, but got {type(inst)}")

    def op_append(self):
        item, target = self.stack.pop(), self.stack[-1]
        if type(target) is not list:
            raise UnpicklingError(f"Can only append to lists, but got {type(target)}")
        target.append(item)

    def op_appends(self):
        items, target = self.pop_mark(), self.stack[-1]
        if type(target) is not list:
            raise UnpicklingError(f"Can only extend lists, but got {type(target)}")
        target.extend(items)

    def _set_items(self, opcode, items):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict, Counter):
            raise UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, "
                                  f"collections.Counter, but got {type(target)}")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def op_setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._set_items("SETITEM", [key, value])

    def op_setitems(self):
        self._set_items("SETITEMS", self.pop_mark())

    def op_mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def op_tuple(self):
        items = self.pop_mark()
        self.stack.append(tuple(items))

    def op_tuple_n(n):
        def op(self):
            self.stack[-n:] = [tuple(self.stack[-n:])]
        return op

    def op_push(value_of):
        def op(self):
            self.stack.append(value_of(self))
        return op

    def op_binunicode(self):
        self.stack.append(str(self.read(struct.unpack("<I", self.read(4))[0]), "utf-8",
                              "surrogatepass"))

    def op_short_binstring(self):
        data = self.read(self.read(1)[0])
        self.stack.append(data if self.encoding == "bytes" else data.decode(self.encoding))

    def op_binpersid(self):
        pid = self.stack.pop()
        if type(pid) is not tuple and type(pid) is not int:
            raise UnpicklingError(f"persistent_load id must be tuple or int, but got {type(pid)}")
        if type(pid) is tuple and pid and pid[0] not in ("storage", b"storage"):
            raise UnpicklingError("Only persistent_load of storage is allowed, but got "
                                  f"{type(pid[0])}")
        self.stack.append(self.persistent_load(pid))

    def op_get(size):
        def op(self):
            self.stack.append(self.memo[self._index(size)])
        return op

    def op_put(size):
        def op(self):
            self.memo[self._index(size)] = self.stack[-1]
        return op

    def _index(self, size):
        return self.read(1)[0] if size == 1 else struct.unpack("<I", self.read(4))[0]

    def op_long1(self):
        self.stack.append(pickle.decode_long(self.read(self.read(1)[0])))

    def op_proto(self):
        proto = self.read(1)[0]
        if proto != 2:
            warnings.warn(f"Detected pickle protocol {proto} in the checkpoint, which was not "
                          "the default pickle protocol used by `torch.load` (2). The "
                          "weights_only Unpickler might not support all instructions "
                          "implemented by this protocol, please file an issue for adding "
                          "support if you encounter this.", UserWarning, stacklevel=4)

    def op_stop(self):
        return True


U = Unpickler
OPS = {op[0]: f for op, f in {
    pickle.GLOBAL: U.op_global, pickle.NEWOBJ: U.op_newobj, pickle.REDUCE: U.op_reduce,
    pickle.BUILD: U.op_build, pickle.APPEND: U.op_append, pickle.APPENDS: U.op_appends,
    pickle.SETITEM: U.op_setitem, pickle.SETITEMS: U.op_setitems, pickle.MARK: U.op_mark,
    pickle.TUPLE: U.op_tuple, pickle.TUPLE1: U.op_tuple_n(1), pickle.TUPLE2: U.op_tuple_n(2),
    pickle.TUPLE3: U.op_tuple_n(3), pickle.NONE: U.op_push(lambda u: None),
    pickle.NEWFALSE: U.op_push(lambda u: False), pickle.NEWTRUE: U.op_push(lambda u: True),
    pickle.EMPTY_TUPLE: U.op_push(lambda u: ()), pickle.EMPTY_LIST: U.op_push(lambda u: []),
    pickle.EMPTY_DICT: U.op_push(lambda u: {}), pickle.EMPTY_SET: U.op_push(lambda u: set()),
    pickle.BININT: U.op_push(lambda u: struct.unpack("<i", u.read(4))[0]),
    pickle.BININT1: U.op_push(lambda u: u.read(1)[0]),
    pickle.BININT2: U.op_push(lambda u: struct.unpack("<H", u.read(2))[0]),
    pickle.BINFLOAT: U.op_push(lambda u: struct.unpack(">d", u.read(8))[0]),
    pickle.BINUNICODE: U.op_binunicode, pickle.SHORT_BINSTRING: U.op_short_binstring,
    pickle.BINPERSID: U.op_binpersid, pickle.BINGET: U.op_get(1), pickle.LONG_BINGET: U.op_get(4),
    pickle.BINPUT: U.op_put(1), pickle.LONG_BINPUT: U.op_put(4), pickle.LONG1: U.op_long1,
    pickle.PROTO: U.op_proto, pickle.STOP: U.op_stop}.items()}
