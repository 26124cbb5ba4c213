"""Imports every architecture module so each registers itself in ``registry.MODELS``."""
