"""A PyTorch name gradlab lacks: an AttributeError that says so (getattr's default and hasattr
still work), for the modules that stand for torch's namespaces."""


def missing_names(module_name):
    """The module ``__getattr__`` of ``gradlab.x``, which stands for ``torch.x``."""
    torch_name = "torch" + module_name[len("gradlab"):]

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):  # Python's probes, not PyTorch's names
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        raise AttributeError(f"gradlab does not implement {torch_name}.{name}")
    return __getattr__
