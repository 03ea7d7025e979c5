"""torch.accelerator as a CPU-only build of PyTorch answers: no accelerator."""


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0
