"""Tensor printing, character for character as PyTorch 2.13 prints (``torch/_tensor_str.py``).

Every element of a tensor is printed with one shared format and width, chosen from the
elements actually shown: integers as they are, booleans as ``True``/``False``, and floats
in one of three notations: integer-valued (``5.``), fixed (``1.2500``) or scientific
(``1.2500e+08``). Tensors with more than ``threshold`` elements show only ``edgeitems``
entries at each end of every dimension, with ``...`` in between.
"""
import contextlib
import math

import numpy as np

from gradlab import _dtype

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_opts = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: a profile first, then any option given overrides it.

    As in torch, an unknown profile is ignored and ``sci_mode`` is always set, so any call
    without ``sci_mode`` returns to the automatic choice of notation.
    """
    _opts.update(_PROFILES.get(profile, {}))
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    _opts.update({k: v for k, v in given.items() if v is not None})
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    """The current options, as keyword arguments for set_printoptions."""
    return dict(_opts)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (torch._tensor_str.printoptions)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One notation and width for all the elements shown, picked as torch picks them.

    Only finite nonzero floats take part in the choice, so nan, inf and zeros never
    widen a column or force scientific notation.
    """

    def __init__(self, values, floating):
        self.floating, self.int_mode, self.sci_mode = floating, True, False
        if not floating:
            self.width = max([1] + [len(str(v)) for v in values])
            return
        finite = [v for v in values if v != 0 and math.isfinite(v)]
        self.width = 1
        if not finite:
            return
        self.int_mode = all(v == math.ceil(v) for v in finite)
        lo, hi = min(map(abs, finite)), max(map(abs, finite))
        auto = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = auto if _opts["sci_mode"] is None else _opts["sci_mode"]
        self.width = max(len(self._text(v)) for v in finite)

    def _text(self, v):
        if not self.floating:
            return str(v)
        if self.sci_mode:
            return f"{v:.{_opts['precision']}e}"
        if self.int_mode:  # a trailing "." marks integral floats; nan and inf get none
            return f"{v:.0f}" + ("." if math.isfinite(v) else "")
        return f"{v:.{_opts['precision']}f}"

    def __call__(self, v):
        return self._text(v).rjust(self.width)


def _shown(n, summarize):
    """Indices shown along a dimension of length n, with None where ``...`` goes."""
    e = _opts["edgeitems"]
    if summarize and n > 2 * e:
        return list(range(e)) + [None] + list(range(n - e, n))
    return list(range(n))


def _edges(a):
    """The elements a summarized print shows, flat (torch's get_summarized_data)."""
    e = _opts["edgeitems"]
    if a.ndim <= 1:
        return a.ravel() if a.ndim == 0 or len(a) <= 2 * e else np.concatenate([a[:e], a[-e:]])
    if not e:
        return a[:0].ravel()
    return np.concatenate([_edges(a[i]) for i in _shown(len(a), True) if i is not None])


def _vector(values, indent, summarize, fmt):
    """A 1-d row, wrapped to fit the line width; ``...`` counts as an element."""
    per_line = max(1, math.floor((_opts["linewidth"] - indent) / (fmt.width + 2)))
    gap = " ..." if _opts["edgeitems"] else "..."
    items = [gap if i is None else fmt(values[i]) for i in _shown(len(values), summarize)]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt):
    """Nested brackets; rows of a k-d tensor are separated by k-1 newlines."""
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector(a.tolist(), indent, summarize, fmt)
    rows = ["..." if i is None else _nested(a[i], indent + 1, summarize, fmt)
            for i in _shown(len(a), summarize)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items and the closing parenthesis, wrapping past the line width."""
    # torch measures the last line two characters long (an off-by-one kept for fidelity)
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _opts["linewidth"]:
            text += ",\n" + " " * indent + suffix
            last = indent + len(suffix)
        else:
            text += ", " + suffix
            last += len(suffix) + 2
    return text + ")"


def tensor_repr(array, dtype, *, requires_grad=False, grad_fn_name=None, prefix="tensor(",
                tangent=None):
    """repr() of a tensor holding ``array`` (an ndarray or NumPy scalar) of gradlab ``dtype``.

    ``grad_fn_name`` (e.g. ``"MulBackward0"``) adds ``grad_fn=<MulBackward0>``; otherwise
    ``requires_grad`` adds ``requires_grad=True``. Continuation lines are indented to the
    end of the last line of ``prefix``, so ``"Parameter containing:\\ntensor("`` works.
    """
    a = np.asarray(array, dtype=dtype.np)
    indent = len(prefix) - prefix.rfind("\n") - 1
    default = _dtype.get_default_dtype().name
    size = f"size={tuple(a.shape)}"
    suffixes = []
    if a.size == 0:  # no elements to tell the dtype by, so only the default float is implied
        body = "[]"
        suffixes += [size] if a.ndim != 1 else []
        suffixes += [f"dtype={dtype!r}"] if dtype.name != default else []
    else:
        summarize = a.size > _opts["threshold"]
        shown = _edges(a) if summarize else a
        fmt = _Formatter(shown.ravel().tolist(), dtype.is_floating_point)
        body = _nested(a, indent, summarize, fmt)
        suffixes += [size] if not _opts["edgeitems"] else []
        suffixes += [f"dtype={dtype!r}"] if dtype.name not in (default, "int64", "bool") else []
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:  # a dual tensor's (forward AD)
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + body, suffixes, indent)


tensor_str = tensor_repr  # torch's str() and repr() of a tensor are the same text
