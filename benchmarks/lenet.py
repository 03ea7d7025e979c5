"""One SGD step of a LeNet on a batch of 64 28x28 images: gradlab side by side with PyTorch.

Run: `python benchmarks/lenet.py`. The net is the 60-minute blitz's (two 5x5 convolutions, two
2x2 max pools, three Linear layers), its first convolution padded by 2 so that 28x28 inputs
reach fc1 as 16x5x5, as LeNet-5 reads MNIST. One thread each, medians, the ratio within one run.
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import gradlab  # noqa: E402
from run import timed  # noqa: E402  (run.py sets torch to one thread)

torch = sys.modules.get("torch")


def lenet(lib):
    """The blitz's Net for 28x28 inputs, written once for either library."""
    nn, F = lib.nn, lib.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    return LeNet()


def data(batch=64, seed=0):
    """Images, labels and the net's initial parameters (PyTorch's init drawn by gradlab)."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    gradlab.manual_seed(seed)
    params = {k: v.detach().numpy().copy() for k, v in lenet(gradlab).state_dict().items()}
    return images, labels, params


def sgd_step(lib, images, labels, params, lr=0.01):
    """A net with ``params`` and a function running one step: forward, loss, backward, update."""
    net = lenet(lib)
    net.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in params.items()})
    x, y = lib.from_numpy(images), lib.from_numpy(labels)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=lr)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return net, step


def main():
    images, labels, params = data()
    t_gl = timed(sgd_step(gradlab, images, labels, params)[1], repeats=30)
    line = f"LeNet SGD step, batch 64 of 1x28x28: gradlab {t_gl * 1e3:.2f} ms"
    if torch:
        t_pt = timed(sgd_step(torch, images, labels, params)[1], repeats=30)
        line += (f", PyTorch {t_pt * 1e3:.2f} ms, ratio gradlab/PyTorch {t_gl / t_pt:.2f}x "
                 "(target <= 2.0x)")
    print(line)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        import pstats
        step = sgd_step(gradlab, *data())[1]
        step()
        cProfile.run("for _ in range(20): step()", "/tmp/lenet.prof")
        pstats.Stats("/tmp/lenet.prof").sort_stats("tottime").print_stats(25)
    else:
        main()
