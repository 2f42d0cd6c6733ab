"""Applications on the public API: the command line, the benchmarks, plots and the PyAutoLens
adapter."""
