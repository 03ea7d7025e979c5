"""gradlab.func against torch.func: every transform, their nesting, vmap's errors, and the
examples of PyTorch's torch.func docs and tutorials, each program run on both and compared."""
import contextlib
import io
import sys
import textwrap

import pytest
import torch

import gradlab


def run(program, lib):
    """What ``program`` prints with ``torch`` bound to ``lib`` (float64 or exact values only)."""
    out = io.StringIO()
    names = {"torch": lib, "F": lib.nn.functional, "nn": lib.nn, "func": lib.func}
    names.update({n: getattr(lib.func, n) for n in ("grad", "grad_and_value", "vjp", "jvp",
                                                    "jacrev", "jacfwd", "hessian", "vmap",
                                                    "functional_call")})
    with contextlib.redirect_stdout(out), as_torch(lib):
        exec(textwrap.dedent(program), names)
    return out.getvalue()


@contextlib.contextmanager
def as_torch(lib):
    """``import torch.func`` and ``from torch.func import ...`` in a program find ``lib``."""
    modules = {"torch": lib, "torch.func": lib.func, "torch.nn": lib.nn,
               "torch.nn.functional": lib.nn.functional}
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        sys.modules.update(saved)


def same(program):
    expected = run(program, torch)
    assert run(program, gradlab) == expected
    return expected


def error_of(program, lib):
    try:
        run(program, lib)
    except Exception as e:  # noqa: BLE001 - the point is to compare them
        return type(e).__name__, str(e)
    return None


def same_error(program):
    expected = error_of(program, torch)
    assert expected is not None
    assert error_of(program, gradlab) == expected


SETUP = """
torch.manual_seed(0)
x = torch.randn(3, dtype=torch.float64)
y = torch.randn(3, dtype=torch.float64)
X = torch.randn(4, 3, dtype=torch.float64)
W = torch.randn(2, 3, dtype=torch.float64)
"""

VALUES = {
    "grad": "print(grad(lambda a: (a.sin() * a).sum())(x))",
    "grad argnums tuple": "print(grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(x, y))",
    "grad argnums -1": "print(grad(lambda a, b: (a * b.exp()).sum(), argnums=-1)(x, y))",
    "grad has_aux": "print(grad(lambda a: ((a ** 2).sum(), a.cos()), has_aux=True)(x))",
    "grad dict": "print(grad(lambda d: (d['w'] @ d['b']).sum())({'w': W, 'b': x}))",
    "grad unused": "print(grad(lambda a, b: a.sum(), argnums=(0, 1))(x, y))",
    "grad constant": "print(grad(lambda a: torch.ones((), dtype=torch.float64))(x))",
    "grad kwargs": "print(grad(lambda a, s=1.0: (a * s).tanh().sum())(x, s=3.0))",
    "grad_and_value": "print(grad_and_value(lambda a: (a.tanh() ** 2).sum())(x))",
    "grad_and_value aux": """
        print(grad_and_value(lambda a: ((a * a).sum(), {'m': a.mean()}), has_aux=True)(x))""",
    "grad of grad": "print(grad(grad(lambda a: a.sin() * a ** 3))(x[0]))",
    "grad grad grad": "print(grad(grad(grad(lambda a: a.exp() * a.sin())))(x[1]))",
    "grad captures": """
        def f(a):
            return grad(lambda b: (a * b).sin())(a)
        print(grad(f)(x[0]))""",
    "vjp": """
        out, fn = vjp(lambda a, b: (a * b, a.sin()), x, y)
        print(out, fn((torch.ones(3, dtype=torch.float64), y)))
        print(fn((x, x)))""",
    "vjp has_aux": """
        out, fn, aux = vjp(lambda a: (a.exp(), a.sum()), x, has_aux=True)
        print(out, fn(y), aux)""",
    "vjp dict": """
        out, fn = vjp(lambda d: {'s': d['a'].sin()}, {'a': x})
        print(out, fn({'s': y}))""",
    "jvp": "print(jvp(lambda a: a.sin() * a, (x,), (y,)))",
    "jvp two inputs": "print(jvp(lambda a, b: (a * b, b.exp()), (x, y), (y, x)))",
    "jvp has_aux": "print(jvp(lambda a: (a.cos(), a.sum()), (x,), (y,), has_aux=True))",
    "jvp constant output": "print(jvp(lambda a: a.detach() * 2, (x,), (y,)))",
    "jacrev": "print(jacrev(lambda a: a.sin() * a.sum())(x))",
    "jacrev matrix": "print(jacrev(lambda w: (w @ x).tanh())(W))",
    "jacrev argnums": "print(jacrev(lambda w, a: (w @ a).tanh(), argnums=(0, 1))(W, x))",
    "jacrev outputs": "print(jacrev(lambda a: {'s': a.sin(), 'm': [a.sum()]})(x))",
    "jacrev has_aux": "print(jacrev(lambda a: (a.exp(), a.max()), has_aux=True)(x))",
    "jacrev scalar input": "print(jacrev(lambda a: torch.stack([a.sin(), a.cos()]))(x[0]))",
    "jacfwd": "print(jacfwd(lambda a: a.sin() * a.sum())(x))",
    "jacfwd matrix": "print(jacfwd(lambda w: (w @ x).tanh())(W))",
    "jacfwd argnums": "print(jacfwd(lambda w, a: (w @ a).tanh(), argnums=(0, 1))(W, x))",
    "jacfwd has_aux": "print(jacfwd(lambda a: (a.exp(), a.max()), has_aux=True)(x))",
    "hessian": "print(hessian(lambda a: (a.sin() * a.sum()).sum())(x))",
    "hessian argnums": "print(hessian(lambda w, a: (w @ a).tanh().sum(), argnums=1)(W, x))",
    "jacrev of jacrev": "print(jacrev(jacrev(lambda a: a.sin() * (a * a).sum()))(x))",
    "jacfwd of jacrev": "print(jacfwd(jacrev(lambda a: a.exp() * a.sum()))(x))",
    "jacrev of jacfwd": "print(jacrev(jacfwd(lambda a: a.exp() * a.sum()))(x))",
    "vmap": "print(vmap(lambda a: a.sin() * a.sum())(X))",
    "vmap in_dims": "print(vmap(lambda a, w: w @ a, in_dims=(1, None))(X.t(), W))",
    "vmap out_dims": "print(vmap(lambda a: a.exp(), out_dims=1)(X))",
    "vmap negative dims": "print(vmap(lambda a: a.sum(), in_dims=-1)(X))",
    "vmap pytrees": """
        r = vmap(lambda d, l: (d['a'] * l[0], {'s': [l[1].sum()]}),
                 in_dims=({'a': 0}, [None, 1]), out_dims=(1, {'s': [0]}))({'a': X}, [y, X.t()])
        print(r)""",
    "vmap None output": "print(vmap(lambda a, n: (a * n, n), in_dims=(0, None),"
                        " out_dims=(0, None))(X, 3))",
    "vmap unbatched output": "print(vmap(lambda a: y)(X))",
    "vmap nested": "print(vmap(vmap(lambda a, b: a * b), in_dims=(0, None))(X, y))",
    "vmap grad": "print(vmap(grad(lambda a: (a.sin() * a).sum()))(X))",
    "vmap jacrev": "print(vmap(jacrev(lambda a: a.sin() * a.sum()))(X))",
    "vmap hessian": "print(vmap(hessian(lambda a: (a.sin() * a.sum()).sum()))(X))",
    "vmap chunk_size": "print(vmap(lambda a: a.sum(), chunk_size=3)(X))",
    "vmap empty": "print(vmap(lambda a: a * 2)(torch.ones(0, 3)))",
    "vmap randomness same": """
        torch.manual_seed(1)
        print(vmap(lambda a: a + torch.rand(3), randomness='same')(torch.zeros(2, 3)))
        print(torch.rand(2))""",
    "vmap in-place on batched": """
        def f(a):
            b = a.clone()
            b.mul_(2)
            b += y
            out = torch.zeros_like(a)
            out.copy_(b)
            return out
        print(vmap(f)(X))""",
    "vmap item on captured": "print(vmap(lambda a: a * y.sum().item())(X))",
    "vmap requires grad": """
        Xr = X.clone().requires_grad_()
        out = vmap(lambda a: (a * a).sum())(Xr)
        out.sum().backward()
        print(out.requires_grad, Xr.grad)""",
    "results do not require grad": """
        print(grad(lambda a: (a ** 3).sum())(x).requires_grad)
        print(jacrev(lambda a: a ** 3)(x).requires_grad, jacfwd(lambda a: a ** 3)(x).requires_grad)
        print(grad_and_value(lambda a: (a ** 3).sum())(x)[1].requires_grad)
        print(x.requires_grad, x.grad)""",
    "results require grad when inputs do": """
        xr = x.clone().requires_grad_()
        g = grad(lambda a: (a ** 3).sum())(xr)
        print(g.requires_grad)
        g.sum().backward()
        print(xr.grad)
        w = y.clone().requires_grad_()
        g = grad(lambda a: (a * w).sin().sum())(x)
        print(g.requires_grad)
        g.sum().backward()
        print(w.grad)""",
    "functional_call": """
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1)).double()
        params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        print(functional_call(model, params, (X,)))
        print(functional_call(model, params, X))
        print(model(X))
        print(grad(lambda p: functional_call(model, p, (X,)).sum())(params))""",
    "functional_call dicts and strict": """
        torch.manual_seed(0)
        model = nn.Linear(3, 2).double()
        w = {'weight': torch.ones(2, 3, dtype=torch.float64)}
        b = {'bias': torch.zeros(2, dtype=torch.float64)}
        print(functional_call(model, (w, b), (x,), strict=True))
        print(functional_call(model, w, args=(), kwargs={'input': x}))""",
    "functional_call tied": """
        class Tied(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(3, 3, bias=False)
                self.b = nn.Linear(3, 3, bias=False)
                self.b.weight = self.a.weight
            def forward(self, v):
                return self.b(self.a(v))
        torch.manual_seed(0)
        m = Tied().double()
        eye = torch.eye(3, dtype=torch.float64)
        print(functional_call(m, {'a.weight': eye * 2}, (x,)))
        print(functional_call(m, {'a.weight': eye * 2}, (x,), tie_weights=False).sub(
            m.b(x * 2)).abs().max() < 1e-12)""",
}


@pytest.mark.parametrize("name", VALUES)
def test_values_match_torch(name):
    same(SETUP + textwrap.dedent(VALUES[name]).strip())


ERRORS = {
    "item": "vmap(lambda a: a.sum().item())(X)",
    "float": "vmap(lambda a: float(a.sum()))(X)",
    "control flow": "vmap(lambda a: a * 2 if a.sum() > 0 else a)(X)",
    "inplace mul_ captured": "vmap(lambda a: y.mul_(a))(X)",
    "inplace copy_ captured": "vmap(lambda a: y.clone().copy_(a))(X)",
    "inplace sub_ derived": "vmap(lambda a: torch.zeros(3, dtype=torch.float64).sub_(a * 2))(X)",
    "inplace add_ captured": "vmap(lambda a: y.add_(a))(X)",
    "inplace fill_": "vmap(lambda a: y.fill_(a.sum()))(X)",
    "inplace setitem": """
        def f(a):
            z = torch.zeros(3, dtype=torch.float64)
            z[0] = a[0]
            return z
        vmap(f)(X)""",
    "random": "vmap(lambda a: a + torch.rand(3))(X)",
    "random dropout": "vmap(lambda a: F.dropout(a, 0.5))(X)",
    "random jacfwd": "jacfwd(lambda a: a + torch.randn(3))(x)",
    "randomness value": "vmap(lambda a: a, randomness='bad')(X)",
    "jacfwd randomness value": "jacfwd(lambda a: a, randomness='x')(x)",
    "chunk_size": "vmap(lambda a: a, chunk_size=0)(X)",
    "batch sizes": "vmap(lambda a, b: a + b)(X, torch.ones(3, 3))",
    "in_dim range": "vmap(lambda a: a, in_dims=2)(X)",
    "in_dim 0-dim": "vmap(lambda a: a)(torch.tensor(1.))",
    "in_dims structure": "vmap(lambda a: a, in_dims=(0, 0))(X)",
    "in_dims nested structure": "vmap(lambda a, b: a, in_dims=(0, [0]))(X, X)",
    "in_dims dict": "vmap(lambda d: d['a'], in_dims=({'a': 0, 'b': 0},))({'a': X})",
    "in_dims type": "vmap(lambda a: a, in_dims='a')(X)",
    "in_dims None": "vmap(lambda a: a, in_dims=None)(X)",
    "in_dim float": "vmap(lambda a: a, in_dims=(1.5,))(X)",
    "in_dim non tensor": "vmap(lambda a: a)(3.0)",
    "no inputs": "vmap(lambda: 1)()",
    "nothing mapped": "vmap(lambda a: a, in_dims=(None,))(X)",
    "out_dims type": "vmap(lambda a: a, out_dims='a')(X)",
    "out_dims structure": "vmap(lambda a: (a, a), out_dims=(0,))(X)",
    "out_dims range": "vmap(lambda a: a, out_dims=2)(X)",
    "returns float": "vmap(lambda a: 3.0)(X)",
    "batched with out_dim None": "vmap(lambda a: a, out_dims=None)(X)",
    "grad non scalar": "grad(lambda a: a)(X)",
    "grad float": "grad(lambda a: 3.0)(x)",
    "grad tuple": "grad(lambda a: (a.sum(), 1))(x)",
    "grad aux": "grad(lambda a: a.sum(), has_aux=True)(x)",
    "grad argnums range": "grad(lambda a: a.sum(), argnums=1)(x)",
    "grad argnums type": "grad(lambda a: a.sum(), argnums=1.5)(x)",
    "grad argnums empty": "grad(lambda a: a.sum(), argnums=())(x)",
    "grad argnums unique": "grad(lambda a, b: a.sum(), argnums=(0, -2))(x, y)",
    "grad non tensor": "grad(lambda a: a * 2)(3.0)",
    "grad integer": "grad(lambda a: a.sum())(torch.ones(3, dtype=torch.long))",
    "grad in-place on input": "grad(lambda a: a.mul_(2).sum())(x)",
    "vjp float": "vjp(lambda a: 3.0, x)",
    "vjp cotangent structure": """
        out, fn = vjp(lambda a: a * 2, x)
        fn((x, x))""",
    "vjp cotangent shape": """
        out, fn = vjp(lambda a: a * 2, x)
        fn(X)""",
    "vjp aux": "vjp(lambda a: a.sum(), x, has_aux=True)",
    "vjp integer output": "vjp(lambda a: a.long(), x)",
    "jvp primals tuple": "jvp(lambda a: a, x, x)",
    "jvp structure": "jvp(lambda a: a, (x,), (x, x))",
    "jvp tangent size": "jvp(lambda a: a, (x,), (X,))",
    "jvp empty": "jvp(lambda a: a, (), ())",
    "jvp output": "jvp(lambda a: 3.0, (x,), (x,))",
    "jvp primal type": "jvp(lambda a: a, (3.0,), (x,))",
    "jvp aux": "jvp(lambda a: a.sum(), (x,), (x,), has_aux=True)",
    "jacrev float": "jacrev(lambda a: 3.0)(x)",
    "jacrev argnums": "jacrev(lambda a: a, argnums=1)(x)",
    "jacrev chunk_size": "jacrev(lambda a: a, chunk_size=0)",
    "jacfwd float": "jacfwd(lambda a: 3.0)(x)",
    "jacfwd aux": "jacfwd(lambda a: a.sum(), has_aux=True)(x)",
    "hessian argnums": "hessian(lambda a: a.sum(), argnums=1)(x)",
    "functional_call strict": """
        m = nn.Linear(3, 2)
        functional_call(m, {'weight': torch.ones(2, 3), 'foo': torch.ones(1)}, (x,),
                        strict=True)""",
    "functional_call repeated": """
        m = nn.Linear(3, 2)
        functional_call(m, ({'weight': torch.ones(2, 3)}, {'weight': torch.ones(2, 3)}), (x,))""",
    "functional_call type": "functional_call(nn.Linear(3, 2), 3, (x,))",
    "functional_call tied": """
        class Tied(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(3, 3)
                self.b = self.a
            def forward(self, v):
                return self.b(v)
        functional_call(Tied(), {'a.weight': torch.ones(3, 3),
                                 'b.weight': torch.zeros(3, 3)}, x)""",
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    same_error(SETUP + textwrap.dedent(ERRORS[name]).strip())


def test_functional_call_restores_after_error():
    program = SETUP + textwrap.dedent("""
        m = nn.Linear(3, 2).double()
        before = m.weight
        try:
            functional_call(m, {'weight': torch.ones(4, 4, dtype=torch.float64)}, (x,))
        except RuntimeError:
            print('raised')
        print(m.weight is before, type(m.weight).__name__)
        print(functional_call(m, {'foo': x}, (x,)).shape, hasattr(m, 'foo'))""")
    assert same(program).startswith("raised")


def test_caller_tensors_untouched():
    x = gradlab.tensor([1., 2.])
    g = gradlab.func.grad(lambda a: (a * a).sum())(x)
    assert not x.requires_grad and x.grad is None and x.grad_fn is None
    assert g.tolist() == [2., 4.]


def test_import_paths():
    import gradlab.func as f
    from gradlab.func import vmap
    assert gradlab.vmap is vmap is f.vmap and gradlab.func.grad is f.grad


# ---- PyTorch's docs and tutorials, run on both ---------------------------------------------------

DOCS_GRAD = """
from torch.func import grad
x = torch.randn([], dtype=torch.float64)
cos_x = grad(lambda x: torch.sin(x))(x)
assert torch.allclose(cos_x, x.cos())
neg_sin_x = grad(grad(lambda x: torch.sin(x)))(x)
assert torch.allclose(neg_sin_x, -x.sin())
print(cos_x, neg_sin_x)

from torch.func import grad, vmap
batch_size, feature_size = 3, 5

def model(weights, feature_vec):
    assert feature_vec.dim() == 1
    return feature_vec.dot(weights).relu()

def compute_loss(weights, example, target):
    y = model(weights, example)
    return ((y - target) ** 2).mean()  # MSELoss

weights = torch.randn(feature_size, requires_grad=True, dtype=torch.float64)
examples = torch.randn(batch_size, feature_size, dtype=torch.float64)
targets = torch.randn(batch_size, dtype=torch.float64)
inputs = (weights, examples, targets)
grad_weight_per_example = vmap(grad(compute_loss), in_dims=(None, 0, 0))(*inputs)
print(grad_weight_per_example.detach(), grad_weight_per_example.requires_grad)  # (grad_fn differs)

def my_loss_func(y, y_pred):
    loss_per_sample = (0.5 * y_pred - y) ** 2
    loss = loss_per_sample.mean()
    return loss, (y_pred, loss_per_sample)

fn = grad(my_loss_func, argnums=(0, 1), has_aux=True)
y_true = torch.rand(4, dtype=torch.float64)
y_preds = torch.rand(4, requires_grad=True, dtype=torch.float64)
out = fn(y_true, y_preds)
print(out)
"""

DOCS_VMAP = """
from torch.func import vmap
torch.manual_seed(0)
x, y = torch.randn(2, 5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
batched_dot = vmap(torch.dot, in_dims=(0, None))
print(batched_dot(x, y))

batch_size, feature_size = 3, 5
weights = torch.randn(feature_size, requires_grad=True, dtype=torch.float64)
def model(feature_vec):
    assert feature_vec.dim() == 1
    return feature_vec.dot(weights).relu()
examples = torch.randn(batch_size, feature_size, dtype=torch.float64)
result = vmap(model)(examples)
print(result.detach(), result.requires_grad)  # (its grad_fn differs: see vmap's docstring)

N = 5
f = lambda x: x ** 2
x = torch.randn(N, requires_grad=True, dtype=torch.float64)
y = f(x)
I_N = torch.eye(N, dtype=torch.float64)
def get_vjp(v):
    return torch.autograd.grad(y, x, v)
jacobian = vmap(get_vjp)(I_N)
print(jacobian)

batched_dot = vmap(vmap(torch.dot))
x, y = torch.randn(2, 3, 5, dtype=torch.float64), torch.randn(2, 3, 5, dtype=torch.float64)
print(batched_dot(x, y))

batched_dot = vmap(torch.dot, in_dims=1)
x, y = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
print(batched_dot(x, y))

f = lambda dict: torch.dot(dict['x'], dict['y'])
x, y = torch.randn(2, 5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
input = {'x': x, 'y': y}
batched_dot = vmap(f, in_dims=({'x': 0, 'y': None},))
print(batched_dot(input))

f = lambda x: x ** 2
x = torch.randn(2, 5, dtype=torch.float64)
batched_pow = vmap(f, out_dims=1)
print(batched_pow(x))

x = torch.randn([2, 5], dtype=torch.float64)
def fn(x, scale=4.):
    return x * scale
batched_pow = vmap(fn)
assert torch.allclose(batched_pow(x), x * 4)
print(batched_pow(x, scale=x))
"""

DOCS_JACREV = """
from torch.func import jacrev, jacfwd, vmap, hessian
from functools import partial
torch.manual_seed(0)
x = torch.randn(5, dtype=torch.float64)
jacobian = jacrev(torch.sin)(x)
print(jacobian)

def f(x):
    x_sin = x.sin()
    return x_sin, x_sin
x = torch.randn(5, dtype=torch.float64)
jacobian, aux = jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
print(jacobian, aux)

x = torch.randn(64, 5, dtype=torch.float64)
jacobian = vmap(jacrev(torch.sin))(x)
print(jacobian.shape)

x = torch.randn(5, dtype=torch.float64)
hessian_ = jacrev(jacrev(torch.sin))(x)
print(hessian_.shape, hessian_.abs().sum())

def f(x, y):
    return x + y ** 2
x, y = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
jacobian = jacrev(f, argnums=1)(x, y)
print(jacobian)
jac_x, jac_y = jacrev(f, argnums=(0, 1))(x, y)
print(jac_x, jac_y)

x = torch.randn(5, dtype=torch.float64)
print(jacfwd(torch.sin)(x))
print(hessian(lambda t: t.sin().sum())(x))
"""

JACOBIANS_HESSIANS = """
from functools import partial
torch.manual_seed(0)

def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()

D = 16
weight = torch.randn(D, D, dtype=torch.float64)
bias = torch.randn(D, dtype=torch.float64)
x = torch.randn(D, dtype=torch.float64)

def compute_jac(xp):
    jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                     for vec in unit_vectors]
    return torch.stack(jacobian_rows)

xp = x.clone().requires_grad_()
unit_vectors = torch.eye(D, dtype=torch.float64)
jacobian = compute_jac(xp)
print(jacobian.shape)
print(jacobian[0])

from torch.func import vmap, vjp
_, vjp_fn = vjp(partial(predict, weight, bias), x)
ft_jacobian, = vmap(vjp_fn)(unit_vectors)
assert torch.allclose(ft_jacobian, jacobian)

from torch.func import jacrev
ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)
assert torch.allclose(ft_jacobian, jacobian)

ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(ft_jac_weight.shape, ft_jac_bias.shape)

from torch.func import jacrev, jacfwd
Din, Dout = 8, 5
weight = torch.randn(Dout, Din, dtype=torch.float64)
bias = torch.randn(Dout, dtype=torch.float64)
x = torch.randn(Din, dtype=torch.float64)
using_fwd = jacfwd(predict, argnums=2)(weight, bias, x)
using_bwd = jacrev(predict, argnums=2)(weight, bias, x)
print(f'jacfwd and jacrev agree: {torch.allclose(using_fwd, using_bwd)}')
print(using_fwd)

from torch.func import hessian
Din = 6
Dout = Din
weight = torch.randn(Dout, Din, dtype=torch.float64)
bias = torch.randn(Dout, dtype=torch.float64)
x = torch.randn(Din, dtype=torch.float64)
hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
print(torch.allclose(hess_api, hess_fwdfwd), torch.allclose(hess_api, hess_revrev))
print(hess_api[0])

batch_size = 4
Din = 3
Dout = 5
weight = torch.randn(Dout, Din, dtype=torch.float64)
bias = torch.randn(Dout, dtype=torch.float64)
x = torch.randn(batch_size, Din, dtype=torch.float64)
compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
batch_jacobian0 = compute_batch_jacobian(weight, bias, x)

def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)

batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, x).transpose(1, 0)
assert torch.allclose(batch_jacobian0, batch_jacobian1)
print(batch_jacobian0[1])

compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
batch_hess = compute_batch_hessian(weight, bias, x)
print(batch_hess.shape)
print(batch_hess[0, 0])

from torch.func import jvp, grad, vjp
def hvp(f, primals, tangents):
    return jvp(grad(f), primals, tangents)[1]

def f(x):
    return x.sin().sum()

x = torch.randn(8, dtype=torch.float64)
tangent = torch.randn(8, dtype=torch.float64)
result = hvp(f, (x,), (tangent,))
print(result)

def hvp_revrev(f, primals, tangents):
    _, vjp_fn = vjp(grad(f), *primals)
    return vjp_fn(*tangents)

result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
assert torch.allclose(result, result_hvp_revrev[0])
print(result_hvp_revrev)
"""

PER_SAMPLE_GRADS = """
torch.manual_seed(0)

class SimpleMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)

def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)

batch_size = 6
data = torch.randn(batch_size, 3, 4, dtype=torch.float64)
targets = torch.randint(4, (batch_size,))
model = SimpleMLP().double()

def compute_grad(sample, target):
    sample = sample.unsqueeze(0)
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))

def compute_sample_grads(data, targets):
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    sample_grads = [torch.stack(shards) for shards in sample_grads]
    return sample_grads

per_sample_grads = compute_sample_grads(data, targets)
print(per_sample_grads[1].shape)

from torch.func import functional_call, vmap, grad
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}

def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss

ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)

for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
print(list(ft_per_sample_grads))
print(ft_per_sample_grads['fc2.bias'])
print(ft_per_sample_grads['fc2.bias'].requires_grad)
"""


@pytest.mark.parametrize("program", [DOCS_GRAD, DOCS_VMAP, DOCS_JACREV, JACOBIANS_HESSIANS,
                                     PER_SAMPLE_GRADS],
                         ids=["grad docs", "vmap docs", "jacrev docs", "jacobians_hessians",
                              "per_sample_grads"])
def test_docs_and_tutorials(program):
    assert same(program).strip()
