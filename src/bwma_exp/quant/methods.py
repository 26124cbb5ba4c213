"""Imports every quantization method module so each registers itself in ``spec.METHODS``."""
from . import bwba, bwma, mwma, origin  # noqa: F401
