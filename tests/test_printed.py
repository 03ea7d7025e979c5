"""tests/printed.py: the comparison of whole printed programs tolerates a last-digit difference
only within 64 float32 ulps, and nothing else."""
import numpy as np
import pytest

from printed import ULPS, assert_prints_alike, precise, ulps_apart

torch = pytest.importorskip("torch", reason="precise() is checked on real PyTorch too")

import gradlab  # noqa: E402


def f32_after(value, steps):
    """The float32 ``steps`` ulps above ``value``, printed to 12 significant digits."""
    v = np.float32(value)
    for _ in range(steps):
        v = np.nextafter(v, np.float32(np.inf))
    return f"{float(v):.12g}"


def test_equal_outputs_need_nothing_else():
    assert_prints_alike("tensor([0.1235])\n", "tensor([0.1235])\n", "", "")


@pytest.mark.parametrize("steps", [1, ULPS])
def test_a_last_digit_within_the_tolerance_passes(steps):
    low = f"{float(np.float32(0.12345)):.12g}"
    assert_prints_alike("tensor([0.1235, 2.0000])\n", "tensor([0.1234, 2.0000])\n",
                        f"tensor([{f32_after(low, steps)}, 2.000000000000])\n",
                        f"tensor([{low}, 2.000000000000])\n")


@pytest.mark.parametrize("high", [ULPS + 1, 800])
def test_a_differing_digit_beyond_the_tolerance_fails(high):
    low = f"{float(np.float32(0.12345)):.12g}"
    with pytest.raises(AssertionError, match="ulps apart"):
        assert_prints_alike("tensor([0.1235])\n", "tensor([0.1234])\n",
                            f"tensor([{f32_after(low, high)}])\n", f"tensor([{low}])\n")


def test_ulps_are_counted_at_the_larger_magnitude():
    assert ulps_apart("1.0", "1.0") == 0
    assert ulps_apart("-3.84814490611e-23", f32_after("-3.84814490611e-23", 7)) == 7
    below_one = float(np.nextafter(np.float32(1), np.float32(0)))
    assert ulps_apart(1.0, below_one) == 0.5


@pytest.mark.parametrize("got", [
    "tensor([0.1234], requires_grad=True)\n",     # more text
    "tensor([0.1234], dtype=torch.float64)\n",    # a dtype
    "Tensor([0.1234])\n",                         # a name
    "tensor([nan])\n",                            # nan is text, not a number
    "tensor([0.1234, 0.1234])\n",                 # one number more
    "!! uncaught RuntimeError: 0.1234\n",         # an error
])
def test_any_other_difference_fails(got):
    with pytest.raises(AssertionError, match="beyond its numbers"):
        assert_prints_alike("tensor([0.1235])\n", got, "tensor([0.123450003564])\n",
                            "tensor([0.123449996114])\n")


def test_whitespace_may_differ_only_with_a_number_s_width():
    assert_prints_alike("tensor([ 9.9999, -1.0000])\n", "tensor([10.0000, -1.0000])\n",
                        "tensor([ 9.999999046326, -1.000000000000])\n",
                        "tensor([10.000000000000, -1.000000000000])\n")
    for got in ("tensor([0.1234,  2.0000])\n", "tensor([0.1235,  2.0000])\n"):
        with pytest.raises(AssertionError, match="beyond its numbers"):
            assert_prints_alike("tensor([0.1235, 2.0000])\n", got,
                                "tensor([0.123450003564, 2.000000000000])\n",
                                "tensor([0.123449996114,  2.000000000000])\n")


def test_a_number_not_printed_more_precisely_must_match():
    with pytest.raises(AssertionError, match="not printed more precisely"):
        assert_prints_alike("loss=0.3540\n", "loss=0.3541\n", "loss=0.3540\n", "loss=0.3541\n")
    with pytest.raises(AssertionError, match="ulps apart"):  # integers are exact as printed
        assert_prints_alike("epoch 10\n", "epoch 11\n", "epoch 10\n", "epoch 11\n")


def test_precisely_rerun_output_must_line_up():
    with pytest.raises(AssertionError, match="changed what the program prints"):
        assert_prints_alike("a 0.1235\n", "a 0.1234\n", "a 0.123450003564 1\n", "a 0.1234\n")


@pytest.mark.parametrize("lib", [torch, gradlab], ids=["torch", "gradlab"])
def test_precise_prints_tensors_and_item_floats_to_12_digits_then_restores(lib, capsys):
    x = lib.tensor([1 / 3, 2.0])
    with precise(lib):
        lib.set_printoptions(precision=2)  # a program's own call keeps the 12 digits
        print(x, lib.tensor(1.0), f"{x[0].item():.3f}", round(x[0].item(), 2), x[1].item())
    print(x, f"{x[0].item():.3f}")
    assert capsys.readouterr().out == (
        "tensor([0.333333343267, 2.000000000000]) tensor(1.) 0.333333343267 0.3333333432674408"
        " 2.0\ntensor([0.3333, 2.0000]) 0.333\n")
    assert type(x[0].item()) is float
