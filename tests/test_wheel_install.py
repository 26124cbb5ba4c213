"""The package does not depend on the checkout's layout: a wheel installed into a fresh venv
runs ``bwma-estimate`` from an empty folder, with its configs, device presets and C source.

The wheel is built from a copy of the project (so the checkout gets no build/ folder). The
fresh venv borrows the dependencies of this interpreter through a ``.pth`` file listing its
site-packages: paths in a ``.pth`` are only appended to sys.path, their own ``.pth`` files
(the editable install's ``__editable__`` finder) are not run, so ``bwma_exp`` can only come
from the wheel.
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from importlib import resources
import bwma_exp
root = resources.files("bwma_exp")
print(json.dumps({
    "file": bwma_exp.__file__,
    "devices": sorted(p.name for p in (root / "configs" / "device").iterdir()
                      if p.name.endswith(".yaml")),
    "native_source": (root / "cim" / "native" / "binary_read.c").is_file(),
    "editable": [str(f) for f in sys.meta_path if "editable" in repr(f).lower()],
    "src_on_path": [p for p in sys.path if p.rstrip("/").endswith("/src")],
}))
"""


def _copy_project(dest: Path) -> Path:
    """pyproject.toml, the other top-level files (README...) and src/, without build output."""
    dest.mkdir()
    for item in REPO.iterdir():
        if item.is_file():
            shutil.copy2(item, dest / item.name)
    shutil.copytree(REPO / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.so"))
    return dest


def _run(cmd: list[str], cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, its python, an environment to run it in, an empty folder outside the
    repo) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PROJECT_ROOT", "VIRTUAL_ENV")}
    env.update(WANDB_MODE="offline", WANDB_SILENT="true", PYTHONNOUSERSITE="1",
               PYTHONWARNINGS="ignore", PIP_DISABLE_PIP_VERSION_CHECK="1",
               BWMA_EXP_COMPILE=os.environ.get("BWMA_EXP_COMPILE", "0"))
    empty = tmp / "empty"
    empty.mkdir()

    project = _copy_project(tmp / "project")
    wheels = tmp / "wheels"
    res = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "-q", "-w", str(wheels), str(project)], cwd=empty, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (wheel,) = wheels.glob("bwma_exp-*.whl")

    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                                            "'purelib'))"], cwd=empty, env=env).stdout.strip())
    borrowed = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_borrowed_deps.pth").write_text("\n".join(borrowed) + "\n")

    # --ignore-installed: the editable install's dist-info is visible through the .pth file;
    # pip must neither count it as installed nor try to uninstall it.
    res = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                "--ignore-installed", "-q", str(wheel)], cwd=empty, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return env_dir, python, env, empty


def test_the_wheel_imports_from_the_venv_with_its_data(installed):
    env_dir, python, env, empty = installed
    res = _run([str(python), "-c", PROBE], cwd=empty, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    probe = json.loads(res.stdout.strip().splitlines()[-1])
    location = Path(probe["file"]).resolve()
    assert location.is_relative_to(env_dir.resolve()), location
    assert not location.is_relative_to(REPO), location
    assert probe["editable"] == [] and probe["src_on_path"] == [], probe
    assert {"rram.yaml", "sram.yaml", "fefet.yaml"} <= set(probe["devices"]), probe["devices"]
    assert probe["native_source"]


def test_the_console_script_estimates_from_an_empty_folder(installed, tmp_path):
    env_dir, _, env, empty = installed
    script = env_dir / "bin" / "bwma-estimate"
    assert script.is_file()
    run = tmp_path / "run"
    res = _run([str(script), "model=vgg8", "device=sram", "crossbar_size=64", "act_bits=4",
                f"hydra.run.dir={run}"], cwd=empty, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    hw = json.loads((run / "hardware.json").read_text())
    for key in ("latency_ns", "energy_pj", "area_um2"):
        assert hw[key] > 0, (key, hw[key])
    assert hw["config"]["crossbar_size"] == 64
    assert json.loads((run / "summary.json").read_text())["status"] == "finished"


def test_the_console_script_rejects_a_bad_device_in_one_line(installed, tmp_path):
    env_dir, _, env, empty = installed
    res = _run([str(env_dir / "bin" / "bwma-estimate"), "device=bogus",
                f"hydra.run.dir={tmp_path / 'run'}"], cwd=empty, env=env)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in res.stderr, res.stderr
    assert "device='bogus'" in lines[-1] and "rram" in lines[-1]
