"""Encodings: a checked query -> an IR program (:class:`~nncc.encodings.encoded.Encoded`).

One module per query family (training of ReLU and binarised networks,
evaluate / maximize, adversarial, verify, architectures). An encoding never
writes text and never knows a solver; what it needs to read an answer back
goes into ``Encoded.inverse``.
"""
