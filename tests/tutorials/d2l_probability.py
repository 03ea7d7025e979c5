# d2l.ai, Preliminaries, "Probability and Statistics": every PyTorch code cell, in order, unchanged,
# except the d2l lines: `%matplotlib inline` and `from d2l import torch as d2l` (not installed) are
# left out of the first cell, the plotting lines (`d2l.set_figsize`, `d2l.plt...`) out of the last,
# and a cell is added that shows every 1,000th row of the estimates the plot would draw.
# https://github.com/d2l-ai/d2l-en/blob/23d7a5ae/chapter_preliminaries/probability.md
# Cells are separated by `# %%`; a cell's last expression is displayed as IPython does.

# %%
import random
import torch
from torch.distributions.multinomial import Multinomial

# %%
num_tosses = 100
heads = sum([random.random() > 0.5 for _ in range(num_tosses)])
tails = num_tosses - heads
print("heads, tails: ", [heads, tails])

# %%
fair_probs = torch.tensor([0.5, 0.5])
Multinomial(100, fair_probs).sample()

# %%
Multinomial(100, fair_probs).sample() / 100

# %%
counts = Multinomial(10000, fair_probs).sample()
counts / 10000

# %%
counts = Multinomial(1, fair_probs).sample((10000,))
cum_counts = counts.cumsum(dim=0)
estimates = cum_counts / cum_counts.sum(dim=1, keepdims=True)
estimates = estimates.numpy()

# %%
estimates[::1000]
