"""torch.device: PyTorch's device names, of which gradlab computes on the CPU only."""

TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
         "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if name not in TYPES:
            raise RuntimeError(f"Expected one of {', '.join(TYPES)} device type at start of "
                               f"device string: {type}")
        self.type, self.index = name, int(idx) if idx else index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


cpu = device("cpu")


def get_default_device():
    """Where new tensors go: gradlab computes on the CPU only."""
    return cpu


def require_cpu(d):
    """PyTorch's error (a CPU-only build's) for moving a tensor to device ``d``."""
    name = device(d).type
    if name == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if name != "cpu":
        raise RuntimeError(f"PyTorch is not linked with support for {name} devices")
