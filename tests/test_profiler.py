"""The profiler over gradlab's ops: the same op names (PyTorch's ATen names), backward nodes and
record_function ranges as PyTorch's, counted alike; its table with PyTorch's columns, format and
sort order. Never the times."""
import re

import pytest

torch = pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

import gradlab  # noqa: E402
import gradlab.profiler  # noqa: E402,F401


def forward(x, y):
    """Ops PyTorch's profiler shows as one ATen op each (no scalars to wrap, no decompositions)."""
    return (x * y + x).sum() + (x - y).exp().tanh().sum() * (x / y).sum()


def profiled(T, backward=False):
    x, y = T.ones(3, requires_grad=True), T.full((3,), 2.0)
    with T.profiler.profile(activities=[T.profiler.ProfilerActivity.CPU],
                            record_shapes=True) as prof:
        with T.profiler.record_function("model"):
            loss = forward(x, y)
        if backward:
            loss.backward()
    return prof


# Ops PyTorch's kernels call inside others (sum's as_strided and fill_, backward's ones_like,
# empty_like, expand, detach): gradlab's ops are NumPy inside, so it has none of them
INTERNAL = {"aten::as_strided", "aten::fill_", "aten::ones_like", "aten::empty_like",
            "aten::empty_strided", "aten::expand", "aten::detach", "detach"}


def counts(prof):
    return {e.key: e.count for e in prof.key_averages()}


def same_counts(ours, theirs):
    """gradlab's events are PyTorch's, counted alike; PyTorch has only internal ones besides."""
    assert {k: theirs.get(k) for k in ours} == ours
    assert set(theirs) - set(ours) <= INTERNAL


def test_forward_ops_named_and_counted_as_pytorchs():
    same_counts(counts(profiled(gradlab)), counts(profiled(torch)))


def test_backward_nodes_named_and_counted_as_pytorchs():
    ours, theirs = counts(profiled(gradlab, True)), counts(profiled(torch, True))
    nodes = {k: v for k, v in theirs.items() if "Backward" in k or "AccumulateGrad" in k}
    assert {k: v for k, v in ours.items() if k in nodes} == nodes
    assert set(ours) <= set(theirs)


def test_autograd_profiler_and_record_function_as_a_decorator():
    def run(T):
        @T.profiler.record_function("step")
        def step(a):
            return (a * a).sum()
        a = T.ones(2)
        with T.autograd.profiler.profile() as prof:
            step(a)
            step(a)
        return counts(prof)
    same_counts(run(gradlab), run(torch))
    assert counts(gradlab.autograd.profiler.profile(enabled=False).__enter__()) == {}


def rows(table):
    return table.splitlines()


@pytest.mark.parametrize("sort_by", ["cpu_time_total", "self_cpu_time_total", "count", None])
def test_table_columns_format_and_order(sort_by):
    prof, twin = profiled(gradlab, True), profiled(torch, True)
    ours = rows(prof.key_averages().table(sort_by=sort_by, row_limit=10))
    theirs = rows(twin.key_averages().table(sort_by=sort_by, row_limit=10))
    assert ours[:3] == theirs[:3]  # the same rule, headers and widths
    assert len(ours) == len(theirs) == 3 + 10 + 2
    assert ours[-2] == theirs[-2]
    assert re.fullmatch(r"Self CPU time total: \d+\.\d{3}(us|ms|s)", ours[-1])
    row = re.compile(r" *(\S.*?)  +(\d+\.\d\d%)  +(\S+)  +(\d+\.\d\d%)  +(\S+)  +(\S+)  +(\d+)  ")
    parsed = [row.fullmatch(line).groups() for line in ours[3:-2]]
    assert all(len(line) == len(ours[0]) for line in ours[3:-2])
    events = {(e.key if len(e.key) < 52 else e.key[:52] + "..."): e for e in prof.key_averages()}
    if sort_by is not None:
        keys = [getattr(events[name], sort_by) for name, *_ in parsed]
        assert keys == sorted(keys, reverse=True)
    else:
        assert [name for name, *_ in parsed] == list(events)[:10]
    for name, *_, calls in parsed:
        assert int(calls) == events[name].count


def test_nothing_is_wrapped_outside_a_profile():
    mul = gradlab.Tensor.__mul__
    with gradlab.profiler.profile():
        assert gradlab.Tensor.__mul__ is not mul
    assert gradlab.Tensor.__mul__ is mul
    with pytest.raises(AttributeError, match="^gradlab does not implement torch.profiler.schedule$"):
        gradlab.profiler.schedule
