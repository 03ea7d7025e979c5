"""Whole printed programs compared between PyTorch and gradlab, PyTorch's CPU dependence allowed.

PyTorch's float32 results depend on the CPU: its AVX-512 build has kernels of its own for about a
hundred ops (exp, log, tanh, sigmoid, pow, softmax, gelu, ...; the rest run the AVX2 kernel), the
AVX-512 ones vectorise 16 lanes where AVX2 has 8 (an element can land on the vector path on one CPU
and the scalar one on the other, a softmax sums in another order), and MKL picks its matrix kernels
per CPU. gradlab's own matmul goes through OpenBLAS, which does the same. So a program can print
``3.8481e-23`` on one machine and ``3.8482e-23`` on another when its value lies within an ulp or
two of a rounding edge of the printed digits.

Two printed outputs are alike when they are equal, or when

* taken apart into numbers and the text between them, the texts between are equal (whitespace
  aside only when a differing number's printed width differs: a tensor's columns are as wide as
  its widest number), and so are the counts of numbers;
* every number that differs is known precisely on both sides (see ``precise``: each program runs
  again with floats printed to 12 digits; integers, and ``3.``-style integral floats, are exact as
  printed; any other number printed the same way twice is not known and must match exactly), and
  the two values are at most ``ULPS`` float32 ulps apart.

``ULPS`` is 64: 2**-17 of the value, about 7.6e-6. Across PyTorch's DEFAULT and AVX2 kernels,
MKL's code paths (``MKL_CBWR``), OpenBLAS's (``OPENBLAS_CORETYPE``), NumPy's
(``NPY_DISABLE_CPU_FEATURES``) and gradlab, the numbers the lesson corpus and the notebooks print
were measured at most 7 ulps apart (the most where a difference cancels, as in 1 - tanh(3) ** 2;
a training loop that printed probabilities of 1e-23 reached 100 and was changed). One unit in the
5th significant digit, the finest a default print shows, is 840 to 1700 ulps, so a wrong digit
that is more than rounding still fails. Strings, names, dtypes, shapes, errors and every other
number stay exact.
"""
import contextlib
import re

import numpy as np

ULPS = 64
PRECISION = 12
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?(?![\w.])")


class _Precise(float):
    """A float from ``.item()`` that prints all its digits whatever format or round() asks for
    (but ``.0f``: PyTorch formats integral values so for its own printing)."""

    def __format__(self, spec):
        return float.__format__(self, re.sub(r"\.0*[1-9]\d*", f".{PRECISION}", spec))

    def __round__(self, ndigits=None):
        return round(float(self)) if ndigits is None else self


@contextlib.contextmanager
def precise(module):
    """Run with ``module`` (torch or gradlab) printing floats to 12 digits: tensors (the
    program's own set_printoptions calls keep every other option) and ``.item()``'s floats."""
    set_printoptions, cls = module.set_printoptions, module.Tensor
    own_item = vars(cls).get("item")
    item = cls.item

    def forced(*args, **kwargs):
        set_printoptions(*args, **kwargs)
        set_printoptions(precision=PRECISION)

    def precise_item(self):
        value = item(self)
        return _Precise(value) if type(value) is float else value

    module.set_printoptions, cls.item = forced, precise_item
    set_printoptions(precision=PRECISION)
    try:
        yield
    finally:
        module.set_printoptions = set_printoptions
        if own_item is None:
            del cls.item
        else:
            cls.item = own_item
        set_printoptions(profile="default")


def _exact_as_printed(token):
    digits = token.split("e")[0].lstrip("+-")
    return "." not in digits or digits.endswith(".") or len(digits.replace(".", "").strip("0")) >= 9


def ulps_apart(a, b):
    """|a - b| in float32 ulps at the larger magnitude, both rounded to float32 first (a float32
    printed to 12 digits comes back exactly)."""
    a, b = float(a), float(b)
    with np.errstate(over="ignore"):
        x, y = np.float32(a), np.float32(b)
    if np.isfinite(x) and np.isfinite(y):
        a, b = float(x), float(y)
    return 0.0 if a == b else abs(a - b) / float(np.spacing(np.float32(max(abs(a), abs(b)))))


def assert_prints_alike(expected, got, expected_precise, got_precise, *, ulps=ULPS, what=""):
    """``got`` prints like ``expected`` as the module docstring says; the ``*_precise`` texts are
    the same programs' output under ``precise``."""
    if got == expected:
        return
    where = f"{what}\n" if what else ""
    e_nums, g_nums = NUMBER.findall(expected), NUMBER.findall(got)
    e_text, g_text = NUMBER.split(expected), NUMBER.split(got)
    differ = [i for i, (a, b) in enumerate(zip(e_nums, g_nums)) if a != b]
    if any(len(e_nums[i]) != len(g_nums[i]) for i in differ):
        e_text, g_text = ([re.sub(r"\s+", "", t) for t in text] for text in (e_text, g_text))
    assert len(e_nums) == len(g_nums) and e_text == g_text and differ, \
        f"{where}the printed text differs beyond its numbers:\n{expected}\n---\n{got}"
    e_precise, g_precise = NUMBER.findall(expected_precise), NUMBER.findall(got_precise)
    assert len(e_precise) == len(e_nums) and len(g_precise) == len(g_nums), \
        f"{where}printing at {PRECISION} digits changed what the program prints"
    for i in differ:
        values = []
        for normal, exact in ((e_nums[i], e_precise[i]), (g_nums[i], g_precise[i])):
            assert exact != normal or _exact_as_printed(exact), \
                f"{where}{e_nums[i]} != {g_nums[i]}, and {normal} is not printed more precisely " \
                f"when the program runs again at {PRECISION} digits:\n{expected}\n---\n{got}"
            values.append(exact)
        apart = ulps_apart(*values)
        assert apart <= ulps, f"{where}{e_nums[i]} != {g_nums[i]}: {values[0]} and {values[1]} " \
            f"are {apart:.0f} float32 ulps apart (at most {ulps} allowed)\n{expected}\n---\n{got}"
