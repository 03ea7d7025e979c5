"""``gradlab.as_torch()``: ``import torch`` (and ``torch.nn``, ``torchviz``, ...) gives gradlab.

Two import hooks on ``sys.meta_path``. The first, ahead of Python's own finders, answers
``torch``, ``torch.X`` and ``torchviz`` with the module objects ``gradlab``, ``gradlab.X`` and
``gradlab.viz`` (so ``torch.nn is gradlab.nn``). The second, behind them, answers a ``gradlab.X``
that nothing else found with "gradlab does not implement torch.X": ``import torch.cuda.amp`` and
``from torch import fft`` say what gradlab lacks. While the hooks are on, every module standing
for a torch module is a package to the import system (an empty ``__path__``), as torch's are, so
its missing submodules reach that hook too.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys

import gradlab

ALIASES = {"torchviz": "gradlab.viz", "torch": "gradlab"}  # PyTorch's names, gradlab's (the
# more specific first, as _torch_name looks them up)


def _gradlab_name(name):
    """The gradlab module a ``torch``/``torchviz`` module name stands for, else None."""
    top, dot, rest = name.partition(".")
    return ALIASES[top] + dot + rest if top in ALIASES else None


def _torch_name(name):
    """The PyTorch name a ``gradlab`` module name stands for: the inverse of _gradlab_name."""
    for top, ours in ALIASES.items():
        if name == ours or name.startswith(ours + "."):
            return top + name[len(ours):]
    return None


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finder and loader of ``torch``, ``torch.X`` and ``torchviz``: gradlab's module objects.

    Every gradlab module already imported gets its torch name in sys.modules (``add_loaded``)
    when the hooks go on and after each import here, so the import system never sets a module
    as an attribute of its parent again: ``import torch.tensor`` leaves ``torch.tensor`` the
    function, as ``gradlab/__init__.py`` left it. The loader serves the modules not imported yet.
    """

    def __init__(self):
        self.specs = {}  # gradlab name -> the module's own spec, put back after loading
        self.made_packages = []  # plain modules given an empty __path__

    def add_loaded(self, but=None):
        """Put every imported gradlab module in sys.modules under its torch name too."""
        for name, module in list(sys.modules.items()):
            alias = _torch_name(name)
            if alias is not None and alias != but and alias not in sys.modules:
                self.make_package(module)
                sys.modules[alias] = module

    def make_package(self, module):
        if getattr(module, "__path__", None) is None:
            module.__path__ = []
            self.made_packages.append(module)

    def find_spec(self, fullname, path=None, target=None):
        name = _gradlab_name(fullname)
        if name is None:
            return None
        importlib.import_module(name)  # a name gradlab lacks: _Missing says so
        self.add_loaded(but=fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = sys.modules[_gradlab_name(spec.name)]
        self.specs[module.__name__] = module.__spec__
        self.make_package(module)
        return module

    def exec_module(self, module):
        module.__spec__ = self.specs.pop(module.__name__)  # gradlab's module stays as it was

    def remove(self):
        """Forget the aliases: sys.modules' torch entries, the __path__ given to modules."""
        for name in [name for name in sys.modules if _gradlab_name(name) is not None]:
            if sys.modules[name] is sys.modules.get(_gradlab_name(name)):
                del sys.modules[name]
        for module in self.made_packages:
            del module.__path__
        self.made_packages.clear()


class _Missing(importlib.abc.MetaPathFinder):
    """The last finder: a gradlab module no finder found is a torch module gradlab lacks."""

    def find_spec(self, fullname, path=None, target=None):
        name = _torch_name(fullname)
        if name is None or fullname == "gradlab":
            return None
        raise ModuleNotFoundError(f"gradlab does not implement {name}", name=name)


_ALIASES, _MISSING = _Aliases(), _Missing()


class as_torch:
    """Make ``import torch``, ``import torch.nn.functional as F``, ``from torchviz import
    make_dot``, ... give gradlab's modules from now on, in this process.

    Idempotent. As a context manager (``with gradlab.as_torch():``) it is undone on leaving, if
    it was not on already. Call it before anything imports PyTorch: with PyTorch imported it
    raises RuntimeError (restart the kernel or the interpreter, and call it first).
    """

    def __init__(self):
        self.installed = not self.active()
        if self.installed:
            _refuse_if_torch_is_imported()
            sys.meta_path.insert(0, _ALIASES)
            sys.meta_path.append(_MISSING)
            _ALIASES.add_loaded()
            _name_classes("torch")

    @staticmethod
    def active():
        """Whether ``import torch`` gives gradlab now."""
        return _ALIASES in sys.meta_path

    def undo(self):
        """Take the hooks away again if this call put them there: ``import torch`` is PyTorch."""
        if self.installed and self.active():
            sys.meta_path.remove(_ALIASES)
            sys.meta_path.remove(_MISSING)
            _ALIASES.remove()
            _name_classes("gradlab")
        self.installed = False

    def __enter__(self):
        return gradlab

    def __exit__(self, *exc_info):
        self.undo()

    def __repr__(self):
        state = "import torch gives gradlab" if self.active() else "off"
        return f"<gradlab.as_torch: {state}>"


def _name_classes(top):
    """Tensor and Parameter shown as ``torch.Tensor``/``torch.nn.parameter.Parameter`` while
    ``import torch`` gives gradlab (``type(x)`` in a notebook), as ``gradlab....`` otherwise."""
    gradlab.Tensor.__module__ = top
    gradlab.nn.Parameter.__module__ = top + ".nn.parameter"


def _refuse_if_torch_is_imported():
    """RuntimeError if PyTorch's own modules (not gradlab's under its names) are imported."""
    imported = sorted(name for name, module in list(sys.modules.items())
                      if _gradlab_name(name) is not None
                      and module is not sys.modules.get(_gradlab_name(name)))
    if imported:
        raise RuntimeError(
            f"gradlab.as_torch() must come before PyTorch is imported, and PyTorch "
            f"({imported[0]!r}) is already imported in this process, so 'import torch' can no "
            f"longer give gradlab. Restart the kernel (or the Python interpreter) and call "
            f"gradlab.as_torch() before anything imports torch.")
