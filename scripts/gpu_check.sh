#!/usr/bin/env bash
# GPU checks in one call (about 8 minutes on one CUDA GPU): the demo on trainer=gpu, the two
# benchmarks with --device cuda, and one tiled demo epoch; one summary line per check.
# The machine needs PyTorch (CUDA), Lightning, torchmetrics and scikit-learn; pass a folder of
# wheels for the rest (Hydra, OmegaConf, W&B, Optuna ...):  bash scripts/gpu_check.sh [WHEELS]
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=${1:-}
if [ -n "$WHEELS" ]; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/gpu_site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/gpu_site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD/src:${PYTHONPATH:-} WANDB_MODE=disabled PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"
summary=()
check() {  # check NAME SECONDS CMD...: run, keep the log, remember its last line
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  summary+=("$name: rc=$rc $((SECONDS - start))s | $(grep -v '^\s*$' "$OUT/$name.log" | tail -1)")
}
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'" || exit 1
check demo_gpu 180 python3 train.py experiment=demo trainer=gpu hydra.run.dir="$OUT/demo"
check bench_quant 120 python3 scripts/bench_quant_overhead.py --device cuda
check bench_tiled 90 python3 scripts/bench_tiled.py --device cuda --quick
check tiled_epoch 120 python3 train.py experiment=demo trainer=gpu cim.tiled=true \
  trainer.max_epochs=1 hydra.run.dir="$OUT/tiled"
printf '%s\n' "${summary[@]}"
