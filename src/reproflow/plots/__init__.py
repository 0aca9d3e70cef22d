"""Plotting functions: each takes tidy data and returns a matplotlib Figure (the CLI saves it).

Plotting libraries are imported only here and in plotting CLIs (start-up cost of other jobs).
"""
