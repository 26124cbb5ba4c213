"""Lightning callbacks of bwma-exp."""
from .hardware import HardwareEstimateCallback, flat_hw_metrics
from .summary import SummaryCallback

__all__ = ["HardwareEstimateCallback", "SummaryCallback", "flat_hw_metrics"]
