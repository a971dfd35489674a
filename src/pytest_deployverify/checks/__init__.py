"""Plain check functions: data in, findings out. Nothing here imports pytest."""
