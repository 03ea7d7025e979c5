"""torch.save / torch.load: gradlab writes PyTorch 2.13's files byte for byte (all but half of
the serialization id), real torch.load reads them, gradlab reads real torch's, and loading runs
no code from the file (PyTorch's weights_only allowlist and error texts)."""
import collections
import io
import os
import pathlib
import pickle
import warnings
import zipfile

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def objects(T):
    """The same objects built with torch or gradlab ``T``, by name."""
    x = T.arange(12.0).reshape(3, 4)
    leaf = T.tensor([1.0, -2.0], requires_grad=True)
    return {
        "tensor": x,
        "scalar": T.tensor(3.5),
        "int scalar": T.tensor(7),
        "empty": T.zeros(0),
        "empty 2d": T.zeros(2, 0, 3),
        "dtypes": [T.tensor([1, 0, 2], dtype=getattr(T, d)) for d in DTYPES],
        "views": {"x": x, "row": x[1], "column": x[:, 2], "t": x.t(), "step": x[::2, 1::2]},
        "same tensor twice": [x, x, (x,)],
        "requires grad": {"leaf": leaf, "non-leaf": leaf * 2, "half": T.ones(2).half()
                          .requires_grad_()},
        "parameter": collections.OrderedDict(w=T.nn.Parameter(T.ones(2, 2)),
                                             frozen=T.nn.Parameter(T.ones(1), requires_grad=False)),
        "python": {"int": 3, "big": 2 ** 70, "neg": -5, "float": 0.1, "str": "héllo", "none": None,
                   "bool": [True, False], "tuple": (1, (2, 3)), "set": {1}, "bytes": b"ab",
                   "complex": 1 + 2j, 7: "int key"},
        "size dtype device": [T.Size([2, 3]), T.float16, T.int64, T.device("cpu")],
        "state dict": T.nn.Linear(3, 2).state_dict(),
    }


NAMES = list(objects(gradlab))


def describe(obj):
    """A library-neutral account of ``obj``: tensors by type, dtype, shape, grad flag, values."""
    if isinstance(obj, (torch.Tensor, gradlab.Tensor)):
        kind = "Parameter" if isinstance(obj, (torch.nn.Parameter, gradlab.nn.Parameter)) \
            else "Tensor"
        return (kind, str(obj.dtype), tuple(obj.shape), obj.requires_grad, obj.is_leaf,
                obj.detach().tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, [(describe(k), describe(v)) for k, v in obj.items()],
                describe(getattr(obj, "_metadata", None)))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__ if type(obj) in (list, tuple) else "Size",
                [describe(v) for v in obj])
    if type(obj).__name__ in ("device", "dtype"):
        return str(obj)
    return obj


def made(T, name, seed=0):
    T.manual_seed(seed)
    return objects(T)[name]


def saved(T, obj, name="archive"):
    buffer = io.BytesIO()
    T.save(obj, buffer)
    return buffer.getvalue()


def records(data):
    """Each record's name and bytes (the serialization id's first half, a hash of the names in
    C++'s unordered_set order, left out), with the offsets the zip layout gives them."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = [(i.filename, i.header_offset, i.CRC, archive.read(i)) for i in archive.infolist()]
    name, offset, _, value = out[-1]
    assert name.endswith(".data/serialization_id") and len(value) == 40
    return out[:-1] + [(name, offset, value[20:])]


@pytest.mark.parametrize("name", NAMES)
def test_files_are_pytorchs_byte_for_byte(name):
    ours, theirs = saved(gradlab, made(gradlab, name)), saved(torch, made(torch, name))
    assert records(ours) == records(theirs)
    assert len(ours) == len(theirs)
    assert tail(ours) == tail(theirs)


def tail(data):
    """The central directory and end records, but the serialization id's CRC."""
    start, last = data.index(b"PK\x01\x02"), data.rindex(b"PK\x01\x02")
    return data[start:last + 16] + data[last + 20:]


@pytest.mark.parametrize("name", NAMES)
def test_torch_loads_gradlab_files_and_gradlab_loads_torch_files(name):
    expected = describe(torch.load(io.BytesIO(saved(torch, made(torch, name)))))
    assert describe(torch.load(io.BytesIO(saved(gradlab, made(gradlab, name))))) == expected
    assert describe(gradlab.load(io.BytesIO(saved(torch, made(torch, name))))) == expected
    assert describe(gradlab.load(io.BytesIO(saved(gradlab, made(gradlab, name))))) == expected


def test_views_stay_shared_both_ways():
    loaded = torch.load(io.BytesIO(saved(gradlab, made(gradlab, "views"))))
    ptrs = {k: v.untyped_storage().data_ptr() for k, v in loaded.items()}
    assert len(set(ptrs.values())) == 1
    loaded["row"][0] = 100.0
    assert loaded["x"][1, 0].item() == 100.0 and loaded["t"][0, 1].item() == 100.0
    ours = gradlab.load(io.BytesIO(saved(torch, made(torch, "views"))))
    ours["step"][1, 0] = -1.0
    assert ours["x"][2, 1].item() == -1.0 and ours["column"].tolist() == [2.0, 6.0, 10.0]
    twice = gradlab.load(io.BytesIO(saved(torch, made(torch, "same tensor twice"))))
    assert twice[0] is twice[1] is twice[2][0]


def test_paths_and_file_objects(tmp_path):
    x = gradlab.arange(5.0)
    for f in (str(tmp_path / "a.pt"), tmp_path / "b.pt", tmp_path / "c.d.tar"):
        gradlab.save({"x": x}, f)
        assert torch.load(f)["x"].tolist() == x.tolist()
        assert zipfile.ZipFile(f).namelist() == zipfile.ZipFile(_torch_saved(f, tmp_path)
                                                                ).namelist()
        assert gradlab.load(f, mmap=True)["x"].tolist() == x.tolist()
    with open(tmp_path / "e.pt", "wb") as file:
        gradlab.save(x, file)
    with open(tmp_path / "e.pt", "rb") as file:
        assert torch.load(file).tolist() == gradlab.load(tmp_path / "e.pt").tolist()
    assert zipfile.ZipFile(tmp_path / "e.pt").namelist()[0] == "archive/data.pkl"


def _torch_saved(f, tmp_path):
    twin = tmp_path / "torch" / os.path.basename(f)
    twin.parent.mkdir(exist_ok=True)
    torch.save({"x": torch.arange(5.0)}, twin)
    return twin


def outcome(fn):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn()
        return "value", describe(value), [str(w.message) for w in caught]
    except Exception as e:
        return type(e).__name__, str(e)


def test_save_errors_as_pytorchs(tmp_path):
    missing = str(tmp_path / "no" / "x.pt")
    assert outcome(lambda: gradlab.save(1, missing)) == outcome(lambda: torch.save(1, missing))


MAP_LOCATIONS = ["cpu", "cuda", "cuda:1", "mps", "xla", "cpu:0", {"cpu": "cpu"},
                 {"cpu": "cuda:0"}, {"cuda:0": "cpu"}, "device cpu", "device cuda",
                 "callable none", "callable same"]


def map_location(T, spec):
    if spec == "callable none":
        return lambda storage, location: None
    if spec == "callable same":
        return lambda storage, location: storage
    if isinstance(spec, str) and spec.startswith("device "):
        return T.device(spec[7:])
    return spec


@pytest.mark.parametrize("spec", MAP_LOCATIONS, ids=str)
def test_map_location(spec):
    data = saved(torch, made(torch, "views"))
    assert outcome(lambda: gradlab.load(io.BytesIO(data), map_location(gradlab, spec))) == \
        outcome(lambda: torch.load(io.BytesIO(data), map_location(torch, spec)))


def _relocated(data, location):
    """A torch-written file whose storages say they were on ``location`` (as on a GPU machine)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for info in archive.infolist():
            value = archive.read(info)
            if info.filename.endswith("data.pkl"):
                tag = location.encode()
                value = value.replace(b"X\x03\x00\x00\x00cpu", b"X" + len(tag).to_bytes(4, "little")
                                      + tag)
            new.writestr(info.filename, value)
    return out.getvalue()


@pytest.mark.parametrize("spec", [None, "cpu", {"cuda:0": "cpu"}, "callable none"], ids=str)
def test_files_from_a_gpu_machine(spec):
    data = _relocated(saved(torch, made(torch, "tensor")), "cuda:0")
    assert outcome(lambda: gradlab.load(io.BytesIO(data), map_location(gradlab, spec))) == \
        outcome(lambda: torch.load(io.BytesIO(data), map_location(torch, spec)))


def test_load_arguments():
    data = saved(torch, torch.ones(2))
    for kwargs in ({"pickle_module": pickle, "weights_only": True}, {"mmap": True},
                   {"encoding": "latin1"}, {"weights_only": True}, {"map_location": None}):
        assert outcome(lambda: gradlab.load(io.BytesIO(data), **kwargs)) == \
            outcome(lambda: torch.load(io.BytesIO(data), **kwargs))
    with pytest.raises(pickle.UnpicklingError, match="^gradlab does not implement torch.load"
                       r"\(weights_only=False\) \(nor a pickle_module\): loading never runs code"):
        gradlab.load(io.BytesIO(data), weights_only=False)
    with pytest.raises(pickle.UnpicklingError, match="^gradlab does not implement torch.load"):
        gradlab.load(io.BytesIO(data), pickle_module=pickle)  # PyTorch: weights_only=False


class Payload:
    """A pickle that would call ``func(*args)`` when loaded by pickle.load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _archive(pickle_bytes):
    """A torch-written archive with ``pickle_bytes`` as its data.pkl."""
    archive = zipfile.ZipFile(io.BytesIO(saved(torch, None)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for info in archive.infolist():
            new.writestr(info.filename, pickle_bytes if info.filename.endswith("data.pkl")
                         else archive.read(info))
    return out.getvalue()


MALICIOUS = {
    "os.getcwd": lambda: saved(torch, Payload(os.getcwd)),
    "builtins.print": lambda: saved(torch, Payload(print, "loaded")),
    "eval": lambda: saved(torch, Payload(eval, "1")),
    "a class": lambda: saved(torch, Payload(collections.UserDict)),
    "numpy array": lambda: saved(torch, __import__("numpy").arange(3)),
    "set item on a list": lambda: _archive(b"\x80\x02]K\x01K\x02s."),
    "append to a dict": lambda: _archive(b"\x80\x02}K\x01a."),
    "persistent id not storage": lambda: _archive(b"\x80\x02X\x03\x00\x00\x00abc\x85Q."),
    "protocol 4 frame": lambda: _archive(pickle.dumps([1, 2], protocol=4)),
    "build on a list": lambda: _archive(b"\x80\x02]}b."),
}


@pytest.mark.parametrize("name", list(MALICIOUS))
def test_malicious_pickles_fail_with_pytorchs_text(name, capsys):
    data = MALICIOUS[name]()
    ours = outcome(lambda: gradlab.load(io.BytesIO(data)))
    theirs = outcome(lambda: torch.load(io.BytesIO(data)))
    assert theirs[0] == "UnpicklingError"
    assert ours == theirs
    assert "loaded" not in capsys.readouterr().out


def test_legacy_and_missing():
    legacy = io.BytesIO(pickle.dumps([1]))
    with pytest.raises(RuntimeError, match="^gradlab does not implement PyTorch's legacy"):
        gradlab.load(legacy)
    bf16 = saved(torch, torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(RuntimeError, match=r"^gradlab does not implement torch.BFloat16Storage"):
        gradlab.load(io.BytesIO(bf16))
    with pytest.raises(AttributeError, match="^gradlab does not implement "
                       "torch.serialization.add_safe_globals$"):
        gradlab.serialization.add_safe_globals


def test_module_and_optimizer_state_dicts_cross_over():
    def train(T):
        T.manual_seed(0)
        model = T.nn.Linear(3, 2)
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(T.ones(4, 3)).sum().backward()
        opt.step()
        return model, opt
    (gm, go), (tm, to) = train(gradlab), train(torch)
    ours = torch.load(io.BytesIO(saved(gradlab, {"model": gm.state_dict(),
                                                 "opt": go.state_dict()})))
    theirs = {"model": tm.state_dict(), "opt": to.state_dict()}
    assert describe(ours) == describe(theirs)
    fresh, fresh_opt = train(gradlab)
    back = gradlab.load(io.BytesIO(saved(torch, theirs)))
    fresh.load_state_dict(back["model"])
    fresh_opt.load_state_dict(back["opt"])
    assert describe(fresh.state_dict()) == describe(tm.state_dict())
    assert describe(fresh_opt.state_dict()) == describe(to.state_dict())


def test_path_like_objects(tmp_path):
    class Where(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "w.pt")
    gradlab.save([gradlab.ones(1)], Where())
    assert torch.load(Where())[0].tolist() == [1.0]
    assert isinstance(pathlib.Path(Where()), pathlib.Path)
