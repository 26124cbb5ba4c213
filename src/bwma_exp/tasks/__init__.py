"""Task functions behind the entry points: train, estimate, evaluate."""
