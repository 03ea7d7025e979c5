"""torch.backends.cudnn on a CPU-only build: not available; its flags can be set (and do
nothing), as lessons set them for reproducibility."""
deterministic = False
benchmark = False
enabled = True


def is_available():
    return False
