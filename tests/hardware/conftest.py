import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hw_defaults() -> dict:
    return yaml.safe_load(open(ROOT / "src" / "bwma_exp" / "configs" / "hardware" / "default.yaml"))


@pytest.fixture
def make_hw(hw_defaults):
    from bwma_exp.hardware import HardwareConfig, load_device

    def make(device="rram", size=32, adc_bits=4, **overrides):
        settings = {**hw_defaults, **overrides}
        return HardwareConfig.from_dicts(load_device(device), settings, size, adc_bits)
    return make
