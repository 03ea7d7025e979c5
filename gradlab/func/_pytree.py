"""Nested tuples, lists and dicts of tensors (PyTorch's pytrees), flattened and rebuilt."""
NODES = (tuple, list, dict)


class TreeSpec:
    """The structure of a pytree, printed as PyTorch's ``torch.utils._pytree.TreeSpec``."""

    def __init__(self, type_, context, children):
        self.type, self.context, self.children = type_, context, children
        self.num_leaves = sum(c.num_leaves for c in children)

    def is_leaf(self):
        return False

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.type is other.type
                and self.context == other.context and self.children == other.children)

    def __repr__(self, indent=0):
        text = ""
        if self.children:
            indent += 2
            text = self.children[0].__repr__(indent) + ("," if len(self.children) > 1 else "")
            text += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children[1:])
        return f"TreeSpec({self.type.__name__}, {self.context}, [{text}])"


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def is_leaf(self):
        return True

    def __repr__(self, indent=0):
        return "*"


LEAF = LeafSpec()


def _children(tree):
    if type(tree) is dict:
        return list(tree.values()), list(tree)
    return list(tree), None


def tree_flatten(tree):
    """(leaves, spec): the leaves in order (dicts in insertion order) and the structure."""
    if type(tree) not in NODES:
        return [tree], LEAF
    children, context = _children(tree)
    leaves, specs = [], []
    for child in children:
        flat, spec = tree_flatten(child)
        leaves += flat
        specs.append(spec)
    return leaves, TreeSpec(type(tree), context, specs)


def tree_unflatten(leaves, spec):
    leaves = iter(leaves)
    return _build(leaves, spec)


def _build(leaves, spec):
    if spec.is_leaf():
        return next(leaves)
    children = [_build(leaves, c) for c in spec.children]
    if spec.type is dict:
        return dict(zip(spec.context, children))
    return spec.type(children)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_to_and_flatten(tree, spec):
    """``tree``'s leaves, each repeated over the part of ``spec`` it stands for; None if the
    structures do not match (PyTorch's _broadcast_to_and_flatten)."""
    if type(tree) not in NODES:
        return [tree] * spec.num_leaves
    if spec.is_leaf() or type(tree) is not spec.type:
        return None
    children, context = _children(tree)
    if len(children) != len(spec.children) or context != spec.context:
        return None
    result = []
    for child, child_spec in zip(children, spec.children):
        flat = broadcast_to_and_flatten(child, child_spec)
        if flat is None:
            return None
        result += flat
    return result


class _Star:
    def __repr__(self):
        return "*"


def spec_pprint(spec):
    """The structure written as the tree with ``*`` for each leaf (PyTorch's treespec_pprint)."""
    return repr(tree_unflatten([_Star()] * spec.num_leaves, spec))
