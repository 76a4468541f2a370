"""Writing results: atomic files, manifests, tables and arrays."""
