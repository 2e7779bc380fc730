"""How robust is a scikit-learn classifier? Verified with nncc's Python API.

An MLPClassifier is fitted on the bundled iris data (features scaled to [0, 1]).
For ten flowers, nncc verifies L-infinity robustness at growing radii:
``unsat`` means no input within the radius changes the class (a proof),
``sat`` comes with a counterexample, checked here with the classifier's own
``predict``.

    python examples/api_verify_sklearn.py
"""
import numpy as np
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier

import nncc

X, y = load_iris(return_X_y=True)
X = (X - X.min(0)) / (X.max(0) - X.min(0))
clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0, max_iter=3000)
clf.fit(X, y)
print(f"fitted: training accuracy {clf.score(X, y):.3f}")

radii = [0.01, 0.03, 0.1, 0.3]
print(f"{'flower':>6} {'class':>5}  " + "  ".join(f"eps {r:<4}" for r in radii))
for i in range(0, 150, 15):
    label = int(clf.predict(X[i:i + 1])[0])
    cells = []
    for eps in radii:
        prop = nncc.robustness_property(X[i], eps, label, 3, lo=0, hi=1)
        v = nncc.verify(clf, prop, time_limit=60)
        if v.status == "sat":   # the counterexample, on the classifier itself
            x = v.answer.arrays["input"]
            p = clf.predict_proba(x[None])[0]
            assert np.abs(x - X[i]).max() <= eps + 1e-9
            assert np.delete(p, label).max() >= p[label] - 1e-9, "not a counterexample"
        cells.append(f"{v.status:<8}")
    print(f"{i:>6} {label:>5}  " + "  ".join(cells))

# One output row given as numpy arrays (lo, hi, C, d): is flower 0 ever classified 2
# within 0.1 (y_2 >= y_0)?
lo, hi = np.clip(X[0] - 0.1, 0, 1), np.clip(X[0] + 0.1, 0, 1)
v = nncc.verify(clf, (lo, hi, np.array([[-1.0, 0.0, 1.0]]), np.array([0.0])), time_limit=60)
print(f"flower 0 classified 2 within 0.1: {v.status} ({v.how})")
