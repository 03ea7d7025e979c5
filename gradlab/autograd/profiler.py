"""torch.autograd.profiler: the same profiler as gradlab.profiler, enabled by its first argument."""
from .. import profiler as _profiler
from .._missing import missing_names
from ..profiler import EventList, FunctionEvent, FunctionEventAvg, record_function  # noqa: F401


class profile(_profiler.profile):
    """``with torch.autograd.profiler.profile() as prof:`` (CPU only)."""

    def __init__(self, enabled=True, *, record_shapes=False, **options):
        super().__init__(record_shapes=record_shapes, enabled=enabled)


__getattr__ = missing_names(__name__)  # a PyTorch name gradlab lacks says so
