"""Solvers: a written file -> a solver subprocess -> a status and values.

The registry finds the binaries (``solvers.toml``, the installed packages);
each solver module knows its command line and output; runs have time limits,
no shell, and die with nncc. :mod:`~nncc.solvers.highs_inprocess` is HiGHS in
this process, for small LPs.
"""
