"""The input that a network finds most typical of a class, from an onnx.ModelProto.

``examples/xor_net.onnx`` is loaded with the onnx package; nncc maximises
each output over the unit square, with the output's class required to win,
and the answer is run again under onnxruntime. The solver's bound on the
optimum is printed beside the value.

    python examples/api_maximize_onnx.py
"""
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

import nncc

path = Path(__file__).with_name("xor_net.onnx")
model = onnx.load(str(path))
session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name

print(f"{'output':>6} {'input':>22} {'value':>9} {'bound':>9} {'onnxruntime':>12}  status")
for k in range(2):
    ans = nncc.maximize(model, k, lo=0, hi=1, wins=True, time_limit=60)
    x = ans.arrays["input"]
    y = session.run(None, {name: x.astype(np.float32)[None]})[0][0]
    assert int(np.argmax(y)) == k, "onnxruntime gives another class"
    bound = ans.result.bound if ans.result is not None and ans.result.bound is not None else np.nan
    print(f"{k:>6} {np.array2string(x, precision=4):>22} {ans.arrays['output'][k]:>9.4f} "
          f"{bound:>9.4f} {y[k]:>12.4f}  {ans.status}")
