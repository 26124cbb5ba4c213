"""The W&B workspace built from code (bwma_exp.report.wandb_dashboard) and the breakdown
charts every run logs; nothing here needs a network or a W&B login."""
import json
import os
import subprocess
import sys

import pytest
import yaml
from report_fixtures import hardware

from bwma_exp.callbacks.hardware import _breakdown_charts, flat_hw_metrics
from bwma_exp.report.wandb_dashboard import build_workspace, panel_keys
from cli_helpers import CONFIGS, REPO

COMMAND = [sys.executable, "-m", "bwma_exp.report.wandb_dashboard", "--entity", "e",
           "--project", "p"]
SCATTER = {"test/acc vs energy (pJ)": ["hw/energy_pj", "test/acc"],
           "test/acc vs latency (ns)": ["hw/latency_ns", "test/acc"],
           "test/acc vs area (µm²)": ["hw/area_um2", "test/acc"]}
LINES = {"val/acc": ["trainer/global_step", "val/acc"],
         "train/loss": ["trainer/global_step", "train/loss_step", "train/loss_epoch"]}
BARS = ("latency breakdown (ns)", "area breakdown (µm²)", "energy breakdown (pJ)")


def run_cli(*args, env=None):
    return subprocess.run([*COMMAND, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "WANDB_MODE": "offline", **(env or {})})


def panels(section):
    return {panel.title: panel_keys(panel) for panel in section.panels}


def estimated_breakdown_keys():
    """The hw/breakdown/<group>/* keys a real estimate logs (one small linear layer)."""
    from bwma_exp.hardware import HardwareConfig, estimate, load_device
    from bwma_exp.hardware.spec import LayerSpec

    settings = yaml.safe_load((CONFIGS / "hardware" / "default.yaml").read_text())
    hw = HardwareConfig.from_dicts(load_device("rram"), settings, 64, 4)
    layer = LayerSpec(name="fc", kind="linear", in_h=1, in_w=1, c_in=64, c_out=10, k_h=1, k_w=1,
                      stride=1, padding=0, groups=1, out_h=1, out_w=1, w_bits=1, act_bits=4)
    keys = flat_hw_metrics(estimate([layer], hw), "hw")
    return {group: sorted(k for k in keys if k.startswith(f"hw/breakdown/{group}/"))
            for group in ("latency", "area", "energy")}


def test_the_workspace_has_the_sections_panels_and_grouping():
    workspace = build_workspace("e", "p")
    assert (workspace.entity, workspace.project) == ("e", "p")
    scatter, bars, lines = workspace.sections
    assert panels(scatter) == SCATTER
    assert panels(lines) == LINES
    expected = estimated_breakdown_keys()
    assert {title: sorted(keys) for title, keys in panels(bars).items()} == {
        title: expected[title.split()[0]] for title in BARS}
    # runs grouped by sweep (the W&B run group), then by the quant.method config key
    assert [(type(g).__name__, g.name) for g in workspace.runset_settings.groupby] == [
        ("Metric", "Group"), ("Config", "quant.method")]


def test_dry_run_prints_every_panel_and_the_spec_it_would_save(tmp_path):
    res = run_cli("--dry-run", env={"HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-2000:]
    for title, keys in {**SCATTER, **LINES, **{t: [] for t in BARS}}.items():
        assert repr(title) in res.stdout
        assert all(key in res.stdout for key in keys)
    spec = json.loads(res.stdout[res.stdout.index("\n{") + 1:])
    sections = spec["section"]["panelBankConfig"]["sections"]
    titles = {p["config"]["chartTitle"] for s in sections for p in s["panels"]}
    assert titles == {*SCATTER, *LINES, *BARS}
    assert [g["name"] for g in spec["section"]["runSets"][0]["grouping"]] == [
        "group", "quant.value.method"]


def test_saving_without_a_login_is_one_error_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update(HOME=str(tmp_path), NETRC=str(tmp_path / ".netrc"),
               WANDB_CONFIG_DIR=str(tmp_path / "wandb"))
    res = subprocess.run(COMMAND, cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stdout + res.stderr


@pytest.mark.parametrize("group", ["latency", "area", "energy"])
def test_each_breakdown_is_logged_as_a_bar_chart(group):
    result = hardware()
    chart = _breakdown_charts(result)[f"hw/breakdown_chart/{group}"]
    assert chart.spec.spec_name == "wandb/bar/v0"
    assert chart.spec.fields == {"label": "part", "value": "value"}
    assert chart.table.columns == ["part", "value"]
    assert dict(chart.table.data) == pytest.approx(result["breakdown"][group])
