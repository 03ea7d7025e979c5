"""Small data sets that ship with gradlab, so a lesson needs no download.

``names.txt``: 3,802 given names, lower case, one a line: the 2,000 most common girls' names
and the 2,000 most common boys' names given in the U.S. in 2018 (each name once, in that order),
from the Social Security Administration's baby-name data (https://www.ssa.gov/oact/babynames/,
a U.S. government work in the public domain), as taken from the head of each half of the
``names.txt`` of Andrej Karpathy's makemore (https://github.com/karpathy/makemore).
"""
from importlib.resources import files

__all__ = ["names"]


def names() -> list[str]:
    """The given names of ``names.txt``, most common first (girls' names, then boys')."""
    return files(__name__).joinpath("names.txt").read_text(encoding="ascii").split()
