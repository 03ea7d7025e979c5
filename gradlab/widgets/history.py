"""``GradHistory``: leaves' ``.grad`` across repeated backward calls ("gradients accumulate").

It watches with the backends' own hooks, so it works on gradlab and torch tensors alike: a
tensor hook runs before each accumulation and notes whether ``.grad`` was zeroed (``zero_()``),
set to None (``grad = None``) or otherwise changed since the last row; a post-accumulate-grad
hook writes the new value into the row. One row per backward pass that reached a watched leaf:
both engines say when a pass ends (``queue_callback``). ``record()`` adds a row by hand (e.g. right after ``zero_()``).
"""
from __future__ import annotations

import math
from html import escape

import anywidget
import numpy as np
import traitlets

from ..viz.dot import FONT_FAMILY
from ..viz.model import caller_variables, is_torch_tensor
from . import frontend, styles, with_pictures
from .trace import as_array, fmt

ZERO = "zero_()"
NONE = "grad = None"
SET = "grad set"
CHANGED = "grad changed"
CHAR_W = 7.2  # px: 0.6 em of the static SVG's 12 px monospace (FONT_FAMILY's fonts are no wider)
LAST_CHARS = 60  # the static SVG shows the last .grad's text up to this long


class GradHistory(anywidget.AnyWidget):
    """Watch ``tensors`` (leaves that require grad) across backward calls.

    ``names`` label the columns (by default the caller's variable names). ``rows`` is the
    history: one dict per backward or ``record()`` (``kind``, ``label``, ``cells``: per leaf
    ``text``, ``value`` (the
    value, or the norm of a non-scalar, for the plot), ``events``, ``reached``). ``close()``
    removes the hooks.
    """

    _esm = frontend("history.js")
    _css = styles("history.css")

    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    scalars = traitlets.List(traitlets.Bool()).tag(sync=True)  # plotted as is, else as a norm
    count = traitlets.Int(0).tag(sync=True)

    def __init__(self, *tensors, names=None):
        if not tensors:
            raise TypeError("GradHistory needs at least one tensor to watch")
        for t in tensors:
            if not t.requires_grad or t.grad_fn is not None:
                raise ValueError("GradHistory watches leaf tensors that require grad")
        if names is None:
            names = _names_of(tensors, caller_variables())
        if len(names) != len(tensors):
            raise ValueError(f"got {len(tensors)} tensors and {len(names)} names")
        super().__init__(names=[str(n) for n in names], scalars=[t.numel() == 1 for t in tensors])
        self.tensors = tensors
        self.rows = []
        self.backward_calls = 0
        self._last = [_snapshot(t) for t in tensors]
        self._open = None     # the row of the pass running now (None between passes)
        self._token = None    # what identifies that pass
        self._torch = is_torch_tensor(tensors[0])
        self._handles = []
        for i, t in enumerate(tensors):
            self._handles.append(t.register_hook(lambda grad, i=i: self._before(i)))
            self._handles.append(t.register_post_accumulate_grad_hook(
                lambda tensor, i=i: self._after(i)))
        self.on_msg(self._on_message)

    # ---- hooks -----------------------------------------------------------------------------

    def _before(self, i):
        """A watched leaf is about to accumulate: open this pass's row if it is a new pass."""
        token = self._pass_token()
        row = self._open
        if row is None or token is not self._token or row["cells"][i]["reached"]:
            self.backward_calls += 1
            self._open = self._new_row(f"backward #{self.backward_calls}", "backward")
            self._token = token

    def _after(self, i):
        """A watched leaf's .grad was accumulated: write it into the open row."""
        row = self._open
        if row is None:  # accumulated without our pre-hook (e.g. it was registered mid-pass)
            self._before(i)
            row = self._open
        row["cells"][i] = dict(_cell(self.tensors[i]), events=row["cells"][i]["events"],
                               reached=True)
        self._last[i] = _snapshot(self.tensors[i])
        self._publish(row)

    def _pass_token(self):
        """Something unique to the running backward pass; the pass's end callback clears it."""
        if self._open is not None and self._token is not None:
            return self._token
        if self._torch:
            import torch
            torch.autograd.Variable._execution_engine.queue_callback(self._end_pass)
        else:
            from ..autograd.engine import queue_callback
            queue_callback(self._end_pass)
        return object()

    def _end_pass(self):
        self._token = None

    # ---- rows --------------------------------------------------------------------------------

    def _new_row(self, label, kind):
        """A row with every leaf's current .grad and what changed since the last row."""
        cells = []
        for i, t in enumerate(self.tensors):
            events = _changes(self._last[i], t)
            cells.append(dict(_cell(t), events=events, reached=False))
            self._last[i] = _snapshot(t)
        row = {"index": len(self.rows), "kind": kind, "label": label, "cells": cells}
        self.rows.append(row)
        self._publish(row)
        return row

    def record(self, label="record()"):
        """Add a row now, with the leaves' current .grad (shows a zero_() or grad = None)."""
        self._open, self._token = None, None
        self._new_row(label, "record")
        self._open = None
        return self.rows[-1]

    def close(self):
        """Stop watching: remove the hooks."""
        for h in getattr(self, "_handles", ()):  # none if __init__ failed
            h.remove()
        self._handles = []
        super().close()

    def _publish(self, row):
        self.send({"type": "rows", "start": row["index"], "rows": [row]})
        self.count = len(self.rows)

    def _on_message(self, _, content, buffers):
        if isinstance(content, dict) and content.get("type") == "sync":
            self.send({"type": "rows", "start": 0, "rows": self.rows})

    # ---- outside a live kernel -------------------------------------------------------------------

    def __repr__(self):
        calls = f"{self.backward_calls} backward call{'s' if self.backward_calls != 1 else ''}"
        rows = f"{len(self.rows)} row{'s' if len(self.rows) != 1 else ''}"
        return f"GradHistory({', '.join(self.names)}): {calls}, {rows}"

    def text(self) -> str:
        """The rows as a plain-text table."""
        head = ["#"] + list(self.names)
        body = []
        for row in self.rows:
            cells = []
            for c in row["cells"]:
                marks = "".join(f"[{e}] " for e in c["events"])
                shown = c["reached"] or marks or row["kind"] == "record"
                value = " ".join(c["text"].split()) if shown else "·"
                cells.append(marks + value)
            body.append([row["label"].replace("backward #", "")] + cells)
        widths = [max(len(r[j]) for r in [head] + body) for j in range(len(head))]
        lines = [repr(self)]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                  for r in [head] + body]
        return "\n".join(lines)

    def static_svg(self) -> str:
        """One line per leaf: its name, a sparkline of its values over the rows, the last one.

        Columns are as wide as their text (monospace: CHAR_W per character), so nothing overlaps.
        """
        line_h, spark_w, gap = 34, 220, 10
        labels = [f"{name}.grad" for name in self.names]
        lasts = [_shorten(" ".join(self.rows[-1]["cells"][i]["text"].split()) if self.rows
                          else "None") for i in range(len(self.names))]
        name_w = CHAR_W * max(map(len, labels)) + gap
        width = max(4 + name_w + spark_w + gap + CHAR_W * max(map(len, lasts)),
                    8 + CHAR_W * len(repr(self))) + 4
        height = 24 + line_h * len(self.tensors)
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
                 f'height="{height}" font-family="{FONT_FAMILY}" font-size="12" '
                 f'fill="{LIGHT["fg"]}">',
                 f'<text x="4" y="16" fill="{LIGHT["muted"]}">{escape(repr(self))}</text>']
        for i, (label, last) in enumerate(zip(labels, lasts)):
            y = 24 + i * line_h
            values = [r["cells"][i]["value"] for r in self.rows]
            events = {k for k, r in enumerate(self.rows) if r["cells"][i]["events"]}
            parts.append(f'<text x="4" y="{y + 20}">{escape(label)}</text>')
            parts.append(sparkline(values, 4 + name_w, y + 3, spark_w, line_h - 8, events))
            parts.append(f'<text x="{4 + name_w + spark_w + gap:.0f}" y="{y + 20}">'
                         f'{escape(last)}</text>')
        parts.append("</svg>")
        return "\n".join(parts)

    def _repr_mimebundle_(self, **kwargs):
        return with_pictures(super()._repr_mimebundle_(**kwargs), self.text(), self.static_svg())


# ---- helpers ------------------------------------------------------------------------------------

def _shorten(text, limit=LAST_CHARS):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _names_of(tensors, variables):
    names = []
    for i, t in enumerate(tensors):
        found = [k for k, v in variables.items() if v is t and not k.startswith("_")]
        names.append(found[0] if found else f"t{i}")
    return names


def _snapshot(t):
    """(the .grad object, a copy of its values) to compare with later."""
    g = t.grad
    return (g, None) if g is None else (g, as_array(g).copy())


def _changes(last, t):
    """What happened to ``t.grad`` since ``last`` was taken: [], [ZERO], [NONE], ..."""
    obj, values = last
    g = t.grad
    if g is None:
        return [NONE] if obj is not None else []
    if obj is None:
        return [SET]
    now = as_array(g)
    if g is obj and now.shape == values.shape and np.array_equal(now, values):
        return []
    if not now.any():
        return [ZERO] if values.any() or g is not obj else []
    return [CHANGED]


def _cell(t):
    g = t.grad
    if g is None:
        return {"text": "None", "value": None}
    a = as_array(g).astype(np.float64)
    value = float(a) if a.size == 1 else float(np.linalg.norm(a))
    text = fmt(g)
    if a.size > 1 and "shape" in text:
        text += f", norm {value:.4g}"
    return {"text": text, "value": value if math.isfinite(value) else None}


LIGHT = dict(fg="#1f2328", muted="#57606a", grid="#e0e0e0", line="#1976d2", event="#d32f2f")
"""The light colours of widgets/history.css, for the drawing without the widget."""


DOT_SPACING = 4  # px between rows below which a chart draws no dots (widgets/history.js too)


def sparkline(values, x, y, width, height, events=()) -> str:
    """An SVG polyline of ``values`` (None leaves a gap) in the box (x, y, width, height).

    Rows whose index is in ``events`` (a zero_() or grad = None before them) get a red dot; with
    rows closer than ``DOT_SPACING`` px there are no dots, only the line (hundreds of rows).
    """
    box = (f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#ffffff" '
           f'stroke="{LIGHT["grid"]}"/>')
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return box
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = hi - lo or 1.0
    n = max(len(values) - 1, 1)
    xy = {i: (x + 4 + (width - 8) * i / n, y + height - 3 - (height - 6) * (v - lo) / span)
          for i, v in points}
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy.values())
    dense = (width - 8) / n < DOT_SPACING
    dots = "" if dense else "".join(
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{3.5 if i in events else 2}" '
        f'fill="{LIGHT["event"] if i in events else LIGHT["line"]}"/>' for i, (a, b) in xy.items())
    return (f'{box}<polyline points="{line}" fill="none" stroke="{LIGHT["line"]}" '
            f'stroke-width="1.5"/>{dots}')
