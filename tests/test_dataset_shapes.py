"""The config-only dataset shapes that estimate.py uses agree with the real datamodules."""
import pytest
from hydra.utils import instantiate

from bwma_exp.utils.dataset_shapes import dataset_shape
from cli_helpers import CONFIGS

DATASETS = sorted(p.stem for p in (CONFIGS / "dataset").glob("*.yaml"))


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("extra", [[], ["dataset.image_size=64"], ["dataset.num_classes=7"]])
def test_shape_from_config_matches_the_datamodule(compose_cfg, name, extra):
    if extra and name not in ("synthetic", "imagenet"):
        pytest.skip("image size and classes are fixed by the data")
    cfg = compose_cfg("estimate", [f"dataset={name}", *extra])
    shape = dataset_shape(cfg.dataset)
    datamodule = instantiate(cfg.dataset)
    assert shape is not None
    assert (shape.in_channels, shape.image_size, shape.num_classes) == (
        datamodule.in_channels, datamodule.image_size, datamodule.num_classes)
