"""Anomaly mode, as torch.autograd's: forward tracebacks on nodes, NaN checks in backward.

While it is on, each node records the traceback of the forward call that made it (in
``node.metadata["traceback_"]``, and, for a node recorded by a backward pass, the node that pass
was running in ``metadata["parent_"]``); a node that fails in backward warns with that
traceback, and with ``check_nan`` a node whose gradients hold NaN raises. As in PyTorch the mode
is global to the process, not per thread.
"""
import sys
import threading
import traceback
import warnings

import numpy as np

# [enabled, check_nan]: read by record() and the engine on every op and node, so kept cheap
_state = [False, True]
_running = threading.local()  # the node the engine is running on this thread (a parent)

ENABLED_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and "
                   "should only be enabled for debugging.")
_TRIGGERED = " (Triggered internally at /__w/pytorch/pytorch/torch/csrc/autograd/" \
             "python_anomaly_mode.cpp:{}.)"


def is_anomaly_enabled():
    return _state[0]


def is_anomaly_check_nan_enabled():
    return _state[1]


_REQUIRED = object()


def set_anomaly_enabled(enabled=_REQUIRED, check_nan=True):
    """Turn anomaly mode on or off (torch.set_anomaly_enabled)."""
    if enabled is _REQUIRED:
        raise TypeError('set_anomaly_enabled() missing 1 required positional arguments: '
                        '"enabled"')
    for i, (name, value) in enumerate((("enabled", enabled), ("check_nan", check_nan))):
        if type(value) is not bool:
            raise TypeError(f"set_anomaly_enabled(): argument '{name}' (position {i + 1}) must "
                            f"be bool, not {type(value).__name__}")
    _state[:] = enabled, check_nan


class detect_anomaly:
    """Context manager that turns anomaly mode on (warning that it is slow)."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = _state
        self.check_nan = check_nan
        warnings.warn(ENABLED_WARNING, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly mode now; as a context manager, restore the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = _state
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


def store_stack(node):
    """Keep the forward call's traceback on a new ``node`` (and the node being run, if any)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and _in_gradlab(frame):
        frame = frame.f_back
    metadata = node.metadata
    metadata["traceback_"] = traceback.format_list(traceback.extract_stack(frame))
    parent = getattr(_running, "node", None)
    if parent is not None:
        metadata["parent_"] = parent


def _user_level():
    """The stacklevel of the first caller outside gradlab (a warning's place: the user's line;
    PyTorch's is the line of torch/autograd/graph.py that calls its C++ engine)."""
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and _in_gradlab(frame):
        frame, level = frame.f_back, level + 1
    return level


def _in_gradlab(frame):
    name = frame.f_globals.get("__name__", "")
    return name == "gradlab" or name.startswith("gradlab.")


def enter_node(node):
    """The engine runs ``node``: nodes recorded meanwhile get it as their parent. Returns the
    node that was running before (a backward inside a backward), to give to ``enter_node``."""
    prev = getattr(_running, "node", None)
    _running.node = node
    return prev


def raise_if_nan(node, grads):
    """PyTorch's error for a node that returned NaN gradients (if check_nan is on)."""
    if not _state[1]:
        return
    for i, grad in enumerate(grads):
        if grad is not None and grad.dtype.is_floating_point and np.isnan(grad._array).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def warn_failed(node):
    """The warnings PyTorch gives when ``node`` fails in backward: its forward traceback, then
    that of each parent (the node whose backward recorded it)."""
    _warn_stack(node, False)
    parent = _metadata(node).get("parent_")
    while parent is not None:
        _warn_stack(parent, True)
        parent = _metadata(parent).get("parent_")


def _warn_stack(node, is_parent):
    stack = _metadata(node).get("traceback_")
    if stack is None:
        text = (f"Error detected in {node.name()}. No forward pass information available. "
                "Enable detect anomaly during forward pass for more information." +
                _TRIGGERED.format(100))
    elif is_parent:
        text = (f"\n\nPrevious calculation was induced by {node.name()}. Traceback of forward "
                "call that induced the previous calculation:\n" + "".join(stack) +
                _TRIGGERED.format(129))
    else:
        text = (f"Error detected in {node.name()}. Traceback of forward call that caused the "
                "error:\n" + "".join(stack) + _TRIGGERED.format(122))
    warnings.warn(text, UserWarning, stacklevel=_user_level())


def _metadata(node):
    metadata = getattr(node, "metadata", None)
    return metadata if isinstance(metadata, dict) else {}
