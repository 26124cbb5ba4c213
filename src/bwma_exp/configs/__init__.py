"""The Hydra configs, shipped with the package (read through ``importlib.resources``)."""
