"""torch.backends.cuda on a CPU-only build: not built, not available."""


def is_built():
    return False
