"""torch.backends.mps on a CPU-only build: not built, not available."""


def is_built():
    return False


def is_available():
    return False
