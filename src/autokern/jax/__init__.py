"""The JAX backend: ``jax.jit`` kernels in float64.

Importing this package switches on ``jax_enable_x64`` for the whole process (JAX defaults to
float32, which would lose the 1e-10 agreement every kernel promises); check it with
``autokern info`` or :func:`backend_info`.  It also gives XLA's CPU client a one-thread
intra-op pool and synchronous dispatch, which avoids a jaxlib thread-pool deadlock in its
LAPACK kernels (see ``autokern.jax._runtime``; ``AUTOKERN_JAX_SAFE_CPU=0`` keeps JAX's
defaults).

Each public kernel validates its arguments in Python, then calls small jitted cores whose
static arguments are only those that set shapes (``pixels``, the grid extent, the chunk size),
so new values of the same shapes never recompile.  Set ``AUTOKERN_JAX_CACHE_DIR`` (or call
:func:`enable_compilation_cache`) to keep compiled kernels on disk across processes.
"""

# _runtime first: it enables x64 before any kernel module is imported.
from autokern.jax._runtime import backend_info as backend_info
from autokern.jax._runtime import enable_compilation_cache as enable_compilation_cache
from autokern.jax.curvature import (
    curvature_matrix_via_w_compact_fft_from as curvature_matrix_via_w_compact_fft_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_compact_from as curvature_matrix_via_w_compact_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from as curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from as curvature_matrix_via_w_compact_sparse_mapping_matrix_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO as curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_tilde_curvature_preload_interferometer_from as curvature_matrix_via_w_tilde_curvature_preload_interferometer_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_tilde_from as curvature_matrix_via_w_tilde_from,
)
from autokern.jax.curvature import (
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from as curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
)
from autokern.jax.grid import mask_2d_centres_from as mask_2d_centres_from
from autokern.jax.grid import mask_2d_circular_from as mask_2d_circular_from
from autokern.jax.likelihood import (
    constant_regularization_matrix_from as constant_regularization_matrix_from,
)
from autokern.jax.likelihood import (
    log_likelihood_function_via_visibility_terms_from as log_likelihood_function_via_visibility_terms_from,
)
from autokern.jax.likelihood import (
    log_likelihood_function_via_w_compact_from as log_likelihood_function_via_w_compact_from,
)
from autokern.jax.likelihood import (
    log_likelihood_function_via_w_tilde_from as log_likelihood_function_via_w_tilde_from,
)
from autokern.jax.likelihood import (
    noise_normalization_complex_from as noise_normalization_complex_from,
)
from autokern.jax.likelihood import (
    reconstruction_positive_negative_from as reconstruction_positive_negative_from,
)
from autokern.jax.mapping import data_vector_from as data_vector_from
from autokern.jax.mapping import mapping_matrix_from as mapping_matrix_from
from autokern.jax.mapping import mapping_matrix_from_BCOO as mapping_matrix_from_BCOO
from autokern.jax.mapping import (
    sparse_mapping_matrix_transpose_matmul as sparse_mapping_matrix_transpose_matmul,
)
from autokern.jax.w_tilde import preload_from_w_compact as preload_from_w_compact
from autokern.jax.w_tilde import visibility_terms_from as visibility_terms_from
from autokern.jax.w_tilde import (
    w_compact_curvature_interferometer_from as w_compact_curvature_interferometer_from,
)
from autokern.jax.w_tilde import w_compact_from_preload as w_compact_from_preload
from autokern.jax.w_tilde import (
    w_tilde_curvature_interferometer_from as w_tilde_curvature_interferometer_from,
)
from autokern.jax.w_tilde import (
    w_tilde_curvature_preload_interferometer_from as w_tilde_curvature_preload_interferometer_from,
)
from autokern.jax.w_tilde import (
    w_tilde_data_interferometer_from as w_tilde_data_interferometer_from,
)
from autokern.jax.w_tilde import w_tilde_via_compact_from as w_tilde_via_compact_from
from autokern.jax.w_tilde import w_tilde_via_preload_from as w_tilde_via_preload_from
