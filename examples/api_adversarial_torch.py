"""Adversarial digits for a small PyTorch CNN, through nncc's Python API.

A Conv2d / ReLU / MaxPool2d / Linear network is trained for a few seconds on
scikit-learn's bundled 8x8 digits; for three test images nncc finds the input
closest in L-infinity (pixels in [0, 1]) that the network classifies as
another digit. Each answer is checked by torch itself.

    python examples/api_adversarial_torch.py        (needs torch: pip install '.[torch]')
"""
import sys

import numpy as np

import nncc

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("this example needs torch: pip install '.[torch]'")

from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = (X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
train, test = slice(0, 1500), slice(1500, None)

torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(4 * 3 * 3, 16), nn.ReLU(), nn.Linear(16, 10))
opt = torch.optim.Adam(net.parameters(), lr=0.02)
Xt, yt = torch.tensor(X[train]), torch.tensor(y[train])
for epoch in range(150):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(Xt), yt)
    loss.backward()
    opt.step()
net.eval()
with torch.no_grad():
    acc = float((net(torch.tensor(X[test])).argmax(1).numpy() == y[test]).mean())
print(f"trained: test accuracy {acc:.3f}")

print(f"{'image':>5} {'label':>5} {'class':>5} {'new class':>9} {'L-inf distance':>14} "
      f"{'lower bound':>11}  status")
for i in (1500, 1501, 1502):
    x0 = X[i]
    with torch.no_grad():
        cls = int(net(torch.tensor(x0[None])).argmax())
    ans = nncc.adversarial(net, x0, input_shape=(1, 8, 8), lo=0, hi=1, norm="linf",
                           time_limit=10)
    if ans.arrays is None:   # no adversarial input found (or none exists: no_solution)
        print(f"{i:>5} {y[i]:>5} {cls:>5} {'-':>9} {'-':>14} {'-':>11}  {ans.status}")
        continue
    xa = ans.arrays["input"].reshape(1, 1, 8, 8)
    with torch.no_grad():
        new = int(net(torch.tensor(xa, dtype=torch.float32)).argmax())
    assert new != cls, "torch does not agree that the class moved"
    dist = float(np.abs(xa.ravel() - x0.ravel()).max())
    # the solver's bound on the smallest distance: the answer is the closest when they meet
    # (status solution); unknown is the closest found in the time, not proven
    bound = ans.result.bound if ans.result is not None and ans.result.bound is not None else 0.0
    print(f"{i:>5} {y[i]:>5} {cls:>5} {new:>9} {dist:>14.4f} {bound:>11.4f}  {ans.status}")
