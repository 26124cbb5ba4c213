"""Multi-objective searches over quantization and hardware settings (``hparams_search=...``):
a Hydra sweeper driving Optuna's ask/tell, and its YAML search space."""
