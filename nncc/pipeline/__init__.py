"""The one package that chains the stages: encode, passes, write, solve, check.

Each module here is a strategy built from the stages below it: compiling and
answering a query, the adversarial and verification searches, certification
by exact re-solving, the local search for binarised training, architectures.
The command line and :mod:`nncc.api` call into this package; nothing below it
imports it.
"""
