"""The problem: networks, datasets, properties and the queries asked of them.

Trainable networks (layers, activations, parameter domains), trained ones
(:class:`~nncc.problem.fixed_network.FixedNetwork`, imported from ONNX /
NNet), datasets (inline, CSV, NPZ, IDX, bundled, generated), VNN-LIB
properties, and every query type (:mod:`~nncc.problem.query`). Plain data:
nothing here encodes or solves.
"""
