"""The array namespace of the reference backend's shared maths: NumPy and SciPy."""

from autokern._shared.evidence import NUMPY_OPS as OPS

__all__ = ["OPS"]
