"""The Numba backend: ``@numba.njit`` CPU kernels, compiled lazily on first call and cached.

Every catalogue kernel except the JAX-only BCOO ones.  Importing this package compiles nothing:
the jitted cores carry no signatures and compile on their first call (``cache=True`` keeps the
machine code on disk for later processes).  Reductions over visibilities run in chunks of
``chunk_size``; the curvature kernels gather W̃ from its lattice lag table and never form it.
"""

from autokern.numba.curvature import (
    curvature_matrix_via_w_compact_fft_from as curvature_matrix_via_w_compact_fft_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_compact_from as curvature_matrix_via_w_compact_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from as curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from as curvature_matrix_via_w_compact_sparse_mapping_matrix_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_tilde_curvature_preload_interferometer_from as curvature_matrix_via_w_tilde_curvature_preload_interferometer_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_tilde_from as curvature_matrix_via_w_tilde_from,
)
from autokern.numba.curvature import (
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from as curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
)
from autokern.numba.grid import (
    mask_2d_centres_from as mask_2d_centres_from,
)
from autokern.numba.grid import (
    mask_2d_circular_from as mask_2d_circular_from,
)
from autokern.numba.likelihood import (
    constant_regularization_matrix_from as constant_regularization_matrix_from,
)
from autokern.numba.likelihood import (
    log_likelihood_function_via_visibility_terms_from as log_likelihood_function_via_visibility_terms_from,
)
from autokern.numba.likelihood import (
    log_likelihood_function_via_w_compact_from as log_likelihood_function_via_w_compact_from,
)
from autokern.numba.likelihood import (
    log_likelihood_function_via_w_tilde_from as log_likelihood_function_via_w_tilde_from,
)
from autokern.numba.likelihood import (
    noise_normalization_complex_from as noise_normalization_complex_from,
)
from autokern.numba.likelihood import (
    reconstruction_positive_negative_from as reconstruction_positive_negative_from,
)
from autokern.numba.mapping import (
    data_vector_from as data_vector_from,
)
from autokern.numba.mapping import (
    mapping_matrix_from as mapping_matrix_from,
)
from autokern.numba.mapping import (
    sparse_mapping_matrix_transpose_matmul as sparse_mapping_matrix_transpose_matmul,
)
from autokern.numba.w_tilde import (
    preload_from_w_compact as preload_from_w_compact,
)
from autokern.numba.w_tilde import (
    visibility_terms_from as visibility_terms_from,
)
from autokern.numba.w_tilde import (
    w_compact_curvature_interferometer_from as w_compact_curvature_interferometer_from,
)
from autokern.numba.w_tilde import (
    w_compact_from_preload as w_compact_from_preload,
)
from autokern.numba.w_tilde import (
    w_tilde_curvature_interferometer_from as w_tilde_curvature_interferometer_from,
)
from autokern.numba.w_tilde import (
    w_tilde_curvature_preload_interferometer_from as w_tilde_curvature_preload_interferometer_from,
)
from autokern.numba.w_tilde import (
    w_tilde_data_interferometer_from as w_tilde_data_interferometer_from,
)
from autokern.numba.w_tilde import (
    w_tilde_via_compact_from as w_tilde_via_compact_from,
)
from autokern.numba.w_tilde import (
    w_tilde_via_preload_from as w_tilde_via_preload_from,
)
