"""Data in memory: grids from masks, Delaunay meshes, datasets and presets, and the fold of
streamed visibility chunks."""
