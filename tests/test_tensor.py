"""Tensor attributes, conversions and constructors vs PyTorch: item/tolist/numpy, bool/float/
int/index/complex, len/iter, requires_grad, detach/detach_, .data, the legacy torch.Tensor
constructor and torch.tensor's dtype inference and errors (ragged lists, tensors inside lists).
"""
import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from outcomes import assert_same_outcome, err, scenarios  # noqa: E402

SC, sc = scenarios()


@sc
def item_cases(L):
    return [err(lambda: L.tensor(2.5).item()), err(lambda: L.tensor([3]).item()), err(lambda: L.tensor([[True]]).item()),
            err(lambda: L.tensor([1., 2.]).item()), err(lambda: L.tensor([]).item()), err(lambda: L.tensor(2.5, requires_grad=True).item()),
            err(lambda: type(L.tensor(3).item()).__name__), err(lambda: type(L.tensor(3.).item()).__name__), err(lambda: type(L.tensor(True).item()).__name__)]
@sc
def tolist_cases(L):
    return [L.tensor(2.5).tolist(), L.tensor([[1, 2], [3, 4]]).tolist(), L.tensor([True]).tolist(), L.tensor([1.5], requires_grad=True).tolist(), L.zeros(0, 2).tolist(), L.tensor([1.], dtype=L.float16).tolist()]
@sc
def numpy_cases(L):
    x = L.tensor([1., 2.]); a = x.numpy(); a[0] = 9; r = [x.tolist(), a.dtype.name, type(L.tensor(2.).numpy()).__name__, L.tensor(2.).numpy().shape]
    r.append(err(lambda: L.tensor([1.], requires_grad=True).numpy()))
    r.append(err(lambda: (L.tensor([1.], requires_grad=True) * 2).numpy()))
    r.append(err(lambda: L.tensor([1.], requires_grad=True).numpy(force=True).tolist()))
    r.append(err(lambda: L.tensor([1.], requires_grad=True).detach().numpy().tolist()))
    y = L.tensor([1., 2.]); b = np.asarray(y); b[1] = 7; r.append(y.tolist())
    r.append(err(lambda: np.asarray(L.tensor([1.], requires_grad=True))))
    return r
@sc
def conversions(L):
    r = []
    for v in [L.tensor(2.7), L.tensor([3]), L.tensor(-2.5), L.tensor([[1.]]), L.tensor([1., 2.]), L.tensor([]), L.tensor(True), L.tensor(5), L.tensor(2.5, requires_grad=True)]:
        r.append([err(lambda: bool(v)), err(lambda: float(v)), err(lambda: int(v)), err(lambda: v.__index__()), err(lambda: [0, 1, 2, 3, 4, 5, 6][v]), err(lambda: complex(v))])
    return r
@sc
def len_iter(L):
    x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    rows = list(x)
    return len(x), [ (r.tolist(), type(r.grad_fn).__name__ if r.grad_fn else None) for r in rows], err(lambda: len(L.tensor(1.))), err(lambda: list(L.tensor(1.))), len(L.zeros(0, 3)), list(L.zeros(0))
@sc
def requires_grad_setter(L):
    x = L.tensor([1., 2.]); x.requires_grad = True; a = x.requires_grad
    y = x * 2
    r = [a, err(lambda: setattr(y, "requires_grad", False)), err(lambda: setattr(y, "requires_grad", True)), err(lambda: y.requires_grad_(False)), err(lambda: y.requires_grad_(True) is y)]
    i = L.tensor([1, 2])
    r += [err(lambda: setattr(i, "requires_grad", True)), err(lambda: i.requires_grad_()), err(lambda: setattr(i, "requires_grad", False)), err(lambda: L.tensor([1, 2], requires_grad=True)), err(lambda: L.ones(2, dtype=L.int64, requires_grad=True))]
    z = L.tensor([1.], requires_grad=True); z.requires_grad_(False); r.append(z.requires_grad)
    return r
@sc
def detach_cases(L):
    x = L.tensor([1., 2.], requires_grad=True); y = x * 2; d = y.detach()
    r = [d.requires_grad, d.is_leaf, d.grad_fn, d._version]
    d.add_(1); r += [y.tolist(), y._version, d._version]
    z = x * 3; z2 = z.detach_(); r += [z2 is z, z.requires_grad, z.grad_fn, z.is_leaf]
    v = (x * 1)[0:1]; r.append(err(lambda: v.detach_()))
    w = x[0:1]; r.append(err(lambda: w.detach_()))
    return r
@sc
def data_cases(L):
    x = L.tensor([1., 2.], requires_grad=True); d = x.data
    r = [d.requires_grad, d._version, x._version]
    d.mul_(2); r += [x.tolist(), x._version, d._version]
    x.data = L.tensor([5., 6., 7.]); r += [x.tolist(), x.requires_grad, x.shape]
    r.append(err(lambda: setattr(x, "data", L.tensor([1, 2]))))
    r.append(str(x.dtype))
    return r
@sc
def legacy_constructor(L):
    return [err(lambda: L.Tensor([1, 2])), err(lambda: L.Tensor(2, 3).shape), err(lambda: L.Tensor()), err(lambda: L.Tensor((1., 2.))), err(lambda: L.Tensor(L.tensor([1, 2]))), err(lambda: L.Tensor(2).shape), err(lambda: L.Tensor([[1, 2], [3]])), err(lambda: L.Tensor([True])), err(lambda: L.Tensor(2.5)), err(lambda: L.Tensor(L.Size([2])).shape)]
@sc
def tensor_inference(L):
    cases = [1, 1., True, [1, 2.], [True, 1], [[1], [2]], [], [[]], (1, 2), np.float64(1.5), np.int32(3), np.array([1, 2], dtype=np.int32), np.array(2.5), [np.float32(1.)], [L.tensor(1.), L.tensor(2.)], [L.tensor([1, 2]), L.tensor([3, 4])], 2**40, [1, 2**40], 1e300]
    return [err(lambda c=c: L.tensor(c)) for c in cases]
@sc
def tensor_errors(L):
    cases = [[[1, 2], [3]], [1, [2]], [[1], 2], "abc", [1, "a"], None, [None], {1: 2}, [[1, 2], [3, 4, 5]], [[[1]], [[1, 2]]]]
    return [err(lambda c=c: L.tensor(c)) for c in cases]
@sc
def tensor_copy_warning(L):
    x = L.tensor([1., 2.], requires_grad=True); y = L.tensor(x); return y, y.requires_grad
@sc
def tensor_dtype_arg(L):
    return [L.tensor([1, 2], dtype=L.float32), L.tensor([1.7, -2.7], dtype=L.int64), L.tensor([1., 0.], dtype=L.bool), L.tensor(3, dtype=L.float64, requires_grad=True)]
@sc
def attributes(L):
    x = L.tensor([[1., 2.], [3., 4.]])
    return [x.shape, x.size(), x.size(1), x.size(-1), err(lambda: x.size(2)), x.dim(), x.ndim, x.numel(), x.nelement(), x.element_size(), x.is_floating_point(), str(x.device), x.is_cuda, x.type(), x.is_leaf, x.requires_grad, x.grad, x.grad_fn, x.ndimension(), x.dtype, x.is_contiguous(), x.t().is_contiguous(), x.T.shape, x.mT.shape, x.itemsize, x.nbytes, x.is_complex(), x.is_sparse]
@sc
def dtype_conversions(L):
    x = L.tensor([1.7, -2.5], requires_grad=True)
    return [x.float(), x.double(), x.long(), x.int(), x.bool(), x.half(), x.to(L.float64), x.type(L.float64), x.to(L.float32) is x, x.float() is x, x.type(), x.to("cpu") is x, x.cpu() is x, x.to(dtype=L.int32)]
@sc
def hash_eq(L):
    x = L.tensor([1., 2.])
    return [hash(x) == id(x), x in [x], err(lambda: x in [L.tensor([1., 2.])]), len({x, x})]
@sc
def format_cases(L):
    return [f"{L.tensor(2.5):.2f}", f"{L.tensor(3):d}", err(lambda: f"{L.tensor([1., 2.]):.2f}"), f"{L.tensor([1., 2.])}", format(L.tensor(1.5))]


@sc
def pickle_and_copy(L):
    x = L.tensor([1., 2.], requires_grad=True); (x * 3).sum().backward()
    y = pickle.loads(pickle.dumps(x)); d = copy.deepcopy(x); c = copy.copy(L.tensor([1, 2]))
    i = pickle.loads(pickle.dumps(L.tensor([[1, 2]], dtype=L.int16)))
    return [y, y.requires_grad, y.grad, d, d.grad, d.grad is x.grad, c, i, err(lambda: copy.deepcopy(x * 2)), err(lambda: pickle.dumps(x * 2) and "ok"),
            err(lambda: pickle.loads(pickle.dumps(x[0:1])).is_leaf), err(lambda: copy.deepcopy(L.tensor(3.))), err(lambda: pickle.loads(pickle.dumps(L.float64)))]
@sc
def dtype_and_device_conversions(L):
    x = L.tensor([1.5, -2.5], requires_grad=True)
    return [x.to(L.float64), x.to(L.float64).grad_fn, x.to(x) is x, x.to(L.tensor([1])), x.to("cpu", L.float64), x.to(device="cpu") is x, x.type(L.int32), x.type("torch.DoubleTensor"), x.cpu() is x, str(x.device), x.is_cuda, x.double().double() is not None, x.long().requires_grad]


@pytest.mark.parametrize("name", sorted(SC))
def test_scenario_matches_torch(name):
    assert_same_outcome(SC[name])


def test_numpy_shares_memory_both_ways():
    for L in (torch, gradlab):
        x = L.zeros(3)
        a = x.numpy()
        a[1] = 5
        x[2] = 7
        assert a.tolist() == [0., 5., 7.] and x.tolist() == [0., 5., 7.]
        f = L.from_numpy(a)
        f[0] = 1
        assert a[0] == 1
        assert L.tensor(a).numpy() is not a


def test_a_0_dim_tensor_shares_its_storage_while_anyone_holds_it():
    """gradlab computes with an unshared 0-dim tensor's NumPy scalar; sharing (numpy(), .data,
    detach(), views) keeps one storage, whose writes every holder sees, as in PyTorch."""
    for L in (torch, gradlab):
        x = L.tensor(1.0)
        a, d, v, view = x.numpy(), x.data, x.detach(), x.view(())
        y = x * 2  # an op reading x while others hold its storage
        a += 1
        d += 1
        v.add_(1)
        view.mul_(2)
        assert (x.item(), y.item(), float(a), d.item(), v.item()) == (8.0, 2.0, 8.0, 8.0, 8.0)
    w = gradlab.tensor(0.5, requires_grad=True)
    with gradlab.no_grad():
        w.data -= 0.25  # .data shares w's storage for the statement
    (w * w).backward()
    assert type(w._array) is np.float32 and (w.item(), w.grad.item()) == (0.25, 0.5)


def test_legacy_constructor_aliases_a_tensor():
    for L in (torch, gradlab):
        a = L.tensor([1., 2.])
        b = L.Tensor(a)
        b[0] = 9
        assert a.tolist() == [9., 2.]
        assert b._version == a._version == 1


def test_is_cpu_output_nr_and_is_signed_match_torch():
    def facts(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        a, b = x.unbind(0)
        return [x.is_cpu, x.output_nr, a.output_nr, b.output_nr, (x * 2).output_nr,
                x.detach().output_nr, [L.tensor([1], dtype=d).is_signed() for d in (
                    L.uint8, L.int8, L.int64, L.bool, L.float16, L.float64)]]
    assert facts(gradlab) == facts(torch)


def test_byte_char_and_short_convert_as_torch():
    def converted(L):
        x, n = L.tensor([0.5, -1.0, 2.7, 200.0, -3.5]), L.tensor([300, -2, 7])
        return [(str(t.dtype), t.tolist()) for t in (
            x.byte(), x.char(), x.short(), n.byte(), n.char(), L.tensor([True, False]).short())]
    assert converted(gradlab) == converted(torch)
