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
default = None  # set_default_device's device; None: the CPU
MPS_FACTORY_ERROR = (
    "Could not run 'aten::empty.memory_format' with arguments from the 'MPS' backend. This could "
    "be because the operator doesn't exist for this backend, or was omitted during the "
    "selective/custom build process (if using custom build). If you are a Facebook employee "
    "using PyTorch on mobile, please visit https://fburl.com/ptmfixes for possible resolutions.")


def set_default_device(d):
    """Where factories put new tensors; a CPU-only build accepts any device type here and fails
    when a tensor is made (as gradlab, which computes on the CPU only)."""
    global default
    default = None if d is None else device(d)


def get_default_device():
    if default is not None:
        require_cpu(default)
    return cpu


def parse(d):
    """A device argument as PyTorch's parser reads it (an index alone names an accelerator)."""
    if isinstance(d, int) and not isinstance(d, bool):
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return device(d)


def check_factory(d, kernel):
    """A factory's ``device=`` (or else the default device), with a CPU-only PyTorch's error
    for any but the CPU; ``kernel`` names the ATen op that fails on MPS (None: the tensor
    constructor's check)."""
    name = parse(default if d is None else d).type
    if name == "mps" and kernel:
        raise NotImplementedError(MPS_FACTORY_ERROR.replace("aten::empty.memory_format", kernel))
    if name != "cpu":
        require_cpu(name)


def require_cpu(d):
    """PyTorch's error (a CPU-only build's) for moving a tensor to device ``d``."""
    name = parse(d).type
    if name == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if name == "meta":
        raise NotImplementedError("gradlab does not implement the meta device")
    if name != "cpu":
        raise RuntimeError(f"PyTorch is not linked with support for {name} devices")
