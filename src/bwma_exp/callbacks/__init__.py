"""bwma_exp.callbacks"""
