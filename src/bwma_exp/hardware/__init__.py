"""bwma_exp.hardware"""
