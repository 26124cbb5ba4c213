#!/usr/bin/env bash
# Accuracy side of "4-bit activations are the best balance": ResNet-20 and VGG-8 on CIFAR-10,
# act_bits 2..6 x seeds 0..2, each costed on RRAM, SRAM and FeFET (hw/<device>/64/*).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python train.py -m experiment=act_bits_balance model=resnet20,vgg8 act_bits=2,3,4,5,6 seed=0,1,2 "$@"
