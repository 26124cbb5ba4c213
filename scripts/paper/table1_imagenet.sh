#!/usr/bin/env bash
# Table I, ImageNet column: BWMA ResNet-18 W1/A4 (paper: 67.85 % top-1).
# Needs ImageNet in ImageFolder layout: pass dataset.data_dir=/path/to/imagenet.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python train.py -m experiment=table1_resnet18_imagenet "$@"
