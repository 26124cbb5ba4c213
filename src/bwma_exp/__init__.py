"""bwma-exp: compute-in-memory aware quantized CNNs with an analytic CIM hardware model."""
