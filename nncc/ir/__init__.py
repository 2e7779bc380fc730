"""The constraint IR: typed variables with bounds in named groups, blocks of rows
(linear, ReLU, step, indicator, products, Boolean structure), an objective.

Stored in bulk (numpy / sparse arrays per block); it knows the logic it needs
(LRA, LIA, NRA, BV, MILP-expressible). Nothing here knows a network or a file
format.
"""
