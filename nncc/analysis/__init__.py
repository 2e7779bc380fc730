"""Reasoning about a fixed network without the IR: bounds, splitting, starts.

Input: a :class:`~nncc.problem.fixed_network.FixedNetwork` (or an ONNX graph)
and a box or query rows. Output: bounds on every neuron (interval, symbolic,
LP-tightened), proofs or counterexamples by input or ReLU splitting, and
checked starting points for the solvers (gradient descent, region LPs).
Nothing here builds an IR program or writes a file; the encodings and the
pipeline call it.
"""
