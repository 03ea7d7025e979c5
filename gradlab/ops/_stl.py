"""libstdc++'s std::sort, std::nth_element and std::partial_sort, which PyTorch's CPU sort and
topk kernels call: which of several equal values comes first is theirs, so gradlab runs the same
steps (on a list of (value, index) pairs, compared by ``less``)."""

THRESHOLD = 16  # _S_threshold


def _lg(n):
    return n.bit_length() - 1


def sort(a, less):
    """std::sort (introsort, then a final insertion sort)."""
    if len(a) > 1:
        _introsort_loop(a, 0, len(a), _lg(len(a)) * 2, less)
        _final_insertion_sort(a, 0, len(a), less)


def nth_element(a, nth, less):
    """std::nth_element (introselect)."""
    if len(a) and nth != len(a):
        _introselect(a, 0, nth, len(a), _lg(len(a)) * 2, less)


def partial_sort(a, middle, less):
    """std::partial_sort: the ``middle`` least, in order, first (heap select, then heap sort)."""
    _heap_select(a, 0, middle, len(a), less)
    _sort_heap(a, 0, middle, less)


def _introsort_loop(a, first, last, depth, less):
    while last - first > THRESHOLD:
        if depth == 0:
            _heap_select(a, first, last, last, less)
            _sort_heap(a, first, last, less)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, less)
        _introsort_loop(a, cut, last, depth, less)
        last = cut


def _introselect(a, first, nth, last, depth, less):
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, less)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, less)


def _move_median_to_first(a, result, i, j, k, less):
    if less(a[i], a[j]):
        m = j if less(a[j], a[k]) else k if less(a[i], a[k]) else i
    else:
        m = i if less(a[i], a[k]) else k if less(a[j], a[k]) else j
    a[result], a[m] = a[m], a[result]


def _partition_pivot(a, first, last, less):
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, less)
    pivot = a[first]
    lo, hi = first + 1, last
    while True:
        while less(a[lo], pivot):
            lo += 1
        hi -= 1
        while less(pivot, a[hi]):
            hi -= 1
        if not lo < hi:
            return lo
        a[lo], a[hi] = a[hi], a[lo]
        lo += 1


def _final_insertion_sort(a, first, last, less):
    if last - first > THRESHOLD:
        _insertion_sort(a, first, first + THRESHOLD, less)
        for i in range(first + THRESHOLD, last):
            _linear_insert(a, i, less)
    else:
        _insertion_sort(a, first, last, less)


def _insertion_sort(a, first, last, less):
    for i in range(first + 1, last):
        if less(a[i], a[first]):
            a[first:i + 1] = [a[i]] + a[first:i]
        else:
            _linear_insert(a, i, less)


def _linear_insert(a, last, less):
    value = a[last]
    while less(value, a[last - 1]):
        a[last] = a[last - 1]
        last -= 1
    a[last] = value


def _heap_select(a, first, middle, last, less):
    _make_heap(a, first, middle, less)
    for i in range(middle, last):
        if less(a[i], a[first]):
            value, a[i] = a[i], a[first]
            _adjust_heap(a, first, 0, middle - first, value, less)


def _sort_heap(a, first, last, less):
    while last - first > 1:
        last -= 1
        value, a[last] = a[last], a[first]
        _adjust_heap(a, first, 0, last - first, value, less)


def _make_heap(a, first, last, less):
    n = last - first
    if n < 2:
        return
    for parent in range((n - 2) // 2, -1, -1):
        _adjust_heap(a, first, parent, n, a[first + parent], less)


def _adjust_heap(a, first, hole, n, value, less):
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if less(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value
