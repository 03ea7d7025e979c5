"""How an answer is read (``plain``) and compared with the expected one (``mismatch``)."""


def plain(answer):
    """A tensor, array, number, string or bool as plain Python (nested lists for tensors)."""
    if isinstance(answer, (str, bool)):
        return answer
    if hasattr(answer, "detach"):  # a gradlab or torch tensor
        return answer.detach().tolist()
    if hasattr(answer, "tolist"):  # numpy arrays and scalars
        return answer.tolist()
    if isinstance(answer, (list, tuple)):
        return [plain(a) for a in answer]
    if is_number(answer):
        return answer
    raise TypeError(f"expected a tensor, a number, a list, a string or True/False, "
                    f"got {type(answer).__name__}")


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def mismatch(value, expected, tol):
    """None when ``value`` matches; "value" for wrong numbers; otherwise what is wrong."""
    if isinstance(expected, bool):
        if not isinstance(value, bool):
            return "the answer should be True or False"
        return None if value == expected else "value"
    if isinstance(expected, str):
        if not isinstance(value, str):
            return "the answer should be a string, e.g. \"AddBackward0\""
        return None if value.strip() == expected else "value"
    if isinstance(expected, list):
        if not isinstance(value, list):
            return f"the answer should hold {len(expected)} values, got a single value"
        if len(value) != len(expected):
            return f"the answer should hold {len(expected)} values, got {len(value)}"
        problems = [mismatch(v, e, tol) for v, e in zip(value, expected)]
        shape = next((p for p in problems if p not in (None, "value")), None)
        if shape is not None:
            return shape
        return "value" if any(problems) else None
    if isinstance(value, bool) or not is_number(value):
        return "the answer should be a number" if not isinstance(value, list) else \
            "the answer should be a single number (a 0-d tensor or a float)"
    return None if close(value, expected, tol) else "value"


def close(value, expected, tol) -> bool:
    """``value`` within ``tol`` of ``expected``, relative to it (absolute when it is 0)."""
    return abs(value - expected) <= tol * (abs(expected) or 1.0)  # False for NaN and infinity
