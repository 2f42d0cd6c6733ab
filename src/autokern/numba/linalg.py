"""The array namespace of the Numba backend's shared maths: NumPy and SciPy (LAPACK via
SciPy is as fast as anything Numba would compile for the dense factorisations)."""

from autokern._evidence import NUMPY_OPS as OPS

__all__ = ["OPS"]
