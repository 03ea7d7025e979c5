"""einsum, as PyTorch computes it: operands aligned by diagonal, unsqueeze and permute, then
contracted left to right in pairs by permute, reshape and bmm (sumproduct_pair). Built from
gradlab's ops, so its graph has the nodes PyTorch's has (ViewBackward0, PermuteBackward0,
BmmBackward0, SumBackward1, MulBackward0, ...)."""
LETTERS = 26
ELLIPSIS = 2 * LETTERS


def _subscript(label):
    """A label's index in PyTorch's order: A-Z, then a-z."""
    return ord(label) - ord("A") if label.isupper() else ord(label) - ord("a") + LETTERS


def _label(s):
    return chr(s + ord("A")) if s < LETTERS else chr(s - LETTERS + ord("a"))


def _check(ok, *message):
    if not ok:
        raise RuntimeError("".join(str(m) for m in message))


def _parse_inputs(lhs, num_ops):
    labels = [[] for _ in range(num_ops)]
    op, ellipsis, i = 0, False, 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            _check(not ellipsis, "einsum(): found '.' for operand ", op,
                   " for which an ellipsis was already found")
            _check(lhs[i:i + 3] == "...", "einsum(): found '.' for operand ",
                   op, " that is not part of any ellipsis")
            labels[op].append(ELLIPSIS)
            ellipsis, i = True, i + 2
        elif c == ",":
            op += 1
            _check(op < num_ops,
                   "einsum(): fewer operands were provided than specified in the equation")
            ellipsis = False
        elif c != " ":
            _check(c.isascii() and c.isalpha(), "einsum(): invalid subscript given at index ", i,
                   " in the equation string, subscripts must be in [a-zA-Z]")
            labels[op].append(_subscript(c))
        i += 1
    _check(op == num_ops - 1,
           "einsum(): more operands were provided than specified in the equation")
    return labels


def einsum(*args):
    """einsum(equation, *operands) or einsum(equation, [operands])."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    equation, operands = args[0], args[1:]
    if not isinstance(equation, str):
        raise NotImplementedError("gradlab does not implement einsum's sublist format")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    _check(len(operands) > 0, "einsum(): must provide at least one operand")
    num_ops = len(operands)
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    op_labels = _parse_inputs(lhs, num_ops)

    label_count = [0] * ELLIPSIS
    ell_num_dim = 0
    for i, (operand, labels) in enumerate(zip(operands, op_labels)):
        ndims = operand.dim()
        nlabels = len(labels)
        has_ellipsis = ELLIPSIS in labels
        for s in labels:
            if s == ELLIPSIS:
                nlabels -= 1
            else:
                label_count[s] += 1
        if has_ellipsis:
            ell_num_dim = max(ell_num_dim, ndims - nlabels)
        _check(nlabels <= ndims if has_ellipsis else nlabels == ndims,
               "einsum(): the number of subscripts in the equation (", nlabels,
               ") is more than the number of dimensions (" if has_ellipsis else
               ") does not match the number of dimensions (", ndims, ") for operand ", i,
               "" if has_ellipsis else " and no ellipsis was given")

    perm_index_of = [-1] * ELLIPSIS
    perm_index = ell_index = 0
    ell_in_output = False
    if arrow < 0:
        perm_index, ell_in_output = ell_num_dim, True
        for s in range(ELLIPSIS):
            if label_count[s] == 1:
                perm_index_of[s] = perm_index
                perm_index += 1
    else:
        rhs = equation[arrow + 2:]
        i = 0
        while i < len(rhs):
            c = rhs[i]
            if c == ".":
                _check(not ell_in_output, "einsum(): found '.' for output but an ellipsis (...) "
                       "was already found")
                _check(rhs[i:i + 3] == "...", "einsum(): found '.' for output that is not part "
                       "of any ellipsis (...)")
                ell_index, perm_index, ell_in_output = perm_index, perm_index + ell_num_dim, True
                i += 2
            elif c != " ":
                _check(c.isascii() and c.isalpha(), "einsum(): invalid subscript given at index ",
                       len(lhs) + 2 + i, " in the equation string, subscripts must be in [a-zA-Z]")
                s = _subscript(c)
                _check(label_count[s] > 0 and perm_index_of[s] == -1, "einsum(): output "
                       "subscript ", c, " appears more than once in the output"
                       if perm_index_of[s] > -1 else
                       " does not appear in the equation for any input operand")
                perm_index_of[s] = perm_index
                perm_index += 1
            i += 1
    out_num_dim = perm_index
    if not ell_in_output:
        ell_index, perm_index = perm_index, perm_index + ell_num_dim
    for s in range(ELLIPSIS):
        if label_count[s] > 0 and perm_index_of[s] == -1:
            perm_index_of[s] = perm_index
            perm_index += 1

    ops, dim_counts = _align(operands, op_labels, perm_index_of, perm_index, ell_index,
                             ell_num_dim)
    while len(ops) > 1:
        a, b = ops.pop(0), ops.pop(0)
        sum_dims, a_dims, b_dims = [], [], []
        for d in range(out_num_dim, perm_index):
            if a.shape[d] != 1 and b.shape[d] != 1:
                dim_counts[d] -= 1
                if dim_counts[d] == 1:
                    sum_dims.append(d)
                    dim_counts[d] = 0
            elif dim_counts[d] == 1:
                if a.shape[d] != 1:
                    a_dims.append(d)
                    dim_counts[d] = 0
                elif b.shape[d] != 1:
                    b_dims.append(d)
                    dim_counts[d] = 0
        if a_dims:
            a = a.sum(a_dims, True)
        if b_dims:
            b = b.sum(b_dims, True)
        ops.insert(0, _sumproduct_pair(a, b, sum_dims))

    result = ops[0]
    if perm_index > out_num_dim:
        if num_ops > 1:
            return result.view(result.shape[:out_num_dim])
        return result.sum(list(range(out_num_dim, perm_index)))
    return result


def _align(operands, op_labels, perm_index_of, perm_index, ell_index, ell_num_dim):
    """Each operand with a dim per label (diagonals for repeated labels, ones for missing),
    permuted to one order; and how many operands have each dim larger than 1."""
    label_size = [1] * ELLIPSIS
    ell_sizes = [1] * ell_num_dim
    dim_counts = [0] * perm_index
    ops = []
    for i, (operand, labels) in enumerate(zip(operands, op_labels)):
        op = operand
        permutation = [-1] * perm_index
        dim = 0
        for s in labels:
            if s == ELLIPSIS:
                ndim = operand.dim() - (len(labels) - 1)
                for j in range(ell_num_dim - ndim, ell_num_dim):
                    size = op.shape[dim]
                    if size != 1:
                        _check(ell_sizes[j] in (1, size), "einsum(): dimension ", dim,
                               " covered by ellipsis in operand ", i, "has size ", size,
                               " which does not broadcast with previously seen ellipsis with "
                               "size ", ell_sizes[j], " for the respective dimension")
                        ell_sizes[j] = size
                        dim_counts[ell_index + j] += 1
                    permutation[ell_index + j] = dim
                    dim += 1
            elif permutation[perm_index_of[s]] == -1:
                size = op.shape[dim]
                if size != 1:
                    _check(label_size[s] in (1, size), "einsum(): subscript ", _label(s),
                           " has size ", size, " for operand ", i,
                           " which does not broadcast with previously seen size ", label_size[s])
                    label_size[s] = size
                    dim_counts[perm_index_of[s]] += 1
                permutation[perm_index_of[s]] = dim
                dim += 1
            else:
                prev = permutation[perm_index_of[s]]
                _check(op.shape[dim] == op.shape[prev], "einsum(): subscript ", _label(s),
                       " is repeated for operand ", i, " but the sizes don't match, ",
                       op.shape[dim], " != ", op.shape[prev])
                op = op.diagonal(0, prev, dim).movedim(-1, prev)
        for k, val in enumerate(permutation):
            if val == -1:
                op = op.unsqueeze(dim)
                permutation[k] = dim
                dim += 1
        ops.append(op.permute(permutation))
    return ops, dim_counts


def _sumproduct_pair(left, right, sum_dims):
    """(left · right) summed over ``sum_dims`` (kept as ones), by permute, reshape and bmm."""
    if not sum_dims:
        return left * right
    lro, lo, ro = [], [], []
    lro_size = lo_size = ro_size = sum_size = 1
    for i in range(left.dim()):
        sl, sr = left.shape[i] != 1, right.shape[i] != 1
        if i in sum_dims:
            if sl and sr:
                _check(left.shape[i] == right.shape[i], "non-broadcast dimensions must match")
                sum_size *= left.shape[i]
            elif sl:
                left = left.sum(i, True)
            elif sr:
                right = right.sum(i, True)
        elif sl and sr:
            _check(left.shape[i] == right.shape[i], "non-broadcast dimensions must match")
            lro.append(i)
            lro_size *= left.shape[i]
        elif sl:
            lo.append(i)
            lo_size *= left.shape[i]
        else:
            ro.append(i)
            ro_size *= right.shape[i]
    out_size = [left.shape[d] for d in lro + lo] + [1] * len(sum_dims) + \
        [right.shape[d] for d in ro]
    order = lro + lo + sum_dims + ro
    operm = [0] * len(order)
    for k, d in enumerate(order):
        operm[d] = k
    left = left.permute(lro + lo + sum_dims + ro).reshape(lro_size, lo_size, sum_size)
    right = right.permute(lro + sum_dims + ro + lo).reshape(lro_size, sum_size, ro_size)
    return left.bmm(right).view(out_size).permute(operm)
