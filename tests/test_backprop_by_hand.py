"""Backpropagating by hand through a character MLP with batch norm, checked against autograd
(the exercise of Karpathy's "becoming a backprop ninja", makemore part 4, rewritten on random
data): the same program prints the same on gradlab (through as_torch) and on PyTorch, down to
which hand-written gradients are bit-exact, which needs tanh's backward rounded as PyTorch's."""
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="differential tests need PyTorch 2.13")

PROGRAM = '''import torch
import torch.nn.functional as F

vocab, block, n_embd, n_hidden, n = 27, 3, 10, 64, 32
g = torch.Generator().manual_seed(2147483647)
X = torch.randint(0, vocab, (1000, block), generator=g)
Y = torch.randint(0, vocab, (1000,), generator=g)
C = torch.randn((vocab, n_embd), generator=g)
W1 = torch.randn((n_embd * block, n_hidden), generator=g) * (5 / 3) / ((n_embd * block) ** 0.5)
b1 = torch.randn(n_hidden, generator=g) * 0.1
W2 = torch.randn((n_hidden, vocab), generator=g) * 0.1
b2 = torch.randn(vocab, generator=g) * 0.1
gain = torch.randn((1, n_hidden), generator=g) * 0.1 + 1.0
bias = torch.randn((1, n_hidden), generator=g) * 0.1
params = [C, W1, b1, W2, b2, gain, bias]
print(sum(p.nelement() for p in params))
for p in params:
    p.requires_grad = True
ix = torch.randint(0, X.shape[0], (n,), generator=g)
Xb, Yb = X[ix], Y[ix]

emb = C[Xb]
flat = emb.view(emb.shape[0], -1)
pre = flat @ W1 + b1
mean = 1 / n * pre.sum(0, keepdim=True)
diff = pre - mean
diff2 = diff ** 2
var = 1 / (n - 1) * diff2.sum(0, keepdim=True)
var_inv = (var + 1e-5) ** -0.5
raw = diff * var_inv
act = gain * raw + bias
h = torch.tanh(act)
logits = h @ W2 + b2
maxes = logits.max(1, keepdim=True).values
shifted = logits - maxes
counts = shifted.exp()
total = counts.sum(1, keepdims=True)
total_inv = total ** -1
probs = counts * total_inv
logprobs = probs.log()
loss = -logprobs[range(n), Yb].mean()
for t in [logprobs, probs, counts, total, total_inv, shifted, maxes, logits, h, act, raw,
          var_inv, var, diff2, diff, pre, mean, flat, emb]:
    t.retain_grad()
loss.backward()
print(loss)


def cmp(name, mine, t):
    exact = torch.all(mine == t.grad).item()
    close = torch.allclose(mine, t.grad)
    print(f"{name:10s} | exact: {str(exact):5s} | approximate: {str(close):5s} | "
          f"shape is correct: {mine.shape == t.shape}")


dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), Yb] = -1.0 / n
dprobs = (1.0 / probs) * dlogprobs
dtotal_inv = (counts * dprobs).sum(1, keepdim=True)
dcounts = total_inv * dprobs
dtotal = (-total ** -2) * dtotal_inv
dcounts += torch.ones_like(counts) * dtotal
dshifted = counts * dcounts
dlogits = dshifted.clone()
dmaxes = (-dshifted).sum(1, keepdim=True)
dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dmaxes
dh = dlogits @ W2.T
dW2 = h.T @ dlogits
db2 = dlogits.sum(0)
dact = (1.0 - h ** 2) * dh
dgain = (raw * dact).sum(0, keepdim=True)
draw = gain * dact
dbias = dact.sum(0, keepdim=True)
ddiff = var_inv * draw
dvar_inv = (diff * draw).sum(0, keepdim=True)
dvar = (-0.5 * (var + 1e-5) ** -1.5) * dvar_inv
ddiff2 = (1.0 / (n - 1)) * torch.ones_like(diff2) * dvar
ddiff += (2 * diff) * ddiff2
dpre = ddiff.clone()
dmean = (-ddiff).sum(0)
dpre += 1.0 / n * (torch.ones_like(pre) * dmean)
dflat = dpre @ W1.T
dW1 = flat.T @ dpre
db1 = dpre.sum(0)
demb = dflat.view(emb.shape)
dC = torch.zeros_like(C)
for k in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        dC[Xb[k, j]] += demb[k, j]

for name, mine, t in [("logprobs", dlogprobs, logprobs), ("probs", dprobs, probs),
                      ("total_inv", dtotal_inv, total_inv), ("total", dtotal, total),
                      ("counts", dcounts, counts), ("shifted", dshifted, shifted),
                      ("maxes", dmaxes, maxes), ("logits", dlogits, logits), ("h", dh, h),
                      ("W2", dW2, W2), ("b2", db2, b2), ("act", dact, act),
                      ("gain", dgain, gain), ("bias", dbias, bias), ("raw", draw, raw),
                      ("var_inv", dvar_inv, var_inv), ("var", dvar, var),
                      ("diff2", ddiff2, diff2), ("diff", ddiff, diff), ("mean", dmean, mean),
                      ("pre", dpre, pre), ("flat", dflat, flat), ("W1", dW1, W1),
                      ("b1", db1, b1), ("emb", demb, emb), ("C", dC, C)]:
    cmp(name, mine, t)

fast = F.cross_entropy(logits, Yb)
print(f"{fast.item():.4f}", abs((fast - loss).item()) < 1e-6)
dlogits = F.softmax(logits, 1)
dlogits[range(n), Yb] -= 1
dlogits /= n
cmp("logits", dlogits, logits)
'''


def run(prelude):
    done = subprocess.run([sys.executable, "-c", prelude + PROGRAM], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_backprop_by_hand_prints_what_pytorch_prints():
    ours = run("import gradlab\ngradlab.as_torch()\n")
    theirs = run("")
    assert "exact: True" in theirs and "approximate: True" in theirs
    assert ours == theirs
