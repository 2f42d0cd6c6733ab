"""The Numba backend: ``@numba.njit`` CPU kernels, compiled lazily on first call and cached.

Importing this package compiles nothing.
"""
