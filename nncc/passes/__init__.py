"""Passes: IR -> IR reductions, each with the data to map a solution back.

:class:`~nncc.passes.reduction.Reduction` is the interface (``apply`` and
``invert``); strict rows to ``>= + epsilon``, ReLU and non-zero relations to
big-M rows, products with a bounded factor linearised, squares as tangent
lines. Reasoning about a network (bounds, splitting) is in
:mod:`nncc.analysis`, not here.
"""
