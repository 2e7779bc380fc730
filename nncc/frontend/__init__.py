"""Front end: ``.nn`` text and VNN-LIB files -> checked problems.

The Lark grammar (``grammar/``) is parsed into plain dataclasses with source
positions (:mod:`~nncc.frontend.ast`); its semantics
(:mod:`~nncc.frontend.semantics`) resolves names and shapes
and builds the problem's networks, datasets and queries, reporting errors as
``file:line:col: message``. VNN-LIB 1.0 and 2.0 properties are read here too.
"""
