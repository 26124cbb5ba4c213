"""Helpers that several methods share: LSQ step-size quantization, the partial-sum ADC and the
eager/compiled execution of elementwise formulas. No method is registered here."""
