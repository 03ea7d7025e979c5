"""Tensor printing and torch.Size, compared character for character with real PyTorch.

Exact on every CPU: the printed values are given (or made with exact NumPy arithmetic), never
computed by PyTorch's kernels, and printing itself only takes abs, min, max, ceil and a float64
ratio of them, which are exact.
"""
import importlib
import math
import pathlib
import pickle
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="printing is checked against real PyTorch")

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load(*names):
    """Import gradlab submodules, bypassing gradlab/__init__.py if it is missing or broken.

    The engine is written concurrently, so the package itself may not import yet; these
    modules depend only on NumPy and gradlab._dtype.
    """
    try:
        return [importlib.import_module(f"gradlab.{n}") for n in names]
    except Exception:
        for key in [k for k in sys.modules if k == "gradlab" or k.startswith("gradlab.")]:
            del sys.modules[key]
        package = types.ModuleType("gradlab")
        package.__path__ = [str(ROOT / "gradlab")]
        sys.modules["gradlab"] = package
        return [importlib.import_module(f"gradlab.{n}") for n in names]


_dtype, _printing, _size = _load("_dtype", "_printing", "_size")
tensor_repr = _printing.tensor_repr
Size = _size.Size

DTYPES = [d.name for d in _dtype.ALL]
FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]
nan, inf = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    torch.set_printoptions(profile="default")
    _printing.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    _dtype.set_default_dtype(_dtype.float32)


def gl(name):
    return getattr(_dtype, "bool_" if name == "bool" else name)


def check(arr, name, **kw):
    """Compare plain, requires_grad, grad_fn and Parameter printing of arr as dtype name."""
    with np.errstate(all="ignore"):
        arr = np.asarray(arr).astype(gl(name).np)
    t = torch.tensor(arr, dtype=getattr(torch, name))
    assert tensor_repr(arr, gl(name), **kw) == repr(t)
    assert _printing.tensor_str(arr, gl(name), **kw) == str(t)
    if name in FLOATS:
        leaf = torch.tensor(arr, dtype=getattr(torch, name), requires_grad=True)
        assert tensor_repr(arr, gl(name), requires_grad=True) == repr(leaf)
        assert tensor_repr(arr, gl(name), grad_fn_name="MulBackward0") == repr(leaf * 1)
        param = torch.nn.Parameter(t.clone())
        assert tensor_repr(arr, gl(name), requires_grad=True,
                           prefix="Parameter containing:\ntensor(") == repr(param)


def both_set(**options):
    torch.set_printoptions(**options)
    _printing.set_printoptions(**options)


# ----------------------------------------------------------------------- hand-picked
rng = np.random.default_rng(0)

SCALARS = [
    np.float32(2.0), np.float32(2.5), np.float64(-2.5), np.float32(nan), np.float32(-inf),
    np.float32(-0.0), np.float32(0.0), np.float32(1e10), np.float32(1e-5), np.float32(123456.7),
    np.float16(0.1), np.float16(65504), np.float64(1e-300), np.float64(1e300), np.int64(3),
    np.int32(-7), np.uint8(255), np.int8(-128), np.int16(300), np.bool_(True), np.bool_(False),
    np.array(4.25, dtype=np.float32), np.array(-1, dtype=np.int64),
]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_zero_dim(value):
    check(value, _dtype.of_numpy(np.asarray(value).dtype).name)


VALUES = {
    "integral": [1.0, 2.0, 3.0],
    "negative integral": [-1.0, 20.0, -300.0],
    "fraction": [1.5, 2.25, -0.125],
    "zeros": [0.0, -0.0, 0.0],
    "negative zero": [-0.0, 1.0],
    "negative zero fraction": [-0.0, 1.5],
    "nonfinite only": [nan, inf, -inf],
    "nonfinite and zero": [0.0, inf, nan],
    "nan with integral": [1.0, nan],
    "nan with fraction": [1.5, nan, -inf],
    "tiny": [1e-5, 1.0],
    "tiny alone": [1e-5, 2e-5],
    "just not tiny": [1e-4, 0.05],
    "just tiny": [9.9e-5, 0.05],
    "exactly 1e8": [1e8, 1e6],
    "ratio exactly 1000 fraction": [0.25, 250.0],
    "huge": [1e8, 1.0],
    "over 1e8": [1.5e8, 1.0],
    "ratio 1000": [1.0, 1000.0],
    "ratio 1001": [1.0, 1001.0],
    "ratio fraction": [0.5, 600.25],
    "huge integral": [1e20, -3e21],
    "max float16": [65504.0, 0.001],
    "decimal": [0.1, 0.2, 0.3],
    "rounding": [0.99999, 1.00005, 2.5e-4],
    "mixed sign sci": [-1e-8, 3e9, nan],
    "single": [7.0],
    "single fraction": [-0.001],
}


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_float_vectors(values, name):
    check(values, name)
    check(np.array(values).reshape(len(values), 1), name)


INT_VALUES = [[1, 2, 3], [-5, 0, 127], [0], [100, -100, 7, 8, 9, 10, 11], [255, 0, 1]]


@pytest.mark.parametrize("name", INTS + ["bool"])
@pytest.mark.parametrize("values", INT_VALUES, ids=str)
def test_int_and_bool_vectors(values, name):
    with np.errstate(all="ignore"):
        arr = np.array(values).astype(gl(name).np)
    check(arr, name)


ARRAYS = {
    "2d": np.arange(6.0).reshape(2, 3),
    "3d": np.arange(24.0).reshape(2, 3, 4) - 5.5,
    "4d": rng.standard_normal((2, 2, 3, 2)),
    "4d ints": np.arange(48).reshape(2, 3, 2, 4) * 37 - 500,
    "normal": rng.standard_normal((4, 5)),
    "wide normal": rng.standard_normal((3, 17)) * 100,
    "sci normal": rng.standard_normal((3, 4)) * 1e6,
    "long row": np.arange(100.0) * 1.5,
    "long int row": np.arange(100) ** 2,
    "column": np.arange(10.0).reshape(10, 1),
    "unit dims": np.ones((1, 1, 1, 1)),
    "bools": rng.random((3, 4, 5)) > 0.5,
    "summarized 1d": np.arange(2000.0),
    "summarized 1001": np.arange(1001) - 500,
    "summarized 2d": np.arange(2000.0).reshape(20, 100) / 7,
    "summarized 3d": np.arange(2000).reshape(10, 10, 20),
    "summarized narrow": np.arange(1200.0).reshape(600, 2),
    "summarized normal": rng.standard_normal((50, 50)),
    "summarized sci": rng.standard_normal((40, 40)) * 1e-6,
    "summarized hides extremes": np.concatenate([[1.0] * 3, [1e-9] * 1000, [2.0] * 3]),
    "not summarized 1000": np.arange(1000.0).reshape(10, 100),
}


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "int64", "int32"])
@pytest.mark.parametrize("arr", ARRAYS.values(), ids=ARRAYS.keys())
def test_arrays(arr, name):
    check(arr, "bool" if arr.dtype == bool else name)


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4), (3, 0)], ids=str)
def test_empty(shape, name):
    check(np.zeros(shape), name)


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_suffix(name):
    check(np.array([1, 0, 1]), name)
    check(np.arange(40).reshape(4, 10) % 3, name)


@pytest.mark.parametrize("name", DTYPES)
def test_default_dtype_float64(name):
    torch.set_default_dtype(torch.float64)
    _dtype.set_default_dtype(_dtype.float64)
    check(np.array([1.5, 2.0]), name)
    check(np.zeros((0,)), name)
    check(np.zeros((2, 0)), name)


def test_suffixes_wrap():
    # last line lengths straddling the line width, with one and with two suffixes
    for n in range(1, 14):
        check(np.arange(n) * 1.25, "float64")
        check(np.arange(n) * 1.25, "float32")
        check(np.arange(n * 3).reshape(3, n) * 1.25, "float64")
        check(np.arange(n) + 100000, "int32")


def test_custom_prefix_indents_continuation_lines():
    class MyTensor(torch.Tensor):
        pass

    for arr in [np.arange(30.0).reshape(3, 10), np.arange(60.0) / 3, np.arange(4.0)]:
        t = torch.tensor(arr, dtype=torch.float32).as_subclass(MyTensor)
        assert tensor_repr(arr, _dtype.float32, prefix="MyTensor(") == repr(t)


def test_accepts_python_and_numpy_scalars():
    assert tensor_repr(2.0, _dtype.float32) == "tensor(2.)"
    assert tensor_repr(np.float32(2.0), _dtype.float32) == "tensor(2.)"
    assert tensor_repr(np.float64(0.5), _dtype.float64) == "tensor(0.5000, dtype=torch.float64)"
    assert tensor_repr(True, _dtype.bool_) == "tensor(True)"
    assert tensor_repr(np.int64(5), _dtype.int64, requires_grad=False) == "tensor(5)"


def test_known_outputs():
    assert tensor_repr(np.arange(10), _dtype.int64) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"
    assert tensor_repr(np.zeros((0, 3), np.float32), _dtype.float32) == "tensor([], size=(0, 3))"
    assert tensor_repr(np.zeros(0, np.int64), _dtype.int64) == "tensor([], dtype=torch.int64)"
    pair = np.array([1.0, 2.0], np.float32)
    assert (tensor_repr(pair, _dtype.float32, grad_fn_name="MulBackward0")
            == "tensor([1., 2.], grad_fn=<MulBackward0>)")
    with _printing.printoptions(threshold=5):
        assert tensor_repr(np.arange(10), _dtype.int64) == "tensor([0, 1, 2,  ..., 7, 8, 9])"


# ---------------------------------------------------------------------- print options
OPTIONS = [
    {"precision": 2}, {"precision": 0}, {"precision": 8}, {"sci_mode": True},
    {"sci_mode": False}, {"threshold": 5}, {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0}, {"edgeitems": 0}, {"threshold": 0},
    {"linewidth": 40}, {"linewidth": 10}, {"linewidth": 200, "precision": 6},
    {"profile": "full"}, {"profile": "short"}, {"profile": "short", "precision": 5},
    {"profile": "full", "sci_mode": True}, {"profile": "default", "edgeitems": 2},
]
OPTION_ARRAYS = {
    "scalar": np.array(3.14159), "vector": np.array([1.23456, -20.5, 3e-3]),
    "ints": np.arange(12).reshape(3, 4), "big": np.arange(1500.0).reshape(30, 50) / 3,
    "wide": np.arange(45.0) * 1e5, "3d": np.arange(60.0).reshape(3, 4, 5) - 0.5,
    "huge sci": np.array([1e20, 2.0, nan]), "empty": np.zeros((2, 0)),
}


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("arr", OPTION_ARRAYS.values(), ids=OPTION_ARRAYS.keys())
def test_printoptions(options, arr):
    both_set(**options)
    assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()
    for name in ["float32", "float64", "int64", "bool", "int8"]:
        check(arr, name)


def test_set_printoptions_semantics():
    both_set(precision=2, sci_mode=True)
    both_set(linewidth=50)  # like torch, a call without sci_mode returns to automatic
    assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()
    both_set(profile="no such profile")
    assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()
    both_set(profile="full")
    assert _printing.get_printoptions()["threshold"] == math.inf
    both_set(profile="default")
    assert _printing.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                            "linewidth": 80, "sci_mode": None}


def test_printoptions_context_manager_restores():
    _printing.set_printoptions(precision=6, sci_mode=False)
    before = _printing.get_printoptions()
    with _printing.printoptions(precision=1, threshold=3):
        assert _printing.get_printoptions()["precision"] == 1
        assert tensor_repr(np.array([0.25, 1.0]), _dtype.float64).startswith("tensor([0.2, 1.0]")
    assert _printing.get_printoptions() == before
    with pytest.raises(ZeroDivisionError), _printing.printoptions(edgeitems=1):
        1 / 0
    assert _printing.get_printoptions() == before


# ------------------------------------------------------------------------- hypothesis
SPECIAL = [nan, inf, -inf, 0.0, -0.0, 1e-30, 1e30, 1e-5, 1e8, 1.5e8, 65504.0, 0.1, 1e20]


def floats_for(name):
    bound = 65504.0 if name == "float16" else 1e300
    return st.one_of(st.integers(-1000, 1000).map(float),
                     st.floats(-10, 10, allow_subnormal=False),
                     st.floats(-bound, bound, allow_subnormal=False),
                     st.sampled_from(SPECIAL), st.sampled_from(SPECIAL).map(lambda v: -v * 3.3))


@st.composite
def tensors(draw, max_side=5):
    name = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, max_side), max_size=4)))
    n = math.prod(shape)
    if name in FLOATS:
        elements = floats_for(name)
    elif name == "bool":
        elements = st.booleans()
    else:
        info = np.iinfo(gl(name).np)
        lo, hi = int(info.min), int(info.max)
        elements = st.one_of(st.integers(max(lo, -9), 9), st.integers(lo, hi))
    values = draw(st.lists(elements, min_size=n, max_size=n))
    with np.errstate(all="ignore"):
        arr = np.array(values, dtype=object if name in INTS else None).astype(gl(name).np)
    return arr.reshape(shape), name


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tensors())
def test_random_tensors(case):
    arr, name = case
    check(arr, name)


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tensors(max_side=7),
       st.fixed_dictionaries({}, optional={
           "precision": st.integers(0, 8), "threshold": st.integers(0, 60),
           "edgeitems": st.integers(0, 4), "linewidth": st.integers(5, 150),
           "sci_mode": st.sampled_from([True, False]),
           "profile": st.sampled_from(["default", "short", "full"])}))
def test_random_tensors_with_options(case, options):
    arr, name = case
    try:
        both_set(**options)
        check(arr, name)
    finally:
        both_set(profile="default")


# -------------------------------------------------------------------------------- Size
def test_size_matches_torch():
    for dims in [(), (7,), (2, 3), (4, 0, 5), (1, 2, 3, 4)]:
        s, t = Size(dims), torch.Size(dims)
        assert repr(s) == repr(t) and str(s) == str(t)
        assert s.numel() == t.numel()
        assert s == dims and s == t and hash(s) == hash(tuple(dims))
        for sl in [slice(1, None), slice(None, None, -1), slice(0, 0)]:
            assert type(s[sl]) is Size and repr(s[sl]) == repr(t[sl])
        for other in [(9,), Size([9, 8]), ()]:
            assert type(s + other) is Size and repr(s + other) == repr(t + tuple(other))
            assert type(other + s) is Size and repr(other + s) == repr(tuple(other) + t)
        assert repr(s * 2) == repr(t * 2) and repr(2 * s) == repr(2 * t)
    assert repr(Size([])) == "torch.Size([])"
    assert Size([2, 3])[0] == 2 and type(Size([2, 3])[-1]) is int
    assert repr(Size(np.array([2, 3]))) == "torch.Size([2, 3])"
    assert Size([2, 3]).numel() == 6 and Size([]).numel() == 1
    assert pickle.loads(pickle.dumps(Size([4, 5]))) == (4, 5)
    with pytest.raises(TypeError, match=r"can only concatenate tuple \(not list\) to torch.Size"):
        Size([1]) + [2]
    with pytest.raises(TypeError, match=r"item 0 is 'float'"):
        Size([1.5])
