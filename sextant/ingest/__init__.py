"""Wire formats and files -> validated rows of the canonical tables."""
