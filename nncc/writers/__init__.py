"""Writers: an IR program as text a solver reads (SMT-LIB 2.6, free MPS, CPLEX LP).

Input: a lowered :class:`~nncc.ir.program.Program`. Output: bytes on a stream,
and a :class:`~nncc.writers.symbol_map.SymbolMap` from the names in the file
back to the IR. A writer refuses what its format cannot express.
"""

TARGETS = ("smtlib", "mps", "lp")
FORMAT_SUFFIX = {"smtlib": ".smt2", "mps": ".mps", "lp": ".lp"}
