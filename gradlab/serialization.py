"""torch.save / torch.load in PyTorch's own file format: a zip archive holding ``data.pkl`` (the
object, pickled with protocol 2, each tensor storage a persistent id) and the storages' bytes
in ``data/<key>``. Real torch.load reads gradlab's files and gradlab reads real torch's; loading
runs only what PyTorch's weights_only=True allowlists."""
import io
import os
import pickle
import re
import sys
import warnings
from collections import Counter, OrderedDict
from codecs import encode

import numpy as np

from . import _dtype
from ._archive import ArchiveWriter, archive_name
from ._device import device
from ._size import Size
from ._weights_only import Unpickler
from .tensor import Tensor

STORAGE_NAMES = {"bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage",
                 "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage",
                 "float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage"}
# What PyTorch's weights_only unpickler accepts that gradlab cannot build
MISSING = {f"torch.{name}" for name in (
    "bfloat16", "complex32", "complex64", "complex128", "uint16", "uint32", "uint64", "bits8",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "BFloat16Storage",
    "ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage",
    "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage", "storage.UntypedStorage",
    "serialization._get_layout", "_utils._rebuild_qtensor", "_utils._rebuild_sparse_tensor",
    "_utils._rebuild_meta_tensor_no_storage", "_utils._rebuild_nested_tensor",
    "_utils._rebuild_wrapper_subclass", "_utils._rebuild_device_tensor_from_numpy",
    "_utils._rebuild_device_tensor_from_cpu_tensor", "per_tensor_affine")}

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source.")
DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default "
    "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
CUDA_LOAD_ERROR = (
    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
    "If you are running on a CPU-only machine, please use torch.load with "
    "map_location=torch.device('cpu') to map your storages to the CPU.")


# ---- saving --------------------------------------------------------------------------------------

class _Global:
    """A name in torch's namespace, pickled as a GLOBAL opcode (gradlab has no ``torch``)."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path

    def __call__(self, *args):  # pickle's save_reduce asks for a callable
        raise TypeError(f"{self.path} is a name in PyTorch's files, not a gradlab function")


GLOBALS = {path: _Global(path) for path in (
    "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_parameter", "torch Size",
    "torch device", *(f"torch {d.name}" for d in _dtype.ALL),
    *(f"torch {name}" for name in STORAGE_NAMES.values()))}


class _Storage:
    """A tensor storage: the flat NumPy array (in memory order) that views of it index into."""

    __slots__ = ("array", "dtype", "location")

    def __init__(self, array, dtype, location="cpu"):
        self.array, self.dtype, self.location = array, dtype, location


class _Pickler(pickle._Pickler):
    """PyTorch's pickling of tensors (protocol 2, storages as persistent ids)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages, self.keys = {}, {}  # storage key -> _Storage; id(_Storage) -> key
        self.by_root = {}  # id(root array) -> its _Storage (which keeps the id unique)

    def save_torch_global(self, obj):
        module, name = obj.path.split(" ")
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)

    dispatch[_Global] = save_torch_global

    def persistent_id(self, obj):
        if type(obj) is not _Storage:
            return None
        key = self.keys.setdefault(id(obj), str(len(self.keys)))
        self.storages[key] = obj
        return ("storage", GLOBALS[f"torch {STORAGE_NAMES[obj.dtype.name]}"], key, "cpu",
                obj.array.size)

    def reducer_override(self, obj):
        t = type(obj)
        if t is Tensor:
            return self._reduce_tensor(obj)
        if isinstance(obj, Tensor):  # nn.Parameter
            return (GLOBALS["torch._utils _rebuild_parameter"],
                    (obj.detach(), obj.requires_grad, OrderedDict()))
        if t is Size:
            return GLOBALS["torch Size"], (tuple(obj),)
        if t is device:
            return GLOBALS["torch device"], (str(obj),)
        return NotImplemented

    def save_dtype(self, obj):
        self.save(GLOBALS[f"torch {obj.name}"])

    dispatch[_dtype.dtype] = save_dtype

    def _reduce_tensor(self, t):
        array = np.asarray(t._array)
        storage, offset, strides = self._storage_of(array)
        return (GLOBALS["torch._utils _rebuild_tensor_v2"],
                (storage, offset, array.shape, strides, t.requires_grad, OrderedDict()))

    def _storage_of(self, array):
        """The storage a tensor's array views, its offset and strides in elements."""
        root = array
        while isinstance(root.base, np.ndarray):
            root = root.base
        size = array.itemsize
        offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if (root.dtype != array.dtype or not (root.flags.c_contiguous or root.flags.f_contiguous)
                or array.size == 0 or offset % size or any(s < 0 or s % size
                                                           for s in array.strides)):
            return self._storage(np.ascontiguousarray(array)), 0, _contiguous_strides(array.shape)
        return self._storage(root), offset // size, tuple(s // size for s in array.strides)

    def _storage(self, root):
        storage = self.by_root.get(id(root))
        if storage is None:
            storage = self.by_root[id(root)] = _Storage(root, _dtype.of_numpy(root.dtype))
        return storage


def _contiguous_strides(shape):
    """PyTorch's strides of a contiguous tensor (empty dims count as 1)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write ``obj`` (tensors, containers of them, numbers, strings) to a path or a file."""
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("gradlab does not implement PyTorch's legacy (non-zip) "
                                  "format: torch.save(_use_new_zipfile_serialization=False)")
    buffer = io.BytesIO()
    pickler = _Pickler(buffer)
    pickler.dump(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        with open(path, "wb") as file:
            _write(file.write, archive_name(path), buffer.getvalue(), pickler.storages,
                   _disable_byteorder_record)
    else:
        _write(f.write, "archive", buffer.getvalue(), pickler.storages, _disable_byteorder_record)


def _write(write, name, data, storages, without_byteorder):
    archive = ArchiveWriter(write, name)
    archive.record("data.pkl", data)
    archive.record(".format_version", b"1")
    archive.record(".storage_alignment", b"64")
    if not without_byteorder:
        archive.record("byteorder", sys.byteorder.encode())
    for key, storage in storages.items():
        archive.record(f"data/{key}", memoryview(storage.array.ravel(order="K").view(np.uint8)))
    archive.close()


# ---- loading -------------------------------------------------------------------------------------

def _rebuild_tensor(storage, storage_offset, size, stride):
    array, size_bytes = storage.array, storage.array.itemsize
    view = np.lib.stride_tricks.as_strided(array[storage_offset:] if array.size else array,
                                           tuple(size), tuple(s * size_bytes for s in stride))
    return Tensor._make(view, storage.dtype)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    t.requires_grad = requires_grad
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    from .nn import Parameter
    p = Parameter(data, requires_grad)
    for name, value in (state or {}).items():
        setattr(p, name, value)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    t = func(*args)
    if type(t) is not new_type:
        raise RuntimeError(f"gradlab does not implement tensor subclasses ({new_type}) in files "
                           "for torch.load")
    for name, value in (state or {}).items():
        setattr(t, name, value)
    return t


class _StorageType:
    """What a ``torch.FloatStorage`` GLOBAL stands for while loading: a dtype."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


def _allowed_globals():
    from .nn import Parameter
    allowed = {"collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
               "torch.nn.parameter.Parameter": Parameter, "torch.Size": Size,
               "torch.Tensor": Tensor, "torch.device": device, "_codecs.encode": encode,
               "builtins.bytearray": bytearray, "builtins.set": set,
               "builtins.complex": complex, "torch._utils._rebuild_tensor": _rebuild_tensor,
               "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
               "torch._utils._rebuild_parameter": _rebuild_parameter,
               "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
               "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2}
    for d in _dtype.ALL:
        allowed[f"torch.{d.name}"] = d
        allowed[f"torch.{STORAGE_NAMES[d.name]}"] = _StorageType(d)
    return allowed


def _restorer(map_location):
    """PyTorch's restore_location for ``map_location``: storage, location -> storage."""
    if map_location is None:
        return _restore
    if isinstance(map_location, dict):
        return lambda storage, location: _restore(storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes, device)) or type(map_location).__module__ == "torch":
        name = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda storage, location: _restore(storage, name)
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            return _restore(storage, location) if result is None else result
        return restore
    raise TypeError(f"gradlab does not implement map_location={map_location!r}")


def _restore(storage, location):
    """The storage at ``location``: gradlab's tensors live on the CPU only."""
    location = str(location)
    if location == "cpu":
        return storage
    if location.startswith("cuda"):
        raise RuntimeError(CUDA_LOAD_ERROR)
    if location == "mps":
        raise RuntimeError("torch.UntypedStorage(): Storage device not recognized: mps")
    raise RuntimeError("don't know how to restore data location of torch.storage.UntypedStorage "
                       f"(tagged with {location})")


def _wo_message(message):
    """PyTorch's wording around a weights-only unpickler error."""
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        return ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the "
                f"checkpoint\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                "message.\n\tWeightsUnpickler error: " + message + DOCS_MESSAGE)
    text = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if not re.search(r"whose module (\S+) is blocked", message):
        text += ("Please file an issue with the following so that we can make "
                 "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
    return text + "\n\n" + message + DOCS_MESSAGE


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read what torch.save wrote (by PyTorch or gradlab), running no code from the file."""
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if weights_only is False or pickle_module is not None:  # PyTorch would unpickle anything
        raise pickle.UnpicklingError(
            "gradlab does not implement torch.load(weights_only=False) (nor a pickle_module): "
            "loading never runs code from the file, so gradlab loads only what PyTorch's "
            "weights_only=True allows (tensors, Parameters, containers, numbers, strings).")
    if pickle_load_args:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    restore = _restorer(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            return _load(file, restore, pickle_load_args.get("encoding", "utf-8"))
    return _load(f, restore, pickle_load_args.get("encoding", "utf-8"))


def _load(file, restore, encoding):
    import zipfile
    start = file.tell()
    magic = file.read(4)
    file.seek(start)
    if magic != b"PK\x03\x04":
        raise RuntimeError("gradlab does not implement PyTorch's legacy (non-zip) format: it "
                           "reads the zip archives torch.save writes since PyTorch 1.6")
    with zipfile.ZipFile(file) as archive:
        prefix = archive.namelist()[0].split("/", 1)[0] + "/"
        big_endian = (archive.read(prefix + "byteorder") == b"big"
                      if prefix + "byteorder" in archive.namelist() else False)
        loaded = {}

        def persistent_load(pid):
            _, storage_type, key, location, numel = pid
            if not isinstance(storage_type, _StorageType):
                raise pickle.UnpicklingError(f"gradlab cannot load a storage of {storage_type}")
            if key not in loaded:
                dt = storage_type.dtype.np.newbyteorder(">" if big_endian else "<")
                array = np.frombuffer(bytearray(archive.read(f"{prefix}data/{key}")), dt)
                storage = _Storage(array.astype(storage_type.dtype.np, copy=False),
                                   storage_type.dtype)
                loaded[key] = restore(storage, location)
            return loaded[key]

        from .nn import Parameter
        unpickler = Unpickler(io.BytesIO(archive.read(prefix + "data.pkl")), _allowed_globals(),
                              MISSING, persistent_load, Parameter, encoding)
        try:
            return unpickler.load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(_wo_message(str(e))) from None


from ._missing import missing_names  # noqa: E402
__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
