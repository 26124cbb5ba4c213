"""Lightning callbacks of bwma-exp."""
from .csv_rows import CSVRowsCallback
from .hardware import HardwareEstimateCallback, flat_hw_metrics
from .rng_state import RNGStateCallback
from .summary import SummaryCallback

__all__ = ["CSVRowsCallback", "HardwareEstimateCallback", "RNGStateCallback", "SummaryCallback", "flat_hw_metrics"]
