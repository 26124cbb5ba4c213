"""Lightning callbacks of bwma-exp."""
from .hardware import HardwareEstimateCallback, flat_hw_metrics
from .rng_state import RNGStateCallback
from .summary import SummaryCallback

__all__ = ["HardwareEstimateCallback", "RNGStateCallback", "SummaryCallback", "flat_hw_metrics"]
