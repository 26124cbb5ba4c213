"""bwma_exp.report"""
