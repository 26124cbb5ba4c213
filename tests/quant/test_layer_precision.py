"""quant.layers: per-layer bits reach the model, the OPs counter and the estimator exactly in
the layers the patterns name (ResNet-20, mwma W4, three act_bits groups, counted by hand)."""
import pytest
import yaml

from bwma_exp.hardware import HardwareConfig, estimate, layer_table, load_device
from bwma_exp.models import build_model
from bwma_exp.models.counter import count_ops
from bwma_exp.quant import QuantSpec
from bwma_exp.utils.errors import ConfigError
from cli_helpers import CONFIGS, TINY, read_summary, run_entry

GROUPS = {"stages.0.*": {"act_bits": 2}, "stages.1.*": {"act_bits": 3},
          "stages.2.*": {"act_bits": 5}}
# MACs of ResNet-20's 3x3 convs at 32 px: each stage's first conv and its five others
FULL = 32 * 32 * 16 * 9 * 16                      # 16 -> 16 at 32x32 (= 32 -> 32 at 16x16 ...)
DOWN = 16 * 16 * 16 * 9 * 32                      # 16 -> 32, stride 2 (= 32 -> 64 at 8x8)


def _resnet20(layers=None):
    spec = QuantSpec("mwma", w_bits=4, act_bits=4, layers=layers or {})
    return build_model("resnet20", spec, 10, 32)


def _hw():
    hw = yaml.safe_load((CONFIGS / "hardware" / "default.yaml").read_text())
    return HardwareConfig.from_dicts(load_device("rram"), hw, 64, 4)


def test_bits_and_bops_change_exactly_in_the_named_layers():
    base, mixed = count_ops(_resnet20(), (3, 32, 32)), count_ops(_resnet20(GROUPS), (3, 32, 32))
    stage_macs = [6 * FULL, DOWN + 5 * FULL, DOWN + 5 * FULL]
    assert base["bops"] == sum(m * 4 * 4 for m in stage_macs)
    assert mixed["bops"] == sum(m * 4 * a for m, a in zip(stage_macs, (2, 3, 5)))
    assert mixed["flops"] == base["flops"]               # stem and classifier stay real


def test_the_layer_table_and_the_estimate_change_only_in_those_layers():
    base = {r.name: r for r in layer_table(_resnet20(), (3, 32, 32))}
    mixed = {r.name: r for r in layer_table(_resnet20(GROUPS), (3, 32, 32))}
    want = {name: next((v["act_bits"] for p, v in GROUPS.items()
                        if name.startswith(p[:-1])), 4 if name not in ("stem.0", "head.fc")
                       else 32) for name in base}
    assert {n: r.act_bits for n, r in mixed.items()} == want
    assert all(r.w_bits == base[n].w_bits for n, r in mixed.items())
    est_base, est_mixed = estimate(list(base.values()), _hw()), estimate(list(mixed.values()), _hw())
    for b, m in zip(est_base["layers"], est_mixed["layers"]):
        assert m["in_bits"] == (want[m["name"]] if want[m["name"]] < 32 else b["in_bits"])
        if want[m["name"]] in (2, 3):
            assert m["energy_pj"] < b["energy_pj"]      # fewer input bit planes
        elif want[m["name"]] == 5:
            assert m["energy_pj"] > b["energy_pj"]
        else:
            assert m["energy_pj"] == pytest.approx(b["energy_pj"])


def test_a_pattern_may_quantize_a_full_precision_layer():
    net = _resnet20({"head.fc": {"w_bits": 8, "act_bits": 8}})
    assert not net.head.fc.full_precision and (net.head.fc.w_bits, net.head.fc.act_bits) == (8, 8)


@pytest.mark.parametrize("layers, key, allowed", [
    ({"layer1.*": {"act_bits": 2}}, "quant.layers", "stages.0.0.conv1"),
    ({"stages.*": {"act_bits": 0}}, "quant.layers.stages.*.act_bits", "1 to 16"),
    ({"stages.*": {"bits": 2}}, "quant.layers.stages.*.bits", "act_bits, adc_bits, w_bits"),
    ({"stages.*": {"w_bits": 1}}, "quant.layers (stages.0.0.conv1).w_bits", "2 to 16"),
])
def test_bad_patterns_and_values_are_one_line(layers, key, allowed):
    with pytest.raises(ConfigError) as err:
        _resnet20(layers)
    assert err.value.key == key and allowed in err.value.allowed and "\n" not in str(err.value)


def test_train_py_records_the_bits_each_layer_got(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "dataset=synthetic", "model=resnet20", "quant=mwma", *TINY,
                    "quant.layers={stages.2.*: {act_bits: 2}}", "logger.wandb.mode=disabled",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-2000:]
    layers = {row["name"]: row for row in read_summary(run)["hw"]["layers"]}
    assert layers["stages.2.0.conv1"]["in_bits"] == 2 and layers["stages.1.0.conv1"]["in_bits"] == 4


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFIGS / "quant" / "layers").glob("*.yaml")))
def test_the_shipped_layer_configs_build_resnet20(compose_cfg, name):
    from bwma_exp.utils.builders import build_spec

    cfg = compose_cfg("train", ["model=resnet20", "quant=mwma", f"+quant/layers={name}"])
    net = build_model("resnet20", build_spec(cfg), 10, 32)
    assert any(getattr(m, "act_bits", 4) != 4 for m in net.modules())


def test_per_layer_adc_bits_cost_those_layers_reads_and_size_the_chip_for_the_finest():
    base = estimate(layer_table(_resnet20(), (3, 32, 32)), _hw())          # adc_bits 4
    coarse = estimate(layer_table(_resnet20({"stages.2.*": {"adc_bits": 3}}), (3, 32, 32)),
                      _hw())
    fine = estimate(layer_table(_resnet20({"stages.2.*": {"adc_bits": 6}}), (3, 32, 32)), _hw())
    for b, c in zip(base["layers"], coarse["layers"]):
        if c["name"].startswith("stages.2."):
            assert c["adc_bits"] == 3 and c["energy_pj"] < b["energy_pj"]
        else:
            assert c["adc_bits"] == b["adc_bits"] and c["energy_pj"] == pytest.approx(b["energy_pj"])
    assert coarse["area_um2"] == pytest.approx(base["area_um2"])   # the ADCs stay 4-bit ones
    assert fine["area_um2"] > base["area_um2"]                     # 6-bit ADCs on the chip
