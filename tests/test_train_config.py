"""Config composition: the keys users type, the defaults each quant option sets."""
import pytest
from omegaconf import OmegaConf


@pytest.mark.parametrize("quant, w_bits", [("bwma", 1), ("mwma", 4), ("fp", 32), ("bwba", 1)])
def test_each_quant_option_sets_its_own_w_bits(compose_cfg, quant, w_bits):
    cfg = compose_cfg("train", [f"quant={quant}"])
    assert cfg.quant.method == quant
    assert cfg.w_bits == w_bits


def test_top_level_keys_need_no_plus_and_adc_follows_act_bits(compose_cfg):
    cfg = compose_cfg("train", ["act_bits=3", "crossbar_size=64", "seed=7"])
    assert (cfg.act_bits, cfg.adc_bits, cfg.crossbar_size, cfg.seed) == (3, 3, 64, 7)
    cfg = compose_cfg("train", ["act_bits=3", "adc_bits=5"])
    assert (cfg.act_bits, cfg.adc_bits) == (3, 5)


def test_demo_experiment_and_command_line_overrides(compose_cfg):
    cfg = compose_cfg("train", ["experiment=demo"])
    assert cfg.model.name == "resnet20" and cfg.quant.method == "bwma"
    assert cfg.dataset._target_.endswith("DigitsDataModule")
    assert cfg.act_bits == 4 and cfg.w_bits == 1
    # The command line wins over the experiment, for groups and for keys.
    cfg = compose_cfg("train", ["experiment=demo", "quant=fp", "act_bits=2"])
    assert cfg.quant.method == "fp" and cfg.w_bits == 32 and cfg.act_bits == 2


def test_estimate_config_shares_groups_with_train(compose_cfg):
    cfg = compose_cfg("estimate", ["model=resnet20", "device=sram", "crossbar_size=32"])
    assert cfg.model.name == "resnet20" and cfg.device.name == "sram"
    assert "trainer" not in cfg and cfg.adc_bits == cfg.act_bits


def test_every_config_resolves(compose_cfg):
    cfg = compose_cfg("train", ["experiment=demo"])
    OmegaConf.resolve(cfg.hydra)  # ${now:...} and friends
    assert cfg.hydra.run.dir.startswith(cfg.paths.log_dir)


def test_paper_experiments_compose(compose_cfg):
    cfg = compose_cfg("train", ["experiment=table1_resnet18_cifar10"])
    assert (cfg.model.name, cfg.w_bits, cfg.act_bits, cfg.model.bn_before_fc) == ("resnet18", 1, 4, True)
    assert cfg.dataset._target_.endswith("Cifar10DataModule")
    cfg = compose_cfg("train", ["experiment=act_bits_balance", "model=vgg8", "act_bits=6"])
    assert (cfg.model.name, cfg.act_bits, cfg.adc_bits) == ("vgg8", 6, 6)
    assert list(cfg.hardware.devices) == ["rram", "sram", "fefet"]
