"""CPU engines: the Numba-compiled routines below the backends, shared by the Numba backend and
the JAX backend's CPU host callbacks (neither backend imports the other).

- :mod:`~autokern._cpu.cholesky` — F + H factorised by a blocked Cholesky on Numba's threads;
- :mod:`~autokern._cpu.lattice_curvature` — F = Tᵀ W̃ T gathered from a lattice lag table;
- :mod:`~autokern._cpu.sparse_columns` — T in column form and Tᵀ X;
- :mod:`~autokern._cpu.nufft_points` — the points of a ducc0 NUFFT, in one parallel pass;
- :mod:`~autokern._cpu.nnls` — the positive-only solve (block principal pivoting, then fnnls).

- :mod:`~autokern._cpu.nufft` — the ducc0 NUFFT and when to take it (no Numba);
- :mod:`~autokern._cpu.fft_curvature` — F by SciPy FFTs (no Numba).

Importing a Numba module of this package chooses Numba's fork-safe threading layer
before any of its kernels runs; the package itself imports nothing.
"""
