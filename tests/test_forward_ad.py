"""Forward-mode AD against PyTorch: every op's tangent (jvp), dual tensors' reprs, the level
rules and error texts, and PyTorch's forward-mode tutorial."""
import contextlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
from helpers import pair, values  # noqa: E402
from test_ops import ALL, Case  # noqa: E402

fwAD = torch.autograd.forward_ad
gfwAD = gradlab.autograd.forward_ad


def _outcome(lib, ad, case, arrays, duals, tangents):
    """The op's outputs as (primal, tangent) pairs, or its error's type and text."""
    inputs = []
    with ad.dual_level():
        for i, a in enumerate(arrays):
            x = _leaf(lib, a)
            inputs.append(ad.make_dual(x, _leaf(lib, tangents[i])) if i in duals else x)
        try:
            out = case.fn(lib, *inputs)
        except Exception as e:  # noqa: BLE001 - compared with torch's
            return type(e).__name__, str(e)
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [ad.unpack_dual(o) if isinstance(o, (torch.Tensor, gradlab.Tensor)) else o
                for o in out]


def _leaf(lib, a):
    return lib.tensor(a.copy(), dtype=getattr(lib, a.dtype.name))


def _floating(case):
    arrays = [np.asarray(a) for a in case.arrays()]
    return [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]


def _check_jvp(case, which):
    arrays = _floating(case)
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    grad = case.options.get("grad") or floats
    duals = [i for i in floats if i in grad][:1 if which == "first" else None]
    rng = np.random.default_rng(len(case.id))
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    expected = _outcome(torch, fwAD, case, arrays, duals, tangents)
    got = _outcome(gradlab, gfwAD, case, arrays, duals, tangents)
    if isinstance(expected, tuple):
        assert got == expected
        return
    assert len(got) == len(expected)
    for i, (g, t) in enumerate(zip(got, expected)):
        if not isinstance(t, tuple):
            continue
        np.testing.assert_allclose(values(g.primal), values(t.primal), rtol=1e-10, atol=1e-12,
                                   err_msg=f"output {i}")
        assert (g.tangent is None) == (t.tangent is None), f"output {i}'s tangent"
        if t.tangent is not None:
            assert tuple(g.tangent.shape) == tuple(t.tangent.shape)
            assert g.tangent.dtype.name == str(t.tangent.dtype)[6:]
            np.testing.assert_allclose(values(g.tangent), values(t.tangent), rtol=1e-9,
                                       atol=1e-12, equal_nan=True, err_msg=f"tangent {i}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in ALL])
def test_jvp_of_every_op(case):
    """Every input that test_ops differentiates is given a tangent."""
    _check_jvp(case, "all")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in ALL
                                  if len(c.inputs) > 1])
def test_jvp_with_one_dual_input(case):
    """The other inputs have no tangent: PyTorch counts them as zeros."""
    _check_jvp(case, "first")


def test_every_op_in_the_table_has_a_forward_derivative():
    from gradlab.ops._core import GRAD_FNS
    missing = sorted(n for n, c in GRAD_FNS.items() if c._forward is None and
                     c._formulas[0][0].__module__.startswith("gradlab."))  # not tests' own
    assert missing == []


# ---- dual tensors: printing, levels, views and in-place ops -------------------------------------

def both(source):
    """``source`` run with gradlab and with torch: the two printed outputs."""
    outs = []
    for lib in ("gradlab", "torch"):
        code = f"import {lib} as torch\nimport {lib}.autograd.forward_ad as fwAD\n" + \
            textwrap.dedent(source)
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        outs.append(run.stdout)
    return outs


def test_dual_tensors_print_and_unpack_as_in_torch():
    got, expected = both("""
        x = torch.tensor([1., 2.]); t = torch.tensor([1., 0.])
        print(fwAD.unpack_dual(x))
        with fwAD.dual_level() as level:
            print(level)
            d = fwAD.make_dual(x, t)
            print(d, repr(d), d._base is x, d.grad_fn, d.requires_grad)
            u = fwAD.unpack_dual(d)
            print(type(u).__name__, u, u.tangent is t, u.primal._base is x)
            print(fwAD.unpack_dual(x), fwAD.unpack_dual(d.detach()))
            print(d.sin(), d * 3, d.exp().sum(), d.max(), torch.stack([d, x]))
            print(torch.cat([d, x]), d.view(2, 1).t(), d[1:], d.softmax(0), d > 1, d.argmax())
            with torch.no_grad():
                print(d * 2)
            s = fwAD.make_dual(torch.tensor(3.), torch.tensor(1.))
            print(s, s ** 2, float(s ** 2))
            print(d.float(), d.double(), d.unbind(0), d.split(1))
            w = fwAD.make_dual(torch.tensor([1., 2.]), torch.ones(2, dtype=torch.float64))
            print(w, fwAD.unpack_dual(w).tangent.dtype)
            xr = torch.tensor([1., 2.], requires_grad=True)
            dr = fwAD.make_dual(xr, t)
            print(dr, type(dr.grad_fn).__name__)
            (dr.sin() * dr).sum().backward()
            print(xr.grad)
            tt = torch.randn(3, 3).T
            print(fwAD.unpack_dual(fwAD.make_dual(torch.ones(3, 3), tt)).tangent is tt)
        print(d, fwAD.unpack_dual(d), fwAD.unpack_dual(s))
        print(fwAD.enter_dual_level(), fwAD.exit_dual_level())
    """)
    assert got == expected


def test_in_place_ops_and_views_carry_tangents_as_in_torch():
    got, expected = both("""
        with fwAD.dual_level():
            t = torch.tensor([1., 0.])
            d = fwAD.make_dual(torch.tensor([1., 2.]), t)
            c = torch.ones(2); c.mul_(d); print(c)
            b = torch.zeros(3); b[1:] = d; print(b, fwAD.unpack_dual(b))
            q = d.view(2, 1); q.mul_(2); print(d, q, t)
            e = torch.ones(2, 2); v = e[0]; v.add_(d); print(e, v)
            d.exp_(); print(d, q, t)
            d.zero_(); print(d, t)
            f = torch.ones(3); f.copy_(torch.tensor([1., 2., 3.])); print(f)
            g = fwAD.make_dual(torch.ones(2), torch.ones(2)); g.add_(1); print(g)
            with torch.no_grad():
                g.mul_(3); print(g)
    """)
    assert got == expected


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("name", ["no_level", "exit_without_level", "nested", "shape", "int_primal",
                                  "int_tangent", "dual_of_dual", "bad_level", "floor_divide",
                                  "number_remainder", "exit_wrong_level"])
def test_errors_as_in_torch(name):
    def run(lib, ad):
        x, t = lib.tensor([1., 2.]), lib.tensor([1., 0.])
        if name == "no_level":
            return _error(lambda: ad.make_dual(x, t))
        if name == "exit_without_level":
            return _error(ad.exit_dual_level)
        with ad.dual_level():
            d = ad.make_dual(x, t)
            return _error({
                "nested": lambda: ad.dual_level().__enter__(),
                "shape": lambda: ad.make_dual(x, lib.ones(3)),
                "int_primal": lambda: ad.make_dual(lib.ones(2, dtype=lib.int64), t),
                "int_tangent": lambda: ad.make_dual(x, lib.ones(2, dtype=lib.int64)),
                "dual_of_dual": lambda: ad.make_dual(d, t),
                "bad_level": lambda: ad.make_dual(x, t, level=3),
                "floor_divide": lambda: lib.floor_divide(d, 2),
                "number_remainder": lambda: lib.remainder(2., d),
                "exit_wrong_level": lambda: ad.exit_dual_level(level=5),
            }[name])
    expected = run(torch, fwAD)
    assert expected is not None
    assert run(gradlab, gfwAD) == expected


def test_an_op_without_a_forward_derivative_fails_with_torchs_text():
    from gradlab.ops import _core
    from gradlab.ops.elementwise import ExpBackward0
    saved, ExpBackward0._forward = ExpBackward0._forward, None
    try:
        with gfwAD.dual_level():
            d = gfwAD.make_dual(gradlab.ones(2), gradlab.ones(2))
            with pytest.raises(NotImplementedError) as info:
                d.exp()
    finally:
        ExpBackward0._forward = saved
    assert str(info.value) == _core.no_forward_message("ExpBackward0")
    assert str(info.value).startswith(
        "Trying to use forward AD with exp that does not support it because it has not been "
        "implemented yet.\nPlease file an issue to PyTorch at")


def test_tangents_are_deleted_when_the_level_exits():
    with gfwAD.dual_level():
        d = gfwAD.make_dual(gradlab.ones(2), gradlab.ones(2))
        y = d * 2
        assert gfwAD.unpack_dual(y).tangent is not None
    assert gfwAD.unpack_dual(y).tangent is None and y._fw_grad is None
    assert "tangent" not in repr(d)


def test_dual_level_is_a_decorator_too():
    @gfwAD.dual_level()
    def jvp(x, v):
        return gfwAD.unpack_dual(gfwAD.make_dual(x, v).sin()).tangent
    got = jvp(gradlab.tensor([0., 1.]), gradlab.tensor([1., 1.]))
    np.testing.assert_allclose(values(got), np.cos([0., 1.]), rtol=1e-6)


# ---- PyTorch's "Forward-mode Automatic Differentiation" tutorial ----------------------------------

TUTORIAL = """
    torch.manual_seed(0)
    primal = torch.randn(10, 10)
    tangent = torch.randn(10, 10)

    def fn(x, y):
        return x ** 2 + y ** 2

    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual_input).tangent is tangent
        dual_input_alt = fwAD.make_dual(primal, tangent.T)
        assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
        plain_tensor = torch.randn(10, 10)
        dual_output = fn(dual_input, plain_tensor)
        jvp = fwAD.unpack_dual(dual_output).tangent
        print(dual_output[:2, :3])
    assert fwAD.unpack_dual(dual_output).tangent is None
    print(jvp[:3, :3])

    import torch.nn as nn

    model = nn.Linear(5, 5)
    input = torch.randn(16, 5)

    params = {name: p for name, p in model.named_parameters()}
    tangents = {name: torch.rand_like(p) for name, p in params.items()}

    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))

        out = model(input)
        jvp = fwAD.unpack_dual(out).tangent
        print(out[:2])
    print(jvp[:3])
"""


def test_forward_ad_tutorial_prints_what_torch_prints():
    """The tutorial's dual-tensor and Module parts; its functional_call, custom Function (jvp)
    and functorch parts are left to gradlab.func and autograd.Function."""
    got, expected = both(TUTORIAL.replace("import torch.nn as nn", "nn = torch.nn"))
    assert got == expected


@pytest.mark.parametrize("create_graph", [True, False])
@pytest.mark.parametrize("f", [
    lambda T, x: (x ** 3).sum() * x.sum(),
    lambda T, x: (x.view(3, 1) @ x.view(1, 3)).max(),
    lambda T, x: (x.tanh() * x).sum(),
    lambda T, x: x.exp().sum() * x.sum(),
    lambda T, x: (x.sigmoid() ** 2).sum(),
    lambda T, x: (x.softmax(0) * T.tensor([1., 2., 3.], dtype=T.float64)).sum(),
    lambda T, x: x.sin().sum(),
    lambda T, x: (x.cos() * x.log1p()).sum(),
], ids=["pow_sum", "outer_max", "tanh", "exp", "sigmoid", "softmax", "sin", "cos_log1p"])
@pytest.mark.parametrize("hooks", [False, True], ids=["", "saved_hooks"])
def test_forward_over_reverse_gives_torchs_hessian_vector_product(f, create_graph, hooks):
    """Tangents flow through a backward's formulas too (their own ops, with or without
    create_graph), and a saved input or output (tanh, exp, sigmoid, softmax) unpacks with its
    tangent, also when saved-tensor hooks packed it into something else."""
    def hvp(lib, ad):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        packing = lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(),
                                                         lambda t: t * 1)
        with ad.dual_level(), packing if hooks else contextlib.nullcontext():
            d = ad.make_dual(x, lib.tensor([1., 0.5, -2.], dtype=lib.float64))
            (g,) = lib.autograd.grad(f(lib, d), x, create_graph=create_graph)
            return values(ad.unpack_dual(g).tangent)
    np.testing.assert_allclose(hvp(gradlab, gfwAD), hvp(torch, fwAD), rtol=1e-10)


MASK = [[True, False, True], [False, True, True]]


@pytest.mark.parametrize("f", [
    lambda T, F, x: (x[1] ** 3).sum(),
    lambda T, F, x: (x[:, 1::2] ** 3).sum(),
    lambda T, F, x: (T.zeros(2, 3, dtype=T.float64).masked_scatter(
        T.tensor(MASK), x) ** 3).sum(),
    lambda T, F, x: (x.masked_scatter(T.tensor(MASK), x.flip(0) * 2) ** 3).sum(),
    lambda T, F, x: F.nll_loss(x, T.tensor([2, 0])) ** 3,
    lambda T, F, x: (F.nll_loss(x, T.tensor([2, -100]), T.tensor([1., 2., 3.], dtype=T.float64),
                                reduction="none") ** 3).sum(),
    lambda T, F, x: F.nll_loss(x.reshape(1, 3, 2, 1), T.tensor([[[2], [0]]])) ** 3,
], ids=["select", "slice", "masked_scatter", "masked_scatter_self", "nll_loss",
        "nll_loss_weight", "nll_loss2d"])
def test_forward_over_double_backward_through_the_backward_of_backward_nodes(f):
    """A first backward run on tangents records select_backward, slice_backward,
    masked_scatter_backward and nll_loss_backward with a dual grad_output: their forward
    derivatives give the Hessian-vector product; a second backward gives its jvp too."""
    def run(lib, ad):
        F = lib.nn.functional
        x = lib.tensor([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]], dtype=lib.float64,
                       requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(x, lib.tensor([[1., 0.5, -2.], [0.2, -1., 3.]], dtype=lib.float64))
            (g,) = lib.autograd.grad(f(lib, F, d), x, create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
            names = [type(n).__name__ for n in _graph_nodes(g.grad_fn)]
            return (values(g), values(ad.unpack_dual(g).tangent), values(h),
                    values(ad.unpack_dual(h).tangent), sorted(names))
    ours, theirs = run(gradlab, gfwAD), run(torch, fwAD)
    for a, b in zip(ours[:4], theirs[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert ours[4] == theirs[4]
    assert any("BackwardBackward0" in n for n in ours[4])


def _graph_nodes(fn):
    seen, stack = [], [fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.append(node)
            stack.extend(n for n, _ in node.next_functions)
    return seen


def test_nll_loss_backward_has_no_tangent_without_one_on_grad_output():
    """Only self is dual and the loss is linear in it: grad_output (ones) has no tangent, so
    neither has the gradient (PyTorch's nll_loss_backward is linear in grad_output)."""
    def run(lib, ad):
        x = lib.tensor([[0.1, -0.3, 0.2], [0.5, 0.4, -0.1]], dtype=lib.float64,
                       requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(x, lib.ones(2, 3, dtype=lib.float64))
            (g,) = lib.autograd.grad(lib.nn.functional.nll_loss(d, lib.tensor([2, 0])), x)
            return ad.unpack_dual(g).tangent
    assert run(gradlab, gfwAD) is None and run(torch, fwAD) is None


def test_a_forward_gradient_of_another_size_fails_as_in_torch():
    """masked_scatter_backward's result: line sizes the tangent as grad_output, not as source."""
    def run(lib, ad):
        x = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        s = lib.arange(10., dtype=lib.float64, requires_grad=True)
        y = x.masked_scatter(lib.tensor(MASK), s)
        with ad.dual_level():
            v = ad.make_dual(lib.ones(2, 3, dtype=lib.float64), lib.ones(2, 3, dtype=lib.float64))
            with pytest.raises(RuntimeError) as info:
                lib.autograd.grad(y, s, v, create_graph=True)
        return str(info.value)
    assert run(gradlab, gfwAD) == run(torch, fwAD)


def test_a_saved_outputs_tangent_goes_with_its_level():
    x = gradlab.tensor([0.5, -1.0], requires_grad=True)
    with gfwAD.dual_level():
        y = gfwAD.make_dual(x, gradlab.ones(2)).tanh()
    with gfwAD.dual_level():  # the next level: the saved result unpacks with no tangent
        (g,) = gradlab.autograd.grad(y.sum(), x)
        assert gfwAD.unpack_dual(g).tangent is None
