#!/usr/bin/env bash
# Table I, CIFAR-10 column: BWMA ResNet-18 W1/A4 over three seeds (paper: 89.91 %).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python train.py -m experiment=table1_resnet18_cifar10 seed=0,1,2 "$@"
