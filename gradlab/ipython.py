"""IPython extension: ``%load_ext gradlab`` puts the drawing and the widgets one line away.

    %graph [-s|--saved] [-a|--attrs] EXPR    the backward graph of EXPR (``make_dot``)
    %stepper [--retain-graph] EXPR           a ``BackwardStepper`` on EXPR's backward pass
    %grads NAME [NAME ...]                   a ``GradHistory`` watching those leaves
    %as_torch                                from here on ``import torch`` gives gradlab

EXPR is any Python expression, evaluated in the notebook's namespace, which also names the
tensors in the drawing (``%graph (x * w).sum()`` labels ``x`` and ``w``). Options come before the
expression and ``--`` ends them (``%graph -- -x``); ``{}`` and ``$`` are not expanded, so EXPR is
plain Python. gradlab and PyTorch tensors both work. Mistakes (no expression, not a tensor, no
grad, a non-scalar for the stepper) raise ``UsageError``, which IPython shows as one line.
"""
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand

GRAPH_OPTIONS = {"-s": "saved", "--saved": "saved", "-a": "attrs", "--attrs": "attrs"}
STEPPER_OPTIONS = {"--retain-graph": "retain_graph"}


@magics_class
class GradlabMagics(Magics):
    """The line magics %graph, %stepper, %grads and %as_torch."""

    @no_var_expand
    @line_magic
    def graph(self, line):
        """Draw the backward graph of an expression: %graph [-s|--saved] [-a|--attrs] EXPR

        -s, --saved  draw the tensors saved for backward (orange, on dotted edges)
        -a, --attrs  list each grad_fn's saved values
        Returns make_dot's Drawing (shown as SVG; .source is the DOT, .save("g.svg")).
        """
        from .viz import make_dot
        opts, expr = _parse(line, "graph", GRAPH_OPTIONS)
        value = self._outputs(expr, "graph")
        return make_dot(value, params=self.shell.user_ns, show_saved="saved" in opts,
                        show_attrs="attrs" in opts)

    @no_var_expand
    @line_magic
    def stepper(self, line):
        """Step through EXPR.backward() one engine event at a time: %stepper [--retain-graph] EXPR

        --retain-graph  keep the saved tensors, so the graph can be stepped (or run) again
        EXPR must be a scalar (one element); for any other gradient call
        BackwardStepper(y, gradient) yourself.
        """
        from .widgets import BackwardStepper
        opts, expr = _parse(line, "stepper", STEPPER_OPTIONS)
        value = self._outputs(expr, "stepper")
        for t in value if isinstance(value, (tuple, list)) else (value,):
            if t.numel() != 1:
                raise UsageError(
                    f"%stepper: {expr} has shape {list(t.shape)}, and backward() without a "
                    f"gradient needs a scalar: step through %stepper ({expr}).sum(), or call "
                    f"BackwardStepper({expr}, gradient) yourself")
        return BackwardStepper(value, retain_graph="retain_graph" in opts,
                               params=self.shell.user_ns)

    @no_var_expand
    @line_magic
    def grads(self, line):
        """Watch leaves' .grad across backward calls: %grads NAME [NAME ...]

        Each NAME (a variable or an attribute path such as model.weight) must be a leaf that
        requires grad; the names label the columns. Returns a GradHistory.
        """
        from .widgets import GradHistory
        names = line.split()
        if not names:
            raise UsageError("%grads needs the leaves to watch, e.g. %grads w b")
        tensors = [self.shell.ev(name) for name in names]
        for name, t in zip(names, tensors):
            _check_tensor(t, name, "grads")
            if not t.requires_grad or t.grad_fn is not None:
                raise UsageError(f"%grads: {name} is not a leaf that requires grad (it was made "
                                 f"by {_made_by(t)}); .grad is only filled on such leaves")
        return GradHistory(*tensors, names=names)

    @line_magic
    def as_torch(self, line):
        """From here on, ``import torch`` (torch.nn, torchviz, ...) gives gradlab: %as_torch

        Run it before anything imports PyTorch (see gradlab.as_torch).
        """
        from ._as_torch import as_torch
        if line.strip():
            raise UsageError(f"%as_torch takes no arguments (got {line.strip()!r})")
        try:
            as_torch()
        except RuntimeError as e:
            raise UsageError(str(e)) from None

    def _outputs(self, expr, magic):
        """EXPR evaluated in the user's namespace, checked to be tensor(s) that require grad."""
        value = self.shell.ev(expr)
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not items:
            raise UsageError(f"%{magic}: {expr} is empty; give a tensor or a tuple of tensors")
        for t in items:
            _check_tensor(t, expr, magic)
            if not t.requires_grad:
                raise UsageError(
                    f"%{magic}: {expr} does not require grad, so it has no backward graph: "
                    f"compute it from a leaf made with requires_grad=True")
        return value


def _parse(line, magic, options):
    """(set of option names, the expression) from ``line``: options first, ``--`` ends them.

    A word starting with a single ``-`` that is no option starts the expression (``-x``).
    """
    rest = line.strip()
    opts = set()
    while rest.startswith("-"):
        word, _, after = rest.partition(" ")
        if word == "--":
            rest = after.strip()
            break
        if word in options:
            opts.add(options[word])
        elif word.startswith("--") and word[2:3].isalpha():
            raise UsageError(f"%{magic}: unknown option {word} (options: "
                             f"{', '.join(sorted(options))}; -- ends the options)")
        else:
            break
        rest = after.strip()
    if not rest:
        raise UsageError(f"%{magic} needs an expression, e.g. %{magic} (x * w).sum()")
    return opts, rest


def _check_tensor(value, expr, magic):
    from .widgets.trace import is_tensor
    if not is_tensor(value):
        raise UsageError(f"%{magic}: {expr} is not a tensor (its type is "
                         f"{type(value).__name__})")


def _made_by(t):
    return t.grad_fn.name() if t.grad_fn is not None else "requires_grad=False"


def load_ipython_extension(ipython):
    """Register the magics (``%load_ext gradlab``)."""
    ipython.register_magics(GradlabMagics)


def unload_ipython_extension(ipython):
    """Remove the magics this extension registered (``%unload_ext gradlab``)."""
    manager = ipython.magics_manager
    for name in GradlabMagics.magics["line"]:
        fn = manager.magics["line"].get(name)
        if isinstance(getattr(fn, "__self__", None), GradlabMagics):
            del manager.magics["line"][name]
    manager.registry.pop(GradlabMagics.__name__, None)
