#!/usr/bin/env bash
# Table II: binary-specific ImageNet models, their own binarization (Origin) vs BWMA, 1-bit
# activations. Needs dataset.data_dir=/path/to/imagenet and, for ReActNet-A, a real-valued
# ResNet-34 teacher checkpoint: TEACHER=/path/resnet34.ckpt (train one with
# `python train.py model=resnet34 quant=fp dataset=imagenet`).
set -euo pipefail
cd "$(dirname "$0")/../.."
python train.py -m experiment=table2_bdensenet28_origin,table2_bdensenet28_bwma,table2_meliusnet22_origin,table2_meliusnet22_bwma,table2_meliusnet29_origin,table2_meliusnet29_bwma "$@"
: "${TEACHER:?set TEACHER=/path/to/resnet34.ckpt for ReActNet-A's distillation}"
for method in origin bwma; do
  step1=outputs/paper/reactnet_a_${method}_step1
  python train.py experiment=table2_reactnet_a_${method}_step1 distill.teacher_ckpt="$TEACHER" \
    hydra.run.dir="$step1" "$@"
  python train.py experiment=table2_reactnet_a_${method}_step2 distill.teacher_ckpt="$TEACHER" \
    init_from="$step1" hydra.run.dir=outputs/paper/reactnet_a_${method}_step2 "$@"
done
