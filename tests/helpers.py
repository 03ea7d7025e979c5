"""Shared helpers for differential tests: build the same inputs in gradlab and torch, compare.

``assert_same`` compares one tensor (float32 to rtol 1e-4: far wider than PyTorch's own spread
between CPUs, a few ulps); ``assert_graph_same`` walks two autograd graphs together
(node names, next_functions with output indices, ``_saved_*`` attributes, leaves);
``check_op`` runs a whole op through forward, graph and first to third derivatives;
``assert_prints_like_torch`` compares a printed program as tests/printed.py does;
``avx2_kernels`` marks the bit-for-bit tests of PyTorch's AVX2 kernels.
"""
import platform

import numpy as np
import pytest
import torch

import gradlab
from printed import assert_prints_alike, precise

TOL = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}

# Where a test says "bit for bit", gradlab reproduces PyTorch's x86-64 AVX2 kernels: a * b + c as
# one fused multiply-add (arange, linspace, the uniform fill, add with alpha), 8 float32 lanes per
# vector (arange), the AVX2 normal_fill. AVX-512 CPUs run these same kernels: PyTorch's AVX-512
# build has kernels of its own only for ops registered with ALSO_REGISTER_AVX512_DISPATCH (exp,
# log, tanh, sigmoid, pow, softmax, gelu, ...: 112 of 477 in 2.13's dispatch table; arange,
# linspace, the random fills, add, mul, sum and mean are not among them). PyTorch's DEFAULT kernels
# (x86-64 CPUs without AVX2 and FMA, or ATEN_CPU_CAPABILITY=default) round twice and draw normal
# numbers with libm; gradlab does not reproduce them, so those tests are skipped there.
AVX2_KERNELS = platform.machine().lower() in ("x86_64", "amd64") and \
    torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
avx2_kernels = pytest.mark.skipif(
    not AVX2_KERNELS, reason="bit for bit as PyTorch's AVX2 kernels (fused multiply-adds), which "
    f"this PyTorch does not run (capability {torch.backends.cpu.get_cpu_capability()})")


def to_torch(t, requires_grad=None):
    """A torch leaf with ``t``'s values and dtype (and requires_grad unless overridden)."""
    out = torch.tensor(np.array(t._array), dtype=getattr(torch, t.dtype.name))
    return out.requires_grad_(t.requires_grad if requires_grad is None else requires_grad)


def pair(array, dtype="float32", requires_grad=False):
    """The same leaf in gradlab and in torch."""
    a = np.asarray(array).astype(getattr(np, dtype) if dtype != "bool" else np.bool_)
    g = gradlab.tensor(a.copy(), dtype=getattr(gradlab, dtype))
    t = torch.tensor(a.copy(), dtype=getattr(torch, dtype))
    if requires_grad:
        g.requires_grad_()
        t.requires_grad_()
    return g, t


def values(t):
    """A float64 (or exact) NumPy copy of a gradlab or torch tensor."""
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():  # PyTorch's efficient zeros (e.g. abs's second derivative)
            return np.zeros(t.shape, str(t.dtype)[6:])
        return t.detach().numpy().copy()
    return np.array(t._array)


def assert_same(g, t, *, grad_fn=True, rtol=None, atol=None, what="tensor"):
    """gradlab tensor ``g`` matches torch tensor ``t``: values, dtype, shape, requires_grad, grad_fn."""
    assert isinstance(g, gradlab.Tensor), f"{what}: expected a gradlab Tensor, got {type(g)}"
    assert g.dtype.name == str(t.dtype)[6:], f"{what}: dtype {g.dtype} != {t.dtype}"
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {tuple(g.shape)} != {tuple(t.shape)}"
    assert g.requires_grad == t.requires_grad, \
        f"{what}: requires_grad {g.requires_grad} != {t.requires_grad}"
    a, b = values(g), values(t)
    if g.dtype.is_floating_point:
        r, at = TOL[g.dtype.name]
        np.testing.assert_allclose(a, b, rtol=rtol or r, atol=atol or at, equal_nan=True,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)
    if grad_fn:
        gn = None if g.grad_fn is None else g.grad_fn.name()
        tn = None if t.grad_fn is None else t.grad_fn.name()
        assert gn == tn, f"{what}: grad_fn {gn} != {tn}"


def saved_names(node):
    return sorted(a for a in dir(node) if a.startswith("_saved_"))


def assert_saved_same(gv, tv, what):
    if isinstance(tv, torch.Tensor):
        assert isinstance(gv, gradlab.Tensor), f"{what}: {gv!r} is not a tensor like {tv!r}"
        assert_same(gv, tv, grad_fn=False, what=what) if not tv.requires_grad else \
            assert_same(gv, tv, what=what)
    elif isinstance(tv, (tuple, list)):
        assert isinstance(gv, (tuple, list)) and len(gv) == len(tv), f"{what}: {gv!r} != {tv!r}"
        for i, (a, b) in enumerate(zip(gv, tv)):
            assert_saved_same(a, b, f"{what}[{i}]")
    elif isinstance(tv, float):
        assert type(gv) is float and (gv == tv or gv != gv and tv != tv), f"{what}: {gv!r} != {tv!r}"
    else:
        assert type(gv) is type(tv) and gv == tv, f"{what}: {gv!r} != {tv!r}"


def assert_graph_same(g_node, t_node, leaves=(), saved=True, path="grad_fn", _seen=None):
    """Walk both graphs: names, next_functions (with indices), _saved_* values, leaf identity.

    ``leaves`` pairs (gradlab leaf, torch leaf) so that AccumulateGrad.variable is checked.
    """
    seen = {} if _seen is None else _seen
    if g_node is None or t_node is None:
        assert g_node is None and t_node is None, f"{path}: {g_node} != {t_node}"
        return
    key = (id(g_node), id(t_node))
    if key in seen:
        return
    seen[key] = (g_node, t_node)
    assert g_node.name() == t_node.name(), f"{path}: {g_node.name()} != {t_node.name()}"
    if t_node.name() == "torch::autograd::AccumulateGrad":
        for gl, tl in leaves:
            if tl is t_node.variable:
                assert g_node.variable is gl, f"{path}: AccumulateGrad of another leaf"
        return
    if saved:
        names = saved_names(t_node)
        assert saved_names(g_node) == names, f"{path}: saved {saved_names(g_node)} != {names}"
        for n in names:
            assert_saved_same(getattr(g_node, n), getattr(t_node, n), f"{path}.{n}")
    gn, tn = g_node.next_functions, t_node.next_functions
    assert len(gn) == len(tn), f"{path}: {len(gn)} next_functions != {len(tn)}"
    for i, ((ga, gi), (ta, ti)) in enumerate(zip(gn, tn)):
        assert gi == ti, f"{path}.next_functions[{i}] index {gi} != {ti}"
        assert_graph_same(ga, ta, leaves, saved, f"{path}.next_functions[{i}]({t_node.name()})",
                          seen)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _weighted_sum(outs, weights, lib):
    total = None
    for o, w in zip(outs, weights):
        if o is None or not o.requires_grad:
            continue
        term = (o * w).sum()
        total = term if total is None else total + term
    return total


def check_op(fn, arrays, dtype="float64", *, grad=(), order=3, graph_order=1, saved=True,
             names_order=3, seed=0, rtol=None, atol=None):
    """Run ``fn(lib, *inputs)`` in gradlab and torch and compare everything.

    ``arrays`` are NumPy inputs (cast to ``dtype`` if floating); ``grad`` lists the indices of
    the inputs that require grad (default: every floating input). Derivatives up to ``order``
    are compared (values, requires_grad, grad_fn names); graphs are walked in full up to
    ``graph_order`` (1: the forward graph only, 2: also the first derivatives' graphs), and
    grad_fn names of the derivatives up to ``names_order``.
    """
    rng = np.random.default_rng(seed)
    gs, ts = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        needs = (i in grad) if grad else floating
        g, t = pair(a, dtype if floating else a.dtype.name, requires_grad=needs)
        gs.append(g)
        ts.append(t)
    g_out = _as_tuple(fn(gradlab, *gs))
    t_out = _as_tuple(fn(torch, *ts))
    assert len(g_out) == len(t_out)
    leaves = list(zip(gs, ts))
    for i, (go, to) in enumerate(zip(g_out, t_out)):
        assert_same(go, to, rtol=rtol, atol=atol, what=f"output {i}")
        if to.grad_fn is not None:
            assert_graph_same(go.grad_fn, to.grad_fn, leaves, saved, f"output{i}.grad_fn")
    g_in = [g for g in gs if g.requires_grad]
    t_in = [t for t in ts if t.requires_grad]
    g_cur = [o for o in g_out if o.requires_grad]
    t_cur = [o for o in t_out if o.requires_grad]
    for k in range(1, order + 1):
        if not t_cur:
            assert not g_cur, f"order {k}: gradlab output requires grad, torch's does not"
            break
        weights = [rng.standard_normal(o.shape) for o in t_cur]
        gw = [gradlab.tensor(w, dtype=o.dtype) for w, o in zip(weights, g_cur)]
        tw = [torch.tensor(w, dtype=o.dtype) for w, o in zip(weights, t_cur)]
        if k == 1:
            g_grads = gradlab.autograd.grad(g_cur, g_in, gw, create_graph=True, allow_unused=True)
            t_grads = torch.autograd.grad(t_cur, t_in, tw, create_graph=True, allow_unused=True)
        else:
            g_root, t_root = _weighted_sum(g_cur, gw, gradlab), _weighted_sum(t_cur, tw, torch)
            if t_root is None:
                assert g_root is None, f"order {k}: gradlab gradient requires grad, torch's does not"
                break
            assert g_root is not None, f"order {k}: torch gradient requires grad, gradlab's does not"
            g_grads = gradlab.autograd.grad(g_root, g_in, create_graph=True, allow_unused=True)
            t_grads = torch.autograd.grad(t_root, t_in, create_graph=True, allow_unused=True)
        for i, (gg, tg) in enumerate(zip(g_grads, t_grads)):
            what = f"order {k} grad of input {i}"
            if tg is None:
                assert gg is None or not values(gg).any(), f"{what}: torch None, gradlab {gg}"
                continue
            assert gg is not None, f"{what}: gradlab None, torch {tg}"
            assert_same(gg, tg, grad_fn=k <= names_order, rtol=rtol, atol=atol, what=what)
            if k < graph_order and tg.grad_fn is not None:
                assert_graph_same(gg.grad_fn, tg.grad_fn, leaves, saved, f"{what}.grad_fn")
        pairs = [(g, t) for g, t in zip(g_grads, t_grads) if t is not None and g is not None]
        g_cur = [g for g, _ in pairs if g.requires_grad]
        t_cur = [t for _, t in pairs if t.requires_grad]
    return g_out, t_out


def both(build):
    """build(lib) run with gradlab and with torch, both seeded with 0."""
    out = []
    for lib in (gradlab, torch):
        lib.manual_seed(0)
        out.append(build(lib))
    return out


def assert_prints_like_torch(got, expected, rerun):
    """``got`` (what gradlab printed) is ``expected`` (PyTorch's) but for PyTorch's CPU dependence
    (printed.assert_prints_alike); ``rerun(lib)`` prints the same again, seeded as ``both``."""
    if got == expected:
        return
    precisely = []
    for lib in (torch, gradlab):
        lib.manual_seed(0)
        with precise(lib):
            precisely.append(rerun(lib))
    assert_prints_alike(expected, got, *precisely)


def outcome(fn):
    """(exception type name, message) or ('ok', repr of the result)."""
    from outcomes import err
    return err(fn, repr)
