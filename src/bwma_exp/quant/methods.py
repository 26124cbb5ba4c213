"""Imports every quantization method module so each registers itself in ``spec.METHODS``."""
from . import origin  # noqa: F401
from . import bwba, bwma, mwma  # noqa: F401
