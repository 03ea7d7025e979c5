"""torch.profiler over gradlab's ops: while a profile runs, the ops (named as PyTorch's ATen ops,
``aten::mul``), the backward's nodes and ``record_function`` ranges are timed; its
``key_averages().table()`` prints PyTorch's table, sorted as PyTorch sorts it. Nothing is
wrapped while no profile runs."""
import contextlib
import enum
import time

from ._missing import missing_names

# Tensor methods and gradlab functions, by the ATen op PyTorch's profiler names them
OPS = {"aten::add": ("add", "__add__", "__radd__", "add_", "__iadd__"),
       "aten::sub": ("sub", "__sub__", "sub_", "__isub__"), "aten::rsub": ("__rsub__", "rsub"),
       "aten::mul": ("mul", "__mul__", "__rmul__", "mul_", "__imul__"),
       "aten::div": ("div", "__truediv__", "__rtruediv__", "div_", "__itruediv__"),
       "aten::matmul": ("matmul", "__matmul__"), "aten::mm": ("mm",), "aten::bmm": ("bmm",),
       "aten::sum": ("sum",), "aten::mean": ("mean",), "aten::pow": ("pow", "__pow__"),
       "aten::neg": ("neg", "__neg__"), "aten::exp": ("exp",), "aten::log": ("log",),
       "aten::tanh": ("tanh",), "aten::sigmoid": ("sigmoid",), "aten::relu": ("relu",),
       "aten::sqrt": ("sqrt",), "aten::abs": ("abs", "__abs__"), "aten::max": ("max",),
       "aten::t": ("t",), "aten::view": ("view",), "aten::reshape": ("reshape",),
       "aten::transpose": ("transpose",), "aten::softmax": ("softmax",),
       "aten::log_softmax": ("log_softmax",), "aten::clone": ("clone",),
       "aten::detach": ("detach",), "aten::zero_": ("zero_",)}


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class FunctionEvent:
    """One timed range: an op, a backward node or a record_function label."""

    __slots__ = ("name", "start", "end", "children", "input_shapes")

    def __init__(self, name, start, input_shapes):
        self.name, self.start, self.end = name, start, start
        self.children, self.input_shapes = [], input_shapes

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        return (self.end - self.start) / 1000.0

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.children)


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped by them) added up."""

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes, self.count = key, input_shapes, 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self):
        return self.self_cpu_time_total / self.count if self.count else 0.0


class EventList(list):
    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None,
              top_level_events_only=False, time_unit=None, **kwargs):
        return _table(self, sort_by, row_limit, max_name_column_width, header, time_unit)

    def __str__(self):
        return self.table()

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)


def _format_time(us, unit=None):
    if unit == "s" or unit is None and us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or unit is None and us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _share(us, total):
    return "NaN" if total == 0 else f"{us * 100.0 / total:.2f}%"


def _table(events, sort_by, row_limit, max_name, header, unit):
    """PyTorch's _build_table for CPU events."""
    if not events:
        return ""
    if sort_by is not None:
        events = sorted(events, key=lambda e: getattr(e, sort_by), reverse=True)
    name_width = min(max(len(e.key) for e in events) + 4, max_name)
    shapes = any(e.input_shapes for e in events)
    widths = [name_width] + [12] * 6
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    if shapes:
        widths.append(min(max(len(str(e.input_shapes)) for e in events) + 4, 80))
        headers.append("Input Shapes")
    row = "".join("{: >" + str(w) + "}  " for w in widths)
    line = "".join("-" * w + "  " for w in widths)
    total = sum(e.self_cpu_time_total for e in events)
    out = []
    if header is not None:
        out += ["=" * (sum(widths) + 2 * len(widths) - 2), header]
    out += [line, row.format(*headers), line]
    for e in events[:row_limit]:
        name = e.key if len(e.key) < max_name - 3 else e.key[:max_name - 3] + "..."
        values = [name, _share(e.self_cpu_time_total, total),
                  _format_time(e.self_cpu_time_total, unit), _share(e.cpu_time_total, total),
                  _format_time(e.cpu_time_total, unit), _format_time(e.cpu_time, unit), e.count]
        if shapes:
            values.append(str(e.input_shapes)[:widths[-1]])
        out.append(row.format(*values))
    out += [line, f"Self CPU time total: {_format_time(total)}"]
    return "".join(s + "\n" for s in out)


_running = []  # the profiles recording now (innermost last)


def _begin(name, args=()):
    prof = _running[-1]
    shapes = [list(a.shape) if hasattr(a, "_array") else [] for a in args] \
        if prof.record_shapes else []
    event = FunctionEvent(name, time.perf_counter_ns(), shapes)
    (prof._stack[-1].children if prof._stack else prof._events).append(event)
    prof._stack.append(event)
    return event


def _end(event):
    event.end = time.perf_counter_ns()
    _running[-1]._stack.pop()


def _timed(fn, name):
    def op(*args, **kwargs):
        if not _running:
            return fn(*args, **kwargs)
        event = _begin(name, args)
        try:
            return fn(*args, **kwargs)
        finally:
            _end(event)
    op.__name__, op.__qualname__, op.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    return op


def _targets():
    """(owner, attribute, ATen name) of everything a profile times."""
    import gradlab
    from .autograd import engine, graph
    from .tensor import Tensor
    found = []
    for aten, names in OPS.items():
        for owner in (Tensor, gradlab):
            found += [(owner, n, aten) for n in names if n in vars(owner)]
    classes = [graph.Node]
    for cls in classes:  # every grad_fn class (each has its own apply)
        classes += cls.__subclasses__()
        if "apply" in vars(cls) and cls is not graph.AccumulateGrad:
            found.append((cls, "apply", None))
    found.append((engine, "_accumulate", "torch::autograd::AccumulateGrad"))
    return found


def _node_apply(apply):
    def run(node, *args, **kwargs):
        if not _running:
            return apply(node, *args, **kwargs)
        name = type(node).__name__
        outer = _begin(f"autograd::engine::evaluate_function: {name}")
        inner = _begin(name)
        try:
            return apply(node, *args, **kwargs)
        finally:
            _end(inner)
            _end(outer)
    return run


def _accumulate(accumulate):
    def run(*args, **kwargs):
        if not _running:
            return accumulate(*args, **kwargs)
        outer = _begin("autograd::engine::evaluate_function: torch::autograd::AccumulateGrad")
        inner = _begin("torch::autograd::AccumulateGrad")
        try:
            return accumulate(*args, **kwargs)
        finally:
            _end(inner)
            _end(outer)
    return run


class profile:
    """``with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:``."""

    def __init__(self, activities=None, *, record_shapes=False, enabled=True, **options):
        self.record_shapes, self.enabled = record_shapes, enabled
        self._events, self._stack, self._saved = [], [], []

    def __enter__(self):
        if self.enabled:
            self.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stop()

    def start(self):
        if not _running:
            for owner, attr, aten in _targets():
                fn = vars(owner)[attr]
                self._saved.append((owner, attr, fn))
                wrapped = (_node_apply(fn) if aten is None else _accumulate(fn)
                           if attr == "_accumulate" else _timed(fn, aten))
                setattr(owner, attr, wrapped)
        _running.append(self)

    def stop(self):
        _running.remove(self)
        for owner, attr, fn in reversed(self._saved):
            setattr(owner, attr, fn)
        self._saved = []

    def events(self):
        """Every event, in the order they started."""
        out, todo = [], list(reversed(self._events))
        while todo:
            event = todo.pop()
            out.append(event)
            todo.extend(reversed(event.children))
        return EventList(out)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups = {}
        for event in self.events():
            shapes = str(event.input_shapes) if group_by_input_shape else ""
            key = (event.name, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.name, event.input_shapes
                                               if group_by_input_shape else [])
            groups[key].add(event)
        return EventList(groups.values())

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    def __str__(self):
        return self.key_averages().table()


class record_function(contextlib.ContextDecorator):
    """A named range in the profile (a context manager or a decorator)."""

    def __init__(self, name, args=None):
        self.name, self._event = name, None

    def __enter__(self):
        if _running:
            self._event = _begin(self.name)
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            _end(self._event)
            self._event = None


__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
