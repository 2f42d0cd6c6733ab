"""``autokern.dask``, the public path of :mod:`autokern.io.dask`: Visibility terms over a Dask
collection of chunks, reduced as a tree on any Dask scheduler."""

from autokern.io.dask import (
    ClusterRun,
    chunks_from_arrays,
    compute_visibility_terms,
    delayed_chunks,
    local_client,
    main,
    run_on_local_cluster,
    synthetic_chunks,
    tree_sum,
    visibility_terms_from_dask,
)

__all__ = [
    "ClusterRun",
    "chunks_from_arrays",
    "compute_visibility_terms",
    "delayed_chunks",
    "local_client",
    "main",
    "run_on_local_cluster",
    "synthetic_chunks",
    "tree_sum",
    "visibility_terms_from_dask",
]

if __name__ == "__main__":  # python -m autokern.dask
    import sys

    sys.exit(main())
