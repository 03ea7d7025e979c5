"""Short programs written the way PyTorch autograd lessons, tutorials and Q&A answers are.

Each program is source text that uses the name ``torch`` (never imports it): tests/test_lessons.py
runs it once with real PyTorch and once with gradlab bound to that name and compares the output.
``LESSONS`` maps a readable name to the program.
"""
import textwrap

LESSONS = {}


def lesson(name, code):
    """Register one program under a unique, readable name."""
    if name in LESSONS:
        raise ValueError(f"duplicate lesson name {name!r}")
    LESSONS[name] = textwrap.dedent(code).strip() + "\n"


# ---- creation ---------------------------------------------------------------------------------

lesson("creation_tensor_from_data", r"""
a = torch.tensor(3.0)
b = torch.tensor([1, 2, 3])
c = torch.tensor([[1., 2.], [3., 4.]])
d = torch.tensor([True, False])
e = torch.tensor([1, 2.5])
for t in (a, b, c, d, e):
    print(t, t.dtype, t.shape)
""")

lesson("creation_tensor_keywords", r"""
x = torch.tensor([1, 2], dtype=torch.float64, requires_grad=True)
print(x)
y = torch.tensor([[1, 2], [3, 4]], dtype=torch.float32)
print(y, y.requires_grad)
z = torch.tensor(5, dtype=torch.int32)
print(z, z.dtype)
print(torch.tensor([], dtype=torch.float64))
""")

lesson("creation_legacy_Tensor_constructor", r"""
a = torch.Tensor([1, 2, 3])
print(a, a.dtype)
b = torch.Tensor([[1, 2], [3, 4]])
print(b)
c = torch.Tensor(2, 3)
print(c.shape, c.dtype, c.requires_grad)
d = torch.Tensor([True, False])
print(d)
""")

lesson("creation_from_numpy_shares_memory", r"""
import numpy as np
a = np.array([1.0, 2.0, 3.0])
t = torch.from_numpy(a)
print(t)
a[0] = 10.0
print(t)
t[1] = -1
print(a)
b = np.arange(6).reshape(2, 3)
print(torch.from_numpy(b))
print(torch.from_numpy(np.array([1.5], dtype=np.float32)).dtype)
""")

lesson("creation_as_tensor", r"""
import numpy as np
a = np.array([1, 2, 3])
t = torch.as_tensor(a)
a[0] = 7
print(t, t.dtype)
u = torch.as_tensor([1.0, 2.0])
print(u, u.dtype)
v = torch.as_tensor(a, dtype=torch.float32)
a[1] = 9
print(v)
w = torch.tensor([1., 2.])
print(torch.as_tensor(w) is w)
""")

lesson("creation_zeros_ones_sizes", r"""
print(torch.zeros(2, 3))
print(torch.zeros((2, 3)))
print(torch.zeros(size=(1, 2)))
print(torch.zeros([2]))
print(torch.ones(3, dtype=torch.int64))
print(torch.ones(2, 2, dtype=torch.bool))
print(torch.ones(2, requires_grad=True))
print(torch.zeros(0, 3))
""")

lesson("creation_full", r"""
print(torch.full((2, 2), 7.))
print(torch.full((3,), 7))
print(torch.full((2,), True))
print(torch.full((2, 3), 1.5, dtype=torch.float64))
print(torch.full((1,), -2.0, requires_grad=True))
""")

lesson("creation_empty_shapes_only", r"""
e = torch.empty(2, 3)
print(e.shape, e.dtype, e.requires_grad)
f = torch.empty((4,), dtype=torch.int64)
print(f.shape, f.dtype)
print(torch.empty(0))
print(torch.empty(size=(2, 2)).size())
""")

lesson("creation_like_factories", r"""
x = torch.tensor([[1., 2.], [3., 4.]])
i = torch.tensor([1, 2, 3])
print(torch.zeros_like(x))
print(torch.ones_like(i))
print(torch.full_like(x, 3))
print(torch.full_like(i, 2.7))
print(torch.ones_like(i, dtype=torch.float32))
print(torch.zeros_like(x, requires_grad=True))
""")

lesson("creation_arange", r"""
print(torch.arange(5))
print(torch.arange(1, 4))
print(torch.arange(0, 1, 0.25))
print(torch.arange(5.))
print(torch.arange(0, 10, 3))
print(torch.arange(10, 0, -3))
print(torch.arange(3, dtype=torch.float64))
print(torch.arange(1, 2.5, 0.5).dtype)
""")

lesson("creation_linspace_eye", r"""
print(torch.linspace(0, 1, 5))
print(torch.linspace(-1, 1, steps=3))
print(torch.linspace(0, 10, 4))
print(torch.eye(3))
print(torch.eye(2, 3))
print(torch.eye(2, dtype=torch.int64))
""")

lesson("creation_rand_randn_seeded", r"""
torch.manual_seed(0)
print(torch.rand(3))
print(torch.randn(2, 3))
print(torch.rand(2, 2, dtype=torch.float64))
""")

lesson("creation_randint_seeded", r"""
torch.manual_seed(42)
print(torch.randint(0, 10, (5,)))
print(torch.randint(5, (2, 3)))
print(torch.randint(low=1, high=7, size=(4,)))
""")

lesson("creation_manual_seed_reproducible", r"""
torch.manual_seed(123)
a = torch.rand(4)
torch.manual_seed(123)
b = torch.rand(4)
print(torch.equal(a, b), a.shape, a.dtype)
c = torch.rand(4)
print(torch.equal(a, c))
print(bool(((a >= 0) & (a < 1)).all()))
r = torch.randn(100)
print(r.shape, r.dtype)
""")

lesson("creation_random_requires_grad_seeded", r"""
torch.manual_seed(1)
w = torch.randn(3, 2, requires_grad=True)
b = torch.zeros(2, requires_grad=True)
x = torch.ones(3)
y = x @ w + b
print(w)
print(y)
y.sum().backward()
print(w.grad)
print(b.grad)
""")

# ---- dtypes -----------------------------------------------------------------------------------

lesson("dtype_inference_from_python", r"""
print(torch.tensor(1.5).dtype)
print(torch.tensor(2).dtype)
print(torch.tensor(True).dtype)
print(torch.tensor([1, 2.0]).dtype)
print(torch.tensor([[True], [False]]).dtype)
print(torch.float32, torch.float64, torch.int64, torch.bool)
print(torch.float is torch.float32, torch.double is torch.float64, torch.long is torch.int64)
print(torch.get_default_dtype())
""")

lesson("dtype_conversions", r"""
x = torch.tensor([1.7, -2.3, 0.0])
print(x.long())
print(x.int())
print(x.double())
print(x.bool())
print(x.to(torch.float64))
print(x.to(dtype=torch.int64))
print(torch.tensor([1, 2]).float())
print(x.float() is x)
print(x.type())
""")

lesson("dtype_promotion_rules", r"""
i = torch.tensor([1, 2, 3])
f = torch.tensor([1., 2., 3.])
print(i * 2.5, (i * 2.5).dtype)
print(i / 2, (i / 2).dtype)
print(i / i)
print(i // 2)
print((i + f).dtype)
d0 = torch.tensor(2.0, dtype=torch.float64)
print((f * d0).dtype)
d1 = torch.tensor([2.0], dtype=torch.float64)
print((f * d1).dtype)
b = torch.tensor([True, False, True])
print(b + 1, (b + 1).dtype)
print(b + b)
print((b * 1.5).dtype)
print(torch.promote_types(torch.int64, torch.float32))
""")

lesson("dtype_int_tensor_cannot_require_grad", r"""
try:
    torch.tensor([1, 2, 3], requires_grad=True)
except RuntimeError as e:
    print(type(e).__name__, e)
x = torch.tensor([1, 2, 3])
try:
    x.requires_grad_()
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    x.requires_grad = True
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.zeros(2, dtype=torch.int64, requires_grad=True)
except RuntimeError as e:
    print(type(e).__name__, e)
print(x.float().requires_grad_())
""")

lesson("dtype_grad_through_conversion", r"""
x = torch.tensor([1.5, 2.5], requires_grad=True)
y = x.double() * 2
print(y)
y.sum().backward()
print(x.grad, x.grad.dtype)
z = x.long()
print(z, z.requires_grad, z.grad_fn)
""")

lesson("dtype_mixed_precision_grads", r"""
a = torch.tensor([1., 2.], requires_grad=True)
b = torch.tensor([3., 4.], dtype=torch.float64, requires_grad=True)
c = a * b
print(c)
c.sum().backward()
print(a.grad)
print(b.grad)
""")

# ---- printing ---------------------------------------------------------------------------------

lesson("print_zero_dim", r"""
print(torch.tensor(3.))
print(torch.tensor(3.5))
print(torch.tensor(-0.))
print(torch.tensor(1))
print(torch.tensor(True))
print(torch.tensor(1/3))
print(torch.tensor(1e-8))
print(torch.tensor(123456789.0))
print(repr(torch.tensor(2.0, dtype=torch.float64)))
""")

lesson("print_integer_valued_and_mixed_floats", r"""
print(torch.tensor([1., 2., 3.]))
print(torch.tensor([1., 2.5, 3.]))
print(torch.tensor([-1., 10., 100.]))
print(torch.tensor([0.1, 0.25, 1/3]))
print(torch.tensor([[1., -2.], [30., 4.]]))
print(torch.tensor([float('inf'), float('-inf'), float('nan'), 1.]))
""")

lesson("print_scientific_mode", r"""
print(torch.tensor([1e-5, 1.0]))
print(torch.tensor([1e10, 1.0]))
print(torch.tensor([0.0001, 1000.]))
print(torch.tensor([1e-10, 2e-10]))
print(torch.tensor([12345678., 1.5]))
print(torch.tensor([1.0e5, 2.5]))
""")

lesson("print_summarised_large", r"""
print(torch.arange(2000.))
print(torch.arange(3000).reshape(30, 100))
print(torch.ones(1001))
print(torch.arange(1000))
""")

lesson("print_nested_indentation", r"""
x = torch.arange(24.).reshape(2, 3, 4)
print(x)
print(torch.arange(16).reshape(2, 2, 2, 2))
print(torch.zeros(1, 1, 2))
""")

lesson("print_suffixes", r"""
x = torch.tensor([1., 2.], requires_grad=True)
print(x)
print(x * 2)
print(torch.tensor([1., 2.], dtype=torch.float64))
print(torch.tensor([1, 2], dtype=torch.int32))
print(torch.tensor([1, 2]))
print(torch.tensor([], dtype=torch.int64))
print(torch.zeros(0, 3))
print(torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True) + 1)
print(x.sum())
""")

lesson("print_torch_size", r"""
x = torch.zeros(2, 3, 4)
print(x.shape)
print(x.size())
print(x.shape[0], x.size(1), x.size(-1))
print(list(x.shape), tuple(x.shape))
print(x.shape == (2, 3, 4), x.shape == torch.Size([2, 3, 4]))
print(torch.Size([5]))
print(torch.Size([]))
print(x.shape[1:])
print(x.numel(), x.shape.numel())
""")

lesson("print_set_printoptions", r"""
x = torch.tensor([1.123456789, 2.5, 1000.25])
torch.set_printoptions(precision=2)
print(x)
torch.set_printoptions(sci_mode=True)
print(x)
torch.set_printoptions(precision=4, sci_mode=False)
print(torch.tensor([1e-6, 1.0]))
torch.set_printoptions(threshold=5, edgeitems=2)
print(torch.arange(10))
torch.set_printoptions(profile="default")
print(x)
print(torch.arange(10))
""")

lesson("print_str_format_and_lists", r"""
x = torch.tensor([1.5, 2.0])
print(str(x) == repr(x))
print(f"x = {x}")
print(f"{x.sum().item():.3f}")
print(f"{torch.tensor(2.5):.2f}")
print([torch.tensor(1.), torch.tensor(2)])
print((torch.tensor(1.), torch.tensor([2, 3])))
print({'w': torch.tensor([0.5])})
""")

# ---- attributes -------------------------------------------------------------------------------

lesson("attr_shape_dim_numel", r"""
x = torch.arange(6.).reshape(2, 3)
print(x.shape, x.size(), x.dim(), x.ndim, x.numel(), x.dtype)
print(x.T)
print(x.T.shape)
print(len(x), len(x[0]))
s = torch.tensor(5.)
print(s.shape, s.dim(), s.numel())
try:
    len(s)
except TypeError as e:
    print(type(e).__name__, e)
""")

lesson("attr_item_tolist", r"""
x = torch.tensor([[1., 2.], [3., 4.]])
print(x.tolist())
print(x[0, 1].item(), type(x[0, 1].item()).__name__)
print(torch.tensor([7]).item(), type(torch.tensor([7]).item()).__name__)
print(torch.tensor(True).item())
print(torch.tensor(2.5).tolist())
try:
    x.item()
except RuntimeError as e:
    print(type(e).__name__, e)
loss = (x ** 2).sum()
print(loss.item())
""")

lesson("attr_numpy_and_requires_grad_error", r"""
x = torch.tensor([1., 2.], requires_grad=True)
try:
    x.numpy()
except RuntimeError as e:
    print(type(e).__name__, e)
a = x.detach().numpy()
print(a, a.dtype)
y = torch.tensor([1, 2])
n = y.numpy()
n[0] = 5
print(y)
print(type(n).__name__)
""")

lesson("attr_data", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
d = x.data
print(d, d.requires_grad, d.is_leaf)
d[0] = 10.
print(x)
y = x * 2
print(y.data)
x.data = torch.tensor([0., 0., 0.])
print(x)
x.data.mul_(2)
print(x.requires_grad)
""")

lesson("attr_clone", r"""
x = torch.tensor([1., 2.], requires_grad=True)
c = x.clone()
print(c)
print(c.is_leaf, c.requires_grad)
c.sum().backward()
print(x.grad)
p = torch.tensor([1, 2])
q = p.clone()
q[0] = 9
print(p, q)
""")

lesson("attr_requires_grad_setter", r"""
x = torch.tensor([1., 2.])
print(x.requires_grad)
x.requires_grad = True
print(x.requires_grad, x)
y = x * 2
print(y.requires_grad)
try:
    y.requires_grad = False
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    y.requires_grad = True
except RuntimeError as e:
    print(type(e).__name__, e)
print(y.requires_grad_() is y)
try:
    y.requires_grad_(False)
except RuntimeError as e:
    print(type(e).__name__, e)
x.requires_grad_(False)
print(x)
z = torch.ones(2).requires_grad_()
print(z)
""")

lesson("attr_is_leaf", r"""
a = torch.rand(10, requires_grad=True)
print(a.is_leaf)
b = torch.rand(10, requires_grad=True) * 2
print(b.is_leaf)
c = torch.ones(10) * 2
print(c.is_leaf)
d = torch.ones(10).double()
print(d.is_leaf)
e = torch.ones(10, requires_grad=True).detach()
print(e.is_leaf)
f = torch.ones(10).requires_grad_()
print(f.is_leaf)
""")

lesson("attr_grad_setter", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
print(x.grad)
x.grad = torch.ones(3)
print(x.grad)
(x * 2).sum().backward()
print(x.grad)
x.grad = None
print(x.grad)
try:
    x.grad = torch.ones(2)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    x.grad = torch.ones(3, dtype=torch.float64)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("attr_nonleaf_grad_warning", r"""
import warnings
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3
y.sum().backward()
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    g = y.grad
print(g)
for item in w:
    print(item.category.__name__, item.message)
""")

lesson("attr_grad_fn", r"""
x = torch.tensor([1., 2.], requires_grad=True)
print(x.grad_fn)
y = x * 2
print(type(y.grad_fn).__name__, y.grad_fn.name())
z = y.sum()
print(z.grad_fn.name())
w = torch.tensor([1., 2.]) * 2
print(w.grad_fn)
print(y.grad_fn)
""")

lesson("attr_version_counter", r"""
x = torch.tensor([1., 2., 3.])
print(x._version)
x.add_(1)
print(x._version)
x[0] = 5
print(x._version)
v = x[1:]
v.mul_(2)
print(x._version, v._version)
x += 1
print(x._version)
y = x + 1
print(y._version)
""")

lesson("attr_bool_float_int_of_one_element", r"""
print(bool(torch.tensor([1.])), bool(torch.tensor(0)))
print(float(torch.tensor([2.5])), int(torch.tensor(3.9)))
x = torch.tensor([1., 2.])
try:
    bool(x)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    float(x)
except ValueError as e:
    print(type(e).__name__, e)
try:
    int(torch.tensor([]))
except ValueError as e:
    print(type(e).__name__, e)
if torch.tensor(3.) > 2:
    print("greater")
print(x.sum() > 2)
""")

lesson("attr_iteration", r"""
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
for row in x:
    print(row)
for v in torch.tensor([5, 6]):
    print(v, v.shape)
print(list(torch.arange(3)))
try:
    for v in torch.tensor(1.):
        pass
except TypeError as e:
    print(type(e).__name__, e)
""")

# ---- ops ----------------------------------------------------------------------------------------

lesson("ops_arithmetic_with_numbers", r"""
x = torch.tensor([1., 2., 4.])
print(x + 1, 1 + x)
print(x - 1, 1 - x)
print(x * 2, 2 * x)
print(x / 2, 2 / x)
print(x ** 2, 2 ** x)
print(-x)
print(x % 3)
print(x // 3)
""")

lesson("ops_broadcasting", r"""
a = torch.tensor([[1.], [2.], [3.]])
b = torch.tensor([10., 20., 30., 40.])
print(a + b)
print((a * b).shape)
c = torch.ones(2, 1, 3)
d = torch.arange(4.).reshape(4, 1)
print((c + d).shape)
print(torch.tensor([1., 2.]) ** torch.tensor([[2.], [3.]]))
try:
    torch.ones(2, 3) + torch.ones(4)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.ones(2, 3) * torch.ones(3, 2)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("ops_unary_math", r"""
x = torch.tensor([-1.5, 0.5, 2.0])
print(torch.neg(x), x.abs())
print(torch.exp(x))
print(x.abs().log())
print(torch.sqrt(x.abs()))
print(torch.sin(x), x.cos())
print(torch.tanh(x))
print(torch.sigmoid(x), x.sigmoid())
print(torch.relu(x), x.relu())
print(torch.log(torch.tensor([-1., 0.])))
""")

lesson("ops_clamp_maximum_minimum_where", r"""
x = torch.tensor([-2., -0.5, 0.5, 3.])
print(x.clamp(-1, 1))
print(torch.clamp(x, min=0))
print(x.clamp(max=0.))
y = torch.tensor([0., 0., 1., 1.])
print(torch.maximum(x, y), torch.minimum(x, y))
print(torch.where(x > 0, x, y))
print(torch.where(x > 0, x, 0.))
print(torch.where(x > 0))
""")

lesson("ops_matmul_forms", r"""
a = torch.tensor([[1., 2.], [3., 4.]])
v = torch.tensor([1., -1.])
print(a @ a)
print(a @ v)
print(v @ v)
print(torch.matmul(a, v))
print(torch.mm(a, a.t()))
print(torch.mv(a, v))
print(torch.dot(v, v))
print(a.mm(a), a.mv(v), v.dot(v))
batch = torch.ones(3, 2, 2)
print((batch @ a).shape, (batch @ v).shape)
""")

lesson("ops_matmul_errors", r"""
for f in (lambda: torch.ones(2, 3) @ torch.ones(2, 3),
          lambda: torch.mm(torch.ones(2, 3), torch.ones(4, 2)),
          lambda: torch.mv(torch.ones(2, 3), torch.ones(2)),
          lambda: torch.dot(torch.ones(2), torch.ones(3)),
          lambda: torch.ones(3) @ torch.ones(4)):
    try:
        f()
    except RuntimeError as e:
        print(type(e).__name__, e)
""")

lesson("ops_reductions", r"""
x = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
print(x.sum(), x.sum(0), x.sum(dim=1), x.sum(1, keepdim=True))
print(x.mean(), x.mean(0), x.mean(dim=1, keepdim=True))
print(x.prod(), x.prod(1))
print(torch.sum(x, dim=(0, 1)))
print(x.sum(-1))
print(torch.tensor([1, 2, 3]).sum(), torch.tensor([True, True]).sum())
try:
    torch.tensor([1, 2]).mean()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("ops_max_min_argmax", r"""
x = torch.tensor([[1., 5., 3.], [4., 2., 6.]])
print(x.max(), x.min())
print(x.max(dim=1))
values, indices = x.min(0)
print(values, indices)
print(torch.max(x, 1, keepdim=True))
print(x.argmax(), x.argmin(), x.argmax(dim=0), torch.argmin(x, dim=1, keepdim=True))
print(torch.max(x, torch.tensor(4.)))
print(x.max(1).values, x.max(1)[1])
""")

lesson("ops_norm_var_std", r"""
x = torch.tensor([[1., 2.], [3., 4.]])
print(x.norm(), torch.norm(x), x.norm(p=1), x.norm(dim=1))
print(x.var(), x.std())
print(x.var(0), x.std(dim=1, keepdim=True))
print(x.var(unbiased=False), x.std(correction=0))
print(torch.var(x, dim=1))
""")

lesson("ops_softmax_log_softmax", r"""
x = torch.tensor([[1., 2., 3.], [1., 1., 1.]])
print(torch.softmax(x, dim=1))
print(x.softmax(0))
print(torch.log_softmax(x, dim=-1))
print(x.log_softmax(1).exp().sum(1))
""")

lesson("ops_indexing_basic", r"""
x = torch.arange(12.).reshape(3, 4)
print(x[0])
print(x[-1, 2])
print(x[:, 1])
print(x[1:, ::2])
print(x[None].shape, x[:, None].shape)
print(x[..., 0])
print(x[0, ...].shape)
print(x[1][2])
try:
    x[3]
except IndexError as e:
    print(type(e).__name__, e)
""")

lesson("ops_indexing_advanced", r"""
x = torch.arange(12.).reshape(3, 4)
print(x[[0, 2]])
print(x[torch.tensor([2, 0]), torch.tensor([1, 3])])
print(x[x > 5])
mask = torch.tensor([True, False, True])
print(x[mask])
print(x[:, [0, 0, 3]])
print(x[torch.tensor(1)])
""")

lesson("ops_index_assignment", r"""
x = torch.zeros(3, 4)
x[0] = 1
x[1, 2] = 5.
x[:, 3] = torch.tensor([7., 8., 9.])
x[2, :2] = torch.tensor([-1., -2.])
print(x)
x[x > 4] = 0
print(x)
x[[0, 1], [0, 1]] = 3.
print(x)
y = torch.arange(5)
y[1:3] = 2.7
print(y)
""")

lesson("ops_reshape_view_flatten", r"""
x = torch.arange(6.)
print(x.reshape(2, 3))
print(x.view(3, -1))
print(x.view(-1, 2).shape)
print(x.reshape(2, 3).flatten())
print(torch.flatten(torch.ones(2, 3, 4), 1).shape)
try:
    x.view(4, 4)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    x.reshape(-1, -1)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("ops_squeeze_unsqueeze_transpose_permute", r"""
x = torch.zeros(2, 1, 3)
print(x.squeeze().shape, x.squeeze(1).shape, x.squeeze(0).shape)
print(x.unsqueeze(0).shape, torch.unsqueeze(x, -1).shape)
print(x.transpose(0, 2).shape, torch.transpose(x, 1, 2).shape)
print(x.permute(2, 0, 1).shape)
m = torch.arange(6).reshape(2, 3)
print(m.t())
print(m.T, m.transpose(0, 1))
print(m.permute(1, 0))
""")

lesson("ops_view_of_transpose_error", r"""
m = torch.arange(6.).reshape(2, 3)
t = m.t()
print(t.is_contiguous())
try:
    t.view(-1)
except RuntimeError as e:
    print(type(e).__name__, e)
print(t.reshape(-1))
print(t.contiguous().view(-1))
""")

lesson("ops_expand", r"""
x = torch.tensor([[1.], [2.]])
print(x.expand(2, 3))
print(x.expand(-1, 4).shape)
y = torch.tensor([1., 2., 3.])
print(y.expand(2, 3))
try:
    y.expand(2, 2)
except RuntimeError as e:
    print(type(e).__name__, e)
w = torch.tensor([1., 2.], requires_grad=True)
e = w.expand(3, 2)
print(e)
e.sum().backward()
print(w.grad)
""")

lesson("ops_cat_stack", r"""
a = torch.tensor([[1., 2.]])
b = torch.tensor([[3., 4.]])
print(torch.cat([a, b]))
print(torch.cat((a, b), dim=1))
print(torch.stack([a, b]).shape)
print(torch.stack([a[0], b[0]], dim=1))
try:
    torch.cat([a, torch.ones(1, 3)])
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.stack([a, torch.ones(1, 3)])
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("ops_comparisons_bool_tensors", r"""
x = torch.tensor([1., 2., 3.])
y = torch.tensor([3., 2., 1.])
print(x > 1, x >= 2, x < y, x <= y, x == y, x != y)
print(torch.eq(x, 2), x.gt(1), torch.lt(x, y))
print((x > 1).sum(), (x > 1).dtype)
print((x > 1).any(), (x > 5).all())
print(torch.equal(x, x.clone()), torch.allclose(x, x + 1e-9))
print((x > 1) & (x < 3), (x < 2) | (x > 2), ~(x > 1))
print((x > 1).float())
""")

lesson("ops_function_forms_and_methods", r"""
x = torch.tensor([1., 2.])
y = torch.tensor([3., 4.])
print(torch.add(x, y), x.add(y), torch.add(x, y, alpha=2))
print(torch.sub(x, y), x.sub(y), torch.mul(x, y), x.mul(2))
print(torch.div(x, y), x.div(2), torch.pow(x, 2), x.pow(y))
print(torch.exp(x), x.exp(), torch.sum(x), x.sum())
print(torch.mean(x), torch.abs(-x), torch.square(x))
print(torch.div(torch.tensor([7., -7.]), 2, rounding_mode="floor"))
""")

lesson("ops_autograd_through_indexing", r"""
x = torch.arange(6., requires_grad=True)
y = x.reshape(2, 3)
z = y[:, 1:] * y[0, 0]
print(z)
z.sum().backward()
print(x.grad)
w = torch.tensor([1., 2., 3.], requires_grad=True)
picked = w[torch.tensor([0, 0, 2])]
print(picked)
picked.sum().backward()
print(w.grad)
m = torch.tensor([1., -2., 3.], requires_grad=True)
m[m > 0].sum().backward()
print(m.grad)
""")

lesson("ops_autograd_through_shapes", r"""
x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
a = x.t().reshape(3, 2)
b = x.unsqueeze(0).squeeze(0).permute(1, 0)
c = torch.cat([a, b], dim=1) * torch.arange(4.)
print(c)
c.sum().backward()
print(x.grad)
s = torch.stack([x[0], x[1] ** 2])
print(s)
""")

lesson("ops_autograd_reductions", r"""
x = torch.tensor([[1., 5.], [3., 2.]], requires_grad=True)
for f in (lambda t: t.max(), lambda t: t.max(dim=1).values.sum(), lambda t: t.prod(),
          lambda t: t.norm(), lambda t: t.var(), lambda t: t.std(dim=0).sum(),
          lambda t: t.softmax(dim=1)[:, 0].sum(), lambda t: t.log_softmax(0)[0, 1],
          lambda t: t.mean(dim=0, keepdim=True).sum()):
    x.grad = None
    out = f(x)
    out.backward()
    print(out, x.grad)
""")

lesson("ops_autograd_unary", r"""
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg"):
    x.grad = None
    y = getattr(torch, name)(x)
    y.sum().backward()
    print(name, y.grad_fn.name(), x.grad)
""")

lesson("ops_autograd_clamp_where_maximum", r"""
x = torch.tensor([-2., 0.5, 3.], requires_grad=True)
y = torch.tensor([1., 1., 1.], requires_grad=True)
out = x.clamp(-1, 1).sum() + torch.maximum(x, y).sum() + torch.where(x > 0, x * y, y).sum()
print(out)
out.backward()
print(x.grad, y.grad)
m = torch.minimum(x, y)
print(m.grad_fn)
""")

# ---- in-place -----------------------------------------------------------------------------------

lesson("inplace_methods_on_plain_tensors", r"""
x = torch.tensor([1., 2., 3.])
print(x.add_(1))
print(x.sub_(0.5))
print(x.mul_(2))
print(x.div_(4))
print(x.clamp_(0.8, 1.5))
print(x.fill_(7))
print(x.zero_())
print(x.add_(torch.tensor([1., 2., 3.]), alpha=10))
y = x.mul_(2)
print(y is x)
""")

lesson("inplace_operators_keep_identity", r"""
x = torch.tensor([1., 2.])
ident = id(x)
x += 1
x -= 0.5
x *= 4
x /= 2
print(x, id(x) == ident)
i = torch.tensor([1, 2])
i *= 3
print(i)
try:
    i /= 2
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    i += 0.5
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("inplace_leaf_errors", r"""
x = torch.ones(3, requires_grad=True)
for f in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(0)):
    try:
        f()
    except RuntimeError as e:
        print(type(e).__name__, e)
try:
    x += 1
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    x[0] = 5
except RuntimeError as e:
    print(type(e).__name__, e)
print(x)
""")

lesson("inplace_view_of_leaf_error", r"""
x = torch.ones(4, requires_grad=True)
v = x[:2]
try:
    v.mul_(2)
except RuntimeError as e:
    print(type(e).__name__, e)
w = x.view(2, 2)
try:
    w += 1
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("inplace_modified_saved_tensor_error", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x.exp()
y.add_(1)
try:
    y.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)
a = torch.tensor([1., 2.], requires_grad=True)
b = a * 2
c = b * b
b.mul_(3)
try:
    c.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("inplace_sigmoid_saved_result_error", r"""
x = torch.tensor([0., 1.], requires_grad=True)
y = torch.sigmoid(x)
z = y * 1
y.mul_(2)
try:
    z.sum().backward()
    y.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("inplace_on_nonleaf_ok", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x * 2
y.add_(1)
print(y, y._version)
y.mul_(y.detach().clone())
print(y)
y.sum().backward()
print(x.grad)
z = x + 0
z[1] = 0.
print(z)
z.sum().backward()
print(x.grad)
""")

lesson("inplace_relu_on_nonleaf", r"""
x = torch.tensor([-1., 2.], requires_grad=True)
h = x * 3
h.relu_()
print(h)
h.sum().backward()
print(x.grad)
""")

lesson("inplace_setitem_on_nonleaf_copyslices", r"""
x = torch.tensor([1., 2., 3., 4.], requires_grad=True)
y = x.clone()
y[0] = 10.
y[1:3] *= 2
print(y)
print(y.grad_fn.name())
y.sum().backward()
print(x.grad)
a = torch.zeros(3)
b = torch.tensor([5.], requires_grad=True)
a[1] = b[0] * 2
print(a)
a.sum().backward()
print(b.grad)
""")

lesson("inplace_under_no_grad_on_leaf", r"""
w = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    w.add_(1)
    w *= 2
    w[0] = 0.
print(w, w.is_leaf, w.grad_fn)
(w * w).sum().backward()
print(w.grad)
""")

# ---- autograd: grad_fn names ------------------------------------------------------------------

lesson("gradfn_names_pow_add_sub_div", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = torch.tensor([3., 4.], requires_grad=True)
print((x ** 2).grad_fn)
print((x ** y).grad_fn)
print((2 ** x).grad_fn)
print((x + 1).grad_fn, (1 + x).grad_fn, (x + y).grad_fn)
print((x - 1).grad_fn, (1 - x).grad_fn, (x - y).grad_fn)
print((x * 2).grad_fn, (2 * x).grad_fn, (x * y).grad_fn)
print((x / 2).grad_fn, (2 / x).grad_fn, (x / y).grad_fn)
print((-x).grad_fn, x.pow(3).grad_fn, torch.pow(2., x).grad_fn)
""")

lesson("gradfn_names_reductions_and_shapes", r"""
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
print(x.sum().grad_fn, x.sum(0).grad_fn)
print(x.mean().grad_fn, x.mean(1).grad_fn)
print(x.T.grad_fn, x.t().grad_fn, x.transpose(0, 1).grad_fn, x.permute(1, 0).grad_fn)
print(x[0].grad_fn, x[0:1].grad_fn, x[:, 0].grad_fn, x[0, 0].grad_fn)
print(x.reshape(4).grad_fn, x.view(4).grad_fn, x.flatten().grad_fn)
print((x @ x).grad_fn, (x[0] @ x[1]).grad_fn, (x @ x[0]).grad_fn)
print(x.unsqueeze(0).grad_fn, x.squeeze().grad_fn, x.expand(2, 2, 2).grad_fn)
print(torch.cat([x, x]).grad_fn, torch.stack([x, x]).grad_fn)
print(x.max().grad_fn, x.max(0).values.grad_fn, x.prod().grad_fn)
""")

lesson("gradfn_names_elementwise", r"""
x = torch.tensor([0.5, 1.5], requires_grad=True)
for y in (x.exp(), x.log(), x.sqrt(), x.sin(), x.cos(), x.tanh(), x.sigmoid(), x.relu(),
          x.abs(), x.clamp(0, 1), x.clamp(min=1), torch.maximum(x, x), torch.where(x > 1, x, 0.),
          x.softmax(0), x.log_softmax(0), x.norm(), x.var(), x.std(), x.clone(), x.double(),
          x[[0, 1]], x[x > 1], x.dot(x)):
    print(y.grad_fn.name())
""")

lesson("gradfn_next_functions", r"""
x = torch.tensor(2.0, requires_grad=True)
w = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(1.0)
y = w * x + b
print(y.grad_fn)
print(y.grad_fn.next_functions)
mul = y.grad_fn.next_functions[0][0]
print(mul, mul.next_functions)
print(type(mul.next_functions[0][0]).__name__)
z = (x ** 2).sum()
print(z.grad_fn.next_functions[0][0].next_functions)
""")

lesson("gradfn_accumulate_grad_variable", r"""
a = torch.tensor([1., 2.], requires_grad=True)
b = a * 2
acc = b.grad_fn.next_functions[0][0]
print(acc.name())
print(acc.variable)
print(acc.variable is a)
c = b.sum()
print(c.grad_fn.next_functions[0][0].next_functions[0][0].variable is a)
""")

lesson("gradfn_walk_the_graph", r"""
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([0.5, -1.], requires_grad=True)
loss = ((x * w).sum() - 1) ** 2

def walk(fn, depth=0):
    print("  " * depth + (fn.name() if fn is not None else "None"))
    if fn is not None:
        for nxt, idx in fn.next_functions:
            walk(nxt, depth + 1)

walk(loss.grad_fn)
""")

lesson("gradfn_saved_tensors", r"""
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
y = x * w
print(y.grad_fn._saved_self, y.grad_fn._saved_other)
print(y.grad_fn._saved_self is x)
p = x ** 3
print(p.grad_fn._saved_exponent, p.grad_fn._saved_self)
e = x.exp()
print(e.grad_fn._saved_result)
print(e.grad_fn._saved_result.equal(e))
s = torch.sigmoid(x)
print(s.grad_fn._saved_result)
t = x.tanh()
print(t.grad_fn._saved_result)
""")

lesson("gradfn_saved_more", r"""
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
print(x.sum(0).grad_fn._saved_self_sym_sizes)
print(x.mean(1).grad_fn._saved_dim, x.mean(1).grad_fn._saved_keepdim)
print(x.reshape(4).grad_fn._saved_self_sym_sizes)
print(x.transpose(0, 1).grad_fn._saved_dim0, x.transpose(0, 1).grad_fn._saved_dim1)
print(x.permute(1, 0).grad_fn._saved_dims)
print(x[1].grad_fn._saved_index, x[1].grad_fn._saved_dim)
m = x @ x
print(m.grad_fn._saved_self is x, m.grad_fn._saved_mat2 is x)
d = x / 2
print(d.grad_fn._saved_other)
""")

lesson("gradfn_saved_tensors_freed", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * x
z = y.sum()
z.backward()
try:
    y.grad_fn._saved_self
except RuntimeError as e:
    print(type(e).__name__, e)
a = x.exp()
a.sum().backward(retain_graph=True)
print(a.grad_fn._saved_result)
""")

lesson("gradfn_node_hooks", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3
z = y.sum()

def pre(grad_outputs):
    print("prehook", grad_outputs)

def post(grad_inputs, grad_outputs):
    print("hook", grad_inputs, grad_outputs)

h1 = y.grad_fn.register_prehook(pre)
h2 = y.grad_fn.register_hook(post)
z.backward(retain_graph=True)
print(x.grad)
h1.remove()
h2.remove()
z.backward()
print(x.grad)
""")

lesson("gradfn_node_hook_replaces", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x ** 2
y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 100,))
y.sum().backward()
print(x.grad)
a = torch.tensor([1., 2.], requires_grad=True)
b = a * 5
b.grad_fn.register_prehook(lambda go: (go[0] * 10,))
b.sum().backward()
print(a.grad)
""")

lesson("gradfn_metadata", r"""
x = torch.tensor(1., requires_grad=True)
y = x * 2
print(y.grad_fn.metadata)
y.grad_fn.metadata["name"] = "double"
print(y.grad_fn.metadata)
print(y.grad_fn.metadata["name"])
""")

# ---- autograd: backward and grad --------------------------------------------------------------

lesson("backward_with_gradient_vector", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x * 2
y.backward(torch.tensor([0.1, 1.0, 0.0001]))
print(x.grad)
x.grad = None
y = x ** 2
y.backward(gradient=torch.ones_like(y))
print(x.grad)
""")

lesson("backward_retain_graph_and_second_time_error", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = (x * x).sum()
y.backward(retain_graph=True)
print(x.grad)
y.backward()
print(x.grad)
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("backward_twice_x_plus_x_works", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = (x + x).sum()
y.backward()
y.backward()
print(x.grad)
z = (x * 2).sum()
z.backward()
try:
    z.backward()
except RuntimeError as e:
    print("x * 2 saves the wrapped 2:", type(e).__name__)
print(x.grad)
w = (x * x).sum()
w.backward()
try:
    w.backward()
except RuntimeError as e:
    print(type(e).__name__, str(e)[:60])
""")

lesson("backward_autograd_backward_function", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y1 = x * 2
y2 = x ** 2
torch.autograd.backward([y1, y2], [torch.ones(2), torch.tensor([1., 0.5])])
print(x.grad)
x.grad = None
y1, y2 = x * 2, x ** 2
torch.autograd.backward(y1.sum() + y2.sum(), retain_graph=True)
print(x.grad)
""")

lesson("backward_inputs_argument", r"""
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
y = (x * w).sum()
y.backward(inputs=[w], retain_graph=True)
print(x.grad, w.grad)
y.backward(inputs=x)
print(x.grad, w.grad)
""")

lesson("autograd_grad_basic", r"""
x = torch.tensor(3.0, requires_grad=True)
y = x ** 3
(dy,) = torch.autograd.grad(y, x)
print(dy)
print(x.grad)
a = torch.tensor([1., 2.], requires_grad=True)
b = torch.tensor([3., 4.], requires_grad=True)
out = (a * b).sum()
ga, gb = torch.autograd.grad(out, [a, b])
print(ga, gb)
""")

lesson("autograd_grad_outputs", r"""
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x * x
g = torch.autograd.grad(y, x, grad_outputs=torch.tensor([1., 0., 2.]), retain_graph=True)
print(g)
g2 = torch.autograd.grad(outputs=[y], inputs=[x], grad_outputs=[torch.ones(3)])
print(g2)
""")

lesson("autograd_grad_allow_unused", r"""
x = torch.tensor(1.0, requires_grad=True)
y = torch.tensor(2.0, requires_grad=True)
z = x * 2
try:
    torch.autograd.grad(z, [x, y])
except RuntimeError as e:
    print(type(e).__name__, e)
z = x * 2
print(torch.autograd.grad(z, [x, y], allow_unused=True))
z = x * 2
print(torch.autograd.grad(z, [x, y], allow_unused=True, materialize_grads=True))
""")

lesson("autograd_grad_create_graph_second_third", r"""
x = torch.tensor(2.0, requires_grad=True)
y = x ** 4
(d1,) = torch.autograd.grad(y, x, create_graph=True)
print(d1)
(d2,) = torch.autograd.grad(d1, x, create_graph=True)
print(d2)
(d3,) = torch.autograd.grad(d2, x)
print(d3)
""")

lesson("backward_create_graph_second_derivative_and_warning", r"""
import warnings
x = torch.tensor(3.0, requires_grad=True)
y = x ** 3
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    y.backward(create_graph=True)
for item in w:
    print(item.category.__name__, item.message)
print(x.grad)
g = x.grad
x.grad = None
g.backward()
print(x.grad)
""")

lesson("higher_order_sin", r"""
x = torch.tensor([0.0, 1.0], requires_grad=True)
y = torch.sin(x)
grads = []
g = y
for i in range(4):
    (g,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    grads.append(g)
for g in grads:
    print(g)
""")

lesson("higher_order_hessian_vector", r"""
x = torch.tensor([1., 2.], requires_grad=True)
f = x[0] ** 2 * x[1] + x[1] ** 3
(g,) = torch.autograd.grad(f, x, create_graph=True)
print(g)
rows = [torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(2)]
print(torch.stack(rows))
""")

lesson("grad_accumulation", r"""
x = torch.tensor([1., 2.], requires_grad=True)
for i in range(3):
    y = (x * (i + 1)).sum()
    y.backward()
    print(i, x.grad)
x.grad.zero_()
print(x.grad)
(x ** 2).sum().backward()
print(x.grad)
x.grad = None
(x ** 2).sum().backward()
print(x.grad)
""")

lesson("retain_grad_nonleaf", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
y.retain_grad()
z = (y ** 2).sum()
z.backward()
print(y.grad, y.retains_grad, x.retains_grad)
print(x.grad)
try:
    torch.tensor([1.]).retain_grad()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("tensor_hooks", r"""
x = torch.tensor([1., 2.], requires_grad=True)
h = x.register_hook(lambda g: g * 2)
(x * 3).sum().backward()
print(x.grad)
h.remove()
x.grad = None
(x * 3).sum().backward()
print(x.grad)
y = x * 1
y.register_hook(lambda g: print("y grad", g))
y.register_hook(lambda g: g + 1)
(y * y).sum().backward()
print(x.grad)
try:
    torch.ones(2).register_hook(lambda g: g)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("tensor_hook_clip_grad", r"""
w = torch.tensor([1., -2., 3.], requires_grad=True)
w.register_hook(lambda g: g.clamp(-1, 1))
loss = (w * torch.tensor([5., 0.5, -5.])).sum()
loss.backward()
print(w.grad)
""")

lesson("no_grad_context_and_decorator", r"""
x = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    y = x * 2
    print(torch.is_grad_enabled())
print(y, y.requires_grad, y.grad_fn)
print(torch.is_grad_enabled())

@torch.no_grad()
def double(t):
    return t * 2

print(double(x).requires_grad)

@torch.no_grad
def triple(t):
    return t * 3

print(triple(x).requires_grad)
""")

lesson("enable_grad_and_set_grad_enabled", r"""
x = torch.tensor(1., requires_grad=True)
with torch.no_grad():
    with torch.enable_grad():
        y = x * 2
    z = x * 2
print(y.requires_grad, z.requires_grad)
with torch.set_grad_enabled(False):
    a = x * 2
print(a.requires_grad)
torch.set_grad_enabled(False)
b = x * 2
print(b.requires_grad, torch.is_grad_enabled())
torch.set_grad_enabled(True)
c = x * 2
print(c.requires_grad, torch.is_grad_enabled())
is_train = False
with torch.set_grad_enabled(is_train):
    d = x ** 2
print(d.requires_grad)
""")

lesson("detach_and_detach_", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
d = y.detach()
print(d, d.requires_grad, d.is_leaf)
d[0] = 100
print(y)
z = x * 3
z.detach_()
print(z, z.requires_grad, z.grad_fn, z.is_leaf)
u = (x * y.detach()).sum()
u.backward()
print(x.grad)
""")

lesson("requires_grad_underscore", r"""
a = torch.tensor([1., 2.])
b = a * 2
print(b.requires_grad)
a.requires_grad_()
c = a * 2
print(c.requires_grad, c)
r = a.requires_grad_(False)
print(r is a, a.requires_grad)
d = (torch.ones(2) * 3).requires_grad_()
print(d, d.is_leaf)
""")

lesson("error_backward_non_scalar", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.autograd.grad(y, x)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("error_backward_gradient_wrong_shape", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
try:
    y.backward(torch.ones(3))
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    y.backward(torch.ones(2, 1))
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("error_backward_nothing_requires_grad", r"""
x = torch.tensor([1., 2.])
y = (x * 2).sum()
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
w = torch.tensor(1., requires_grad=True)
with torch.no_grad():
    loss = w * 2
try:
    loss.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.autograd.grad(y, x)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("error_grad_wrt_input_without_requires_grad", r"""
x = torch.tensor(1., requires_grad=True)
c = torch.tensor(2.)
y = x * c
try:
    torch.autograd.grad(y, c)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("error_shape_mismatch_in_backward_graph", r"""
w = torch.ones(3, 2, requires_grad=True)
x = torch.ones(4, 3)
print((x @ w).shape)
try:
    w @ x
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    (w + torch.ones(2, 3)).sum()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("gradcheck_double_function", r"""
def f(x, y):
    return (x * y).sin() + x ** 2 / (1 + y ** 2)

x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
y = torch.tensor([1.5, 0.2, -0.7], dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(f, (x, y)))
print(torch.autograd.gradcheck(lambda a: (a @ a.t()).sum(dim=0), (torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64, requires_grad=True),)))
""")

lesson("gradcheck_failure_message", r"""
x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda a: a.exp(), (x,), raise_exception=False))
""")

# ---- classic lessons ----------------------------------------------------------------------------

lesson("classic_x_squared_plus_x", r"""
x = torch.tensor(2.0, requires_grad=True)
z = x**2 + x
z.backward()
print(x.grad)
print(z)
""")

lesson("classic_polynomial_93", r"""
x = torch.tensor(2.0, requires_grad=True)
y = 2 * x**4 + x**3 + 3 * x**2 + 5 * x + 1
print(y)
y.backward()
print(x.grad)
print(x.grad.item())
""")

lesson("classic_partial_derivatives", r"""
x = torch.tensor([2.0, 3.0], requires_grad=True)
y = x[0] * x[1]
y.backward()
print(x.grad)
u = torch.tensor(3., requires_grad=True)
v = torch.tensor(4., requires_grad=True)
f = u**3 + v**2 + 4*u*v
f.backward()
print('Partial derivative with respect to u: ', u.grad)
print('Partial derivative with respect to v: ', v.grad)
""")

lesson("classic_chain_mean", r"""
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = 3 * x + 2
z = 2 * y**2
out = z.mean()
print(y)
print(z)
print(out)
out.backward()
print(x.grad)
""")

lesson("classic_blitz_ones_2x2", r"""
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)
""")

lesson("classic_blitz_requires_grad_inplace", r"""
a = torch.tensor([[1., -2.], [0.5, 3.]])
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
""")

lesson("classic_blitz_vector_jacobian", r"""
x = torch.tensor([0.2, -0.4, 0.1], requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
""")

lesson("classic_tutorial_Q_equals_3a3_minus_b2", r"""
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
print(a.grad, b.grad)
""")

lesson("classic_tutorial_jacobian_product", r"""
inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
""")

lesson("classic_tutorial_disable_tracking", r"""
x = torch.ones(5)
w = torch.tensor([[0.1, 0.2, 0.3]] * 5, requires_grad=True)
b = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad)
print(f"Gradient function for z = {torch.matmul(x, w).grad_fn}")
""")

lesson("classic_control_flow_while", r"""
def f(x):
    y = x
    steps = 0
    while y.norm() < 100:
        y = y * 2
        steps += 1
    if y.sum() > 0:
        out = y.sum()
    else:
        out = -y.sum()
    return out, steps

x = torch.tensor([1.5, -0.5], requires_grad=True)
out, steps = f(x)
out.backward()
print(out, steps, x.grad)
""")

lesson("classic_control_flow_piecewise", r"""
def relu_like(x):
    if x > 0:
        return x ** 2
    return -x

for v in (3.0, -2.0):
    x = torch.tensor(v, requires_grad=True)
    y = relu_like(x)
    y.backward()
    print(v, y.item(), x.grad.item(), y.grad_fn.name())
""")

lesson("classic_linear_regression_gd", r"""
X = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
Y = torch.tensor([[2.0], [4.0], [6.0], [8.0]])
w = torch.tensor([[0.0]], requires_grad=True)
b = torch.tensor([0.0], requires_grad=True)
lr = 0.01
for epoch in range(100):
    y_pred = X @ w + b
    loss = ((y_pred - Y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    if epoch % 20 == 0:
        print(f"epoch {epoch}: loss = {loss.item():.4f}")
print(f"w = {w.item():.3f}, b = {b.item():.3f}")
print(w, b)
""")

lesson("classic_linear_regression_manual_grads_none", r"""
xs = torch.tensor([0., 1., 2., 3., 4.])
ys = 3 * xs - 1
w = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
for step in range(50):
    loss = ((w * xs + b - ys) ** 2).sum() / len(xs)
    loss.backward()
    with torch.no_grad():
        w -= 0.05 * w.grad
        b -= 0.05 * b.grad
    w.grad = None
    b.grad = None
print(round(w.item(), 4), round(b.item(), 4), round(loss.item(), 5))
""")

lesson("classic_sgd_step_with_data", r"""
w = torch.tensor([1.0, -1.0], requires_grad=True)
x = torch.tensor([2.0, 3.0])
for _ in range(3):
    loss = (w @ x - 1) ** 2
    loss.backward()
    w.data -= 0.01 * w.grad.data
    w.grad.data.zero_()
    print(loss.item(), w)
""")

lesson("classic_logistic_regression_step", r"""
X = torch.tensor([[0.5, 1.0], [-1.0, 2.0], [1.5, -0.5]])
y = torch.tensor([1., 0., 1.])
w = torch.zeros(2, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(5):
    p = torch.sigmoid(X @ w + b)
    loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.5 * w.grad
        b -= 0.5 * b.grad
    w.grad.zero_()
    b.grad.zero_()
    print(step, round(loss.item(), 5))
print(w, b)
""")

lesson("classic_softmax_cross_entropy_manual", r"""
logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
target = torch.tensor([0, 1])
log_probs = torch.log_softmax(logits, dim=1)
loss = -log_probs[torch.arange(2), target].mean()
print(loss)
loss.backward()
print(logits.grad)
print(torch.softmax(logits, dim=1).sum(dim=1))
""")

lesson("classic_two_layer_mlp_manual", r"""
x = torch.tensor([[1.0, 2.0], [0.5, -1.0]])
W1 = torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], requires_grad=True)
W2 = torch.tensor([[0.7], [-0.8], [0.9]], requires_grad=True)
h = torch.relu(x @ W1)
out = torch.tanh(h @ W2)
loss = ((out - 1) ** 2).mean()
loss.backward()
print(h)
print(out)
print(loss)
print(W1.grad)
print(W2.grad)
""")

lesson("classic_newton_method", r"""
x = torch.tensor(3.0, requires_grad=True)
for i in range(5):
    f = x ** 3 - 2 * x - 5
    (df,) = torch.autograd.grad(f, x)
    with torch.no_grad():
        x -= f / df
    print(i, round(x.item(), 6))
""")

lesson("classic_gradient_of_norm", r"""
v = torch.tensor([3.0, 4.0], requires_grad=True)
n = v.norm()
n.backward()
print(n, v.grad)
u = torch.tensor([0.0, 0.0], requires_grad=True)
u.norm().backward()
print(u.grad)
""")

lesson("classic_sqrt_at_zero_and_nan", r"""
x = torch.tensor([0.0, 4.0], requires_grad=True)
y = x.sqrt().sum()
y.backward()
print(x.grad)
z = torch.tensor([-1.0, 1.0], requires_grad=True)
torch.log(z).sum().backward()
print(z.grad)
a = torch.tensor(0.0, requires_grad=True)
(a.abs()).backward()
print(a.grad)
r = torch.tensor([0.0, 1.0], requires_grad=True)
torch.relu(r).sum().backward()
print(r.grad)
""")

lesson("classic_detach_stop_gradient", r"""
x = torch.tensor(2.0, requires_grad=True)
y = x ** 2
z = y.detach() * x
z.backward()
print(x.grad)
x.grad.zero_()
(y * x).backward()
print(x.grad)
""")

lesson("classic_shared_weights_accumulate", r"""
w = torch.tensor(2.0, requires_grad=True)
a = w * 3
b = w * 4
c = a * b
c.backward()
print(c, w.grad)
print(c.grad_fn.next_functions[0][0].next_functions[0][0] is c.grad_fn.next_functions[1][0].next_functions[0][0])
""")

lesson("classic_zero_grad_forgotten", r"""
w = torch.tensor(1.0, requires_grad=True)
for step in range(3):
    loss = (w * 2 - 4) ** 2
    loss.backward()
    print("step", step, "grad", w.grad.item())
print("Gradients accumulate unless you reset them!")
""")

lesson("classic_numpy_interop", r"""
import numpy as np
a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
x = torch.from_numpy(a).requires_grad_()
y = (x ** 2).sum()
y.backward()
print(x.grad)
print(x.grad.numpy())
print(np.allclose(x.grad.numpy(), 2 * a))
print(torch.tensor(np.float64(2.5)), torch.tensor(np.int32(3)))
""")

lesson("classic_inputs_list_of_params", r"""
params = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor(0.5, requires_grad=True)]
x = torch.tensor([3.0, -1.0])
loss = ((params[0] * x).sum() + params[1]) ** 2
grads = torch.autograd.grad(loss, params)
for p, g in zip(params, grads):
    print(p.shape, g)
""")

lesson("classic_jacobian_by_rows", r"""
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.stack([x[0] * x[1], x[1] ** 2, x.sum()])
J = []
for i in range(3):
    (row,) = torch.autograd.grad(y[i], x, retain_graph=True)
    J.append(row)
print(torch.stack(J))
""")

lesson("classic_sin_derivative_table", r"""
import math
x = torch.linspace(0, math.pi, 5, requires_grad=True)
y = torch.sin(x)
y.backward(torch.ones_like(y))
print(x)
print(x.grad)
print(torch.allclose(x.grad, torch.cos(x)))
""")

lesson("classic_requires_grad_propagation", r"""
a = torch.tensor([1.0, 2.0])
b = torch.tensor([3.0, 4.0], requires_grad=True)
c = a + b
d = a * 2
print(c.requires_grad, d.requires_grad)
print(c.is_leaf, d.is_leaf, a.is_leaf, b.is_leaf)
print(c.grad_fn, d.grad_fn)
""")

lesson("classic_leaf_vs_nonleaf_grad", r"""
import warnings
x = torch.tensor(3.0, requires_grad=True)
y = x * 2
z = y ** 2
z.backward()
print("x.grad:", x.grad)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("y.grad:", y.grad)
print(len(caught), caught[0].category.__name__)
""")

lesson("classic_functions_of_matrices", r"""
A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
v = torch.tensor([1.0, -1.0])
q = v @ A @ v
q.backward()
print(q, A.grad)
B = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
(B @ B).sum().backward()
print(B.grad)
""")

lesson("classic_mse_by_hand", r"""
pred = torch.tensor([2.5, 0.0, 2.0, 8.0], requires_grad=True)
target = torch.tensor([3.0, -0.5, 2.0, 7.0])
mse = ((pred - target) ** 2).mean()
mae = (pred - target).abs().mean()
print(mse, mae)
mse.backward(retain_graph=True)
print(pred.grad)
pred.grad = None
mae.backward()
print(pred.grad)
""")

# ---- second wave: edge cases students run into ---------------------------------------------------

lesson("warn_copy_construct_tensor", r"""
import warnings
x = torch.tensor([1., 2.], requires_grad=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    y = torch.tensor(x)
for item in w:
    print(item.category.__name__, item.message)
print(y, y.requires_grad)
z = x.clone().detach().requires_grad_(True)
print(z, z.is_leaf)
""")

lesson("T_mT_and_permute_on_3d", r"""
import warnings
x = torch.arange(24.).reshape(2, 3, 4)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # x.T on 3-D warns only once per process, in both
    print(x.T.shape, torch.zeros(3).T.shape)
print(x.mT.shape, x.permute(2, 1, 0).shape, x.transpose(-1, -2).shape)
print(x.mT[0])
""")

lesson("warn_std_single_element", r"""
import warnings
x = torch.tensor([3.0])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    s = x.std()
    v = x.var()
print(s, v)
for item in w:
    print(item.category.__name__, item.message)
""")

lesson("arange_float_steps", r"""
print(torch.arange(0, 1, 0.1))
print(torch.arange(0, 1, 0.1).shape)
print(torch.arange(-1, 1, 0.3))
print(torch.linspace(0, 1, 11))
print(torch.arange(0.5, 3))
print(torch.arange(1, 2, 0.1, dtype=torch.float64))
""")

lesson("max_ties_and_clamp_boundaries", r"""
x = torch.tensor([1., 3., 3.], requires_grad=True)
x.max().backward()
print(x.grad)
x.grad = None
x.max(dim=0).values.backward()
print(x.grad)
x.grad = None
x.min().backward()
print(x.grad)
c = torch.tensor([-1., 0., 1., 2.], requires_grad=True)
c.clamp(0, 1).sum().backward()
print(c.grad)
m = torch.tensor([1., 2.], requires_grad=True)
n = torch.tensor([1., 1.], requires_grad=True)
torch.maximum(m, n).sum().backward()
print(m.grad, n.grad)
""")

lesson("pow_edge_cases", r"""
x = torch.tensor([0., 1., 4.], requires_grad=True)
(x ** 0).sum().backward()
print(x.grad)
x.grad = None
(x ** 0.5).sum().backward()
print(x.grad)
x.grad = None
(0 ** x).sum().backward()
print(x.grad)
print(torch.tensor([-8.]) ** (1 / 3))
print(torch.tensor(2.0) ** torch.tensor(3))
print(torch.tensor(2) ** 3, torch.tensor(2) ** -1.0)
p = x ** 2.0
print(p.grad_fn._saved_exponent, (x ** 2).grad_fn._saved_exponent)
""")

lesson("inf_nan_printing_and_division", r"""
x = torch.tensor([1., -1., 0.])
print(x / 0)
print(torch.sqrt(torch.tensor([-1., 4.])))
print(torch.tensor([1, 2]) / 0)
print(torch.log(torch.tensor([0., 1e-45, 1.])))
print(torch.tensor([float('nan')]).sum(), torch.isnan(torch.tensor([1., float('nan')])))
try:
    torch.tensor([5]) // 0
except RuntimeError as e:
    print(type(e).__name__, e)
print(torch.tensor([1e-8, 1.0, 1e8]))
""")

lesson("dtype_mismatch_errors", r"""
a = torch.ones(2, 2)
b = torch.ones(2, 2, dtype=torch.float64)
for f in (lambda: a @ b, lambda: torch.mm(a, b), lambda: torch.tensor([1, 2]) @ torch.tensor([1., 2.]),
          lambda: torch.mv(a, torch.ones(2, dtype=torch.float64))):
    try:
        f()
    except RuntimeError as e:
        print(type(e).__name__, e)
print((a * b).dtype, (a + b).dtype)
""")

lesson("dim_out_of_range_errors", r"""
x = torch.ones(2, 3)
for f in (lambda: x.unsqueeze(3), lambda: x.sum(2), lambda: x.softmax(dim=5),
          lambda: x.transpose(0, 2), lambda: x.squeeze(4), lambda: torch.cat([x, x], dim=2)):
    try:
        f()
    except IndexError as e:
        print(type(e).__name__, e)
print(x.squeeze(0).shape)
""")

lesson("ragged_and_bad_data_errors", r"""
try:
    torch.tensor([[1, 2], [3]])
except ValueError as e:
    print(type(e).__name__, e)
try:
    torch.tensor("abc")
except TypeError as e:
    print(type(e).__name__, e)
try:
    torch.ones(-1)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("empty_reductions", r"""
e = torch.tensor([])
print(e.sum(), e.mean(), e.prod())
try:
    e.max()
except RuntimeError as err:
    print(type(err).__name__, err)
print(torch.zeros(0, 3).sum(0))
""")

lesson("setitem_shape_mismatch_and_expand_inplace", r"""
x = torch.zeros(3)
try:
    x[0] = torch.tensor([1., 2.])
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    x[:2] = torch.tensor([1., 2., 3.])
except RuntimeError as e:
    print(type(e).__name__, e)
y = torch.ones(1).expand(3)
try:
    y.add_(1)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("negative_step_slice_error", r"""
x = torch.arange(5)
try:
    x[::-1]
except ValueError as e:
    print(type(e).__name__, e)
print(x.flip(0))
print(x[::2], x[1::2], x[-2:])
""")

lesson("backward_on_leaf_and_one_element", r"""
x = torch.tensor(3.0, requires_grad=True)
x.backward()
print(x.grad)
v = torch.tensor([2.0], requires_grad=True)
(v * 3).backward()
print(v.grad)
w = torch.tensor(1.0, requires_grad=True)
(w * 5).backward(torch.tensor(2.0))
print(w.grad)
try:
    (w * 5).backward(2.0)
except TypeError as e:
    print(type(e).__name__, e)
""")

lesson("calling_grad_fn_directly", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3
print(y.grad_fn(torch.ones(2)))
z = x ** 2
print(z.grad_fn(torch.tensor([1., 1.])))
s = x.sum()
print(s.grad_fn(torch.tensor(1.)))
""")

lesson("next_functions_with_constants", r"""
x = torch.tensor([1., 2.], requires_grad=True)
c = torch.tensor([3., 4.])
y = c * x
print(y.grad_fn.next_functions)
z = x + c
print(z.grad_fn.next_functions)
w = torch.cat([c, x])
print(w.grad_fn.next_functions)
print(torch.stack([x, c]).grad_fn.next_functions)
""")

lesson("modified_inplace_output_of_mul", r"""
x = torch.tensor([1., 2.], requires_grad=True)
a = x * 2
b = a.sin()
a.add_(1)
try:
    b.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)
t = torch.tensor([1., 2.], requires_grad=True)
u = t.detach()
out = (t * t).sum()
u.zero_()
try:
    out.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("detach_view_inplace_error", r"""
x = torch.ones(4, requires_grad=True)
y = x * 2
v = y[:2]
try:
    v.detach_()
except RuntimeError as e:
    print(type(e).__name__, e)
d = v.detach()
print(d, d._version)
""")

lesson("inference_mode_and_set_grad_enabled_decorator", r"""
x = torch.tensor([1., 2.], requires_grad=True)
with torch.inference_mode():
    y = x * 2
print(y.requires_grad, y.grad_fn)

@torch.set_grad_enabled(False)
def f(t):
    return t * 2

print(f(x).requires_grad)

@torch.enable_grad()
def g(t):
    return t * 2

with torch.no_grad():
    print(g(x).requires_grad)
""")

lesson("autograd_grad_nonscalar_with_ones", r"""
x = torch.linspace(-1, 1, 5, requires_grad=True)
y = x ** 3
(dy,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
print(dy)
y = x ** 3
(dy2,) = torch.autograd.grad(y.sum(), x, create_graph=True)
print(dy2)
(d2,) = torch.autograd.grad(dy2.sum(), x)
print(d2)
""")

lesson("grad_data_zero_and_detach_", r"""
w = torch.tensor([1., 2.], requires_grad=True)
(w * w).sum().backward()
print(w.grad)
w.grad.data.zero_()
print(w.grad)
(w * 3).sum().backward()
print(w.grad)
w.grad.detach_()
w.grad.zero_()
print(w.grad, w.grad.requires_grad)
print(w.grad is None, torch.ones(1, requires_grad=True).grad is None)
""")

lesson("conversions_create_nonleaf", r"""
x = torch.tensor([1., 2.], requires_grad=True)
y = x.to(torch.float64)
print(y.is_leaf, y.grad_fn)
print(x.float() is x, x.to(torch.float32) is x)
d = torch.tensor([1.], dtype=torch.float64)
print(d.double() is d)
z = x.to(torch.float64).sum()
z.backward()
print(x.grad, x.grad.dtype)
""")

lesson("vector_matrix_grads", r"""
v = torch.tensor([1., 2.], requires_grad=True)
M = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
out = v @ M
print(out)
out.sum().backward()
print(v.grad)
print(M.grad)
b = torch.ones(4, 2, 3, requires_grad=True)
(b @ torch.ones(3, 2)).sum().backward()
print(b.grad.shape, b.grad[0])
try:
    torch.mm(v, M)
except RuntimeError as e:
    print(type(e).__name__, e)
""")

lesson("printing_mixed_collections", r"""
x = torch.tensor(1., requires_grad=True)
print([x, x * 2])
print({"loss": x ** 2})
print(torch.tensor([1000000, 2]))
print(torch.tensor([1., 2.], dtype=torch.float16))
print(torch.tensor([-0., 0.]))
print(torch.tensor([[0.001, 1000.]]))
print(torch.tensor([123.456, 0.001]))
""")

lesson("gradcheck_float32_warns", r"""
import warnings
x = torch.tensor([1., 2.], requires_grad=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    try:
        ok = torch.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False)
        print(ok)
    except Exception as e:
        print(type(e).__name__)
for item in w:
    print(item.category.__name__, str(item.message)[:120])
""")

lesson("randn_blitz_vector_jacobian", r"""
torch.manual_seed(0)
x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
""")

lesson("randn_linear_model_seeded", r"""
torch.manual_seed(42)
X = torch.randn(8, 3)
true_w = torch.tensor([[1.5], [-2.0], [0.5]])
Y = X @ true_w + 0.1 * torch.randn(8, 1)
w = torch.zeros(3, 1, requires_grad=True)
for step in range(30):
    loss = ((X @ w - Y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad.zero_()
print(round(loss.item(), 4))
print(w)
""")

lesson("randint_randperm_rand_like", r"""
torch.manual_seed(7)
print(torch.randperm(6))
x = torch.zeros(2, 2)
print(torch.rand_like(x))
print(torch.randn_like(x))
print(torch.randint(0, 3, size=(2, 2), dtype=torch.int32))
print(torch.initial_seed())
""")

lesson("softmax_probs_printed", r"""
logits = torch.tensor([[2.0, 1.0, 0.1], [1.0, 3.0, 0.2], [0.3, 0.2, 0.1]])
probs = torch.softmax(logits, dim=1)
print(probs)
print(probs.sum(dim=1))
print(probs.argmax(dim=1))
p0 = torch.softmax(logits, dim=0)
print(p0)
print(p0.sum(dim=0))
x = torch.tensor([1.0, 2.0, 3.0])
print(torch.exp(x) / torch.exp(x).sum())
print(torch.softmax(x, dim=0))
""")

lesson("sigmoid_tanh_printed", r"""
x = torch.linspace(-3, 3, 7, requires_grad=True)
s = torch.sigmoid(x)
t = torch.tanh(x)
print(s)
print(t)
(s.sum() + t.sum()).backward()
print(x.grad)
print(s * (1 - s))
print(1 - t ** 2)
""")

# ---- training a tiny network by gradient descent (torch.nn, torch.optim) ----------------------

lesson("nn_linear_regression_by_hand_then_sgd", r"""
nn = torch.nn
torch.manual_seed(0)
x = torch.linspace(0, 1, 20).unsqueeze(1)
y = 3 * x + 0.5 + 0.05 * torch.randn(20, 1)
model = nn.Linear(1, 1)
print(model)
print(model.weight, model.bias)
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
print(optimizer)
for step in range(60):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}  w {model.weight.item():.4f}  "
              f"b {model.bias.item():.4f}")
print(loss.grad_fn, loss.grad_fn.next_functions[0][0])
print(model.weight.grad)
with torch.no_grad():
    print(model(torch.tensor([[2.0]])))
""")

# A learning rate and epoch count that keep the logits moderate: with lr=0.3, momentum=0.9 and 40
# epochs the printed probabilities reached 1e-23, and exp(-51) carries every ulp of the logit into
# its relative error, so their 5th digit changed with the CPU (100 float32 ulps apart).
lesson("nn_mlp_classifier_cross_entropy", r"""
nn = torch.nn
F = torch.nn.functional
torch.manual_seed(0)
x = torch.randn(30, 2)
labels = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
print(model)
print([name for name, p in model.named_parameters()])
print(sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
for epoch in range(20):
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 5 == 4:
        acc = (logits.argmax(dim=1) == labels).float().mean()
        print(f"epoch {epoch + 1}: loss={loss.item():.4f} acc={acc.item():.3f}")
print(loss.grad_fn, [n[0] for n in loss.grad_fn.next_functions])
probs = F.softmax(model(x[:3]), dim=1)
print(probs)
print(model[0].weight.grad is None, optimizer.state[model[0].weight]["momentum_buffer"].shape)
""")

lesson("nn_custom_module_state_dict", r"""
nn = torch.nn
torch.manual_seed(1)
class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 1)
        self.act = nn.Tanh()
    def forward(self, x):
        return torch.sigmoid(self.out(self.act(self.hidden(x))))
net = TinyNet()
print(net)
sd = net.state_dict()
print(list(sd.keys()))
print(sd["out.bias"])
copy = TinyNet()
print(copy.load_state_dict(sd))
x = torch.randn(2, 3)
print(net(x))
print(copy(x))
y = torch.tensor([[1.0], [0.0]])
loss = nn.BCELoss()(net(x), y)
print(loss)
loss.backward()
print(net.out.weight.grad)
net.zero_grad()
print(net.out.weight.grad)
print(nn.Parameter(torch.ones(2)))
try:
    net.hidden(torch.randn(2, 5))
except RuntimeError as e:
    print("RuntimeError:", e)
""")
