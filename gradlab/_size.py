"""``torch.Size``: a tuple of ints that prints as ``torch.Size([2, 3])``."""
import math
import operator


class Size(tuple):
    """The shape of a tensor. Slicing, ``+`` and ``*`` give a Size again, as in torch."""

    def __new__(cls, sizes=()):
        dims = []
        for i, d in enumerate(sizes):
            try:
                dims.append(operator.index(d))
            except TypeError:
                raise TypeError(f"torch.Size() takes an iterable of 'int' "
                                f"(item {i} is '{type(d).__name__}')") from None
        return super().__new__(cls, dims)

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        """The number of elements a tensor of this shape holds (1 for ``torch.Size([])``)."""
        return math.prod(self)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(
                f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple(self) + other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))
