"""A scikit-learn regressor's predictions, computed by a solver from nncc's encoding.

An MLPRegressor is fitted on the bundled diabetes data (features scaled to
[0, 1]); nncc encodes it, fixes the inputs of five patients and lets the
solver compute the outputs, which must equal ``predict``. Then it asks for the
largest prediction over the whole box of inputs, with the network's ONNX file
written beside it for other tools.

    python examples/api_evaluate_regressor.py
"""
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.neural_network import MLPRegressor

import nncc

X, y = load_diabetes(return_X_y=True)
X = (X - X.min(0)) / (X.max(0) - X.min(0))
reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, max_iter=2000)
reg.fit(X, y)
print(f"fitted: R^2 {reg.score(X, y):.3f}")

ans = nncc.evaluate(reg, X[:5], time_limit=60)
solver_out = ans.arrays["output"].ravel()
print(f"{'patient':>7} {'solver':>10} {'predict':>10}")
for i, (a, b) in enumerate(zip(solver_out, reg.predict(X[:5]))):
    print(f"{i:>7} {a:>10.4f} {b:>10.4f}")
assert np.allclose(solver_out, reg.predict(X[:5]), rtol=1e-6, atol=1e-6)

with tempfile.TemporaryDirectory() as tmp:
    onnx_file = Path(tmp) / "diabetes_mlp.onnx"
    net = nncc.network(reg, onnx_path=str(onnx_file))   # the ONNX file other tools can read
    best = nncc.maximize(net, 0, lo=0, hi=1, time_limit=60)
    x = best.arrays["input"]
    print(f"largest prediction over [0, 1]^10: {reg.predict(x[None])[0]:.2f} "
          f"({best.status}; the ONNX file had {onnx_file.stat().st_size} bytes)")
    assert reg.predict(x[None])[0] >= reg.predict(X).max() - 1e-6
