"""Imports every quantization method module so each registers itself in ``spec.METHODS``."""
from . import bwba, bwma, cimq, columnquant, mwma, origin  # noqa: F401
