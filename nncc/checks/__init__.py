"""Re-checking answers before they are reported.

Input: a problem and the values a solver (or a search) returned, as arrays by
user name. Output: a verdict on the claimed property by a forward pass in
numpy (and onnxruntime for ONNX models), with the tolerance stated, and the
corrected or polished values where a check can repair rounding. A check never
runs a solver binary; the pipeline decides what a failed check means.
"""
