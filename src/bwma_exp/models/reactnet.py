"""ReActNet-A (Liu et al. 2020; liuzechun/ReActNet ``mobilenet/2_step2/reactnet.py``): a
MobileNet-v1 layout where every depthwise/pointwise pair is a full binary 3x3 conv and a binary
1x1 conv, each with a real-valued residual; learnable shifts (RSign) before the binary convs and
RPReLU after the additions. FP stem (3x3 stride-2 conv + BN) and FP classifier."""
from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from ..quant import QuantSpec
from .binary_blocks import LearnableBias, RPReLU, check_sizes, with_origin_variant
from .blocks import model_options
from .registry import register_model

# Block i maps STAGE_CHANNELS[i - 1] -> STAGE_CHANNELS[i]; index 0 is the stem.
STAGE_CHANNELS = (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)


class ReActBlock(nn.Module):
    """3x3 binary conv (in -> in, ``stride``) + residual, then 1x1 binary conv(s) + residual.
    When the width doubles, two 1x1 convs (in -> in each) are concatenated, so each half keeps
    the block input as its residual."""

    def __init__(self, spec: QuantSpec, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels not in (in_channels, 2 * in_channels):
            raise ValueError(f"ReActBlock keeps or doubles the width, got {in_channels}->{out_channels}")
        c = in_channels
        self.move1 = LearnableBias(c)
        self.conv3x3 = spec.conv2d(c, c, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        # ceil_mode keeps the shortcut the size of the stride-2 conv output at odd sizes; at even
        # sizes (all of ImageNet's) it is the reference's plain 2x2 average pool.
        self.shortcut = nn.AvgPool2d(2, ceil_mode=True) if stride == 2 else nn.Identity()
        self.act1 = RPReLU(c)
        self.move2 = LearnableBias(c)
        n_pointwise = out_channels // in_channels
        self.pointwise = nn.ModuleList(spec.conv2d(c, c, 1) for _ in range(n_pointwise))
        self.bn2 = nn.ModuleList(nn.BatchNorm2d(c) for _ in range(n_pointwise))
        self.act2 = RPReLU(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.act1(self.bn1(self.conv3x3(self.move1(x))) + self.shortcut(x))
        shifted = self.move2(out1)
        out2 = torch.cat([bn(conv(shifted)) + out1 for conv, bn in zip(self.pointwise, self.bn2)],
                         dim=1)
        return self.act2(out2)


class ReActNetA(nn.Module):
    def __init__(self, spec: QuantSpec, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        width = STAGE_CHANNELS[0]
        self.stem = nn.Sequential(
            spec.conv2d(in_channels, width, 3, stride=2, padding=1, full_precision=True),
            nn.BatchNorm2d(width))
        blocks = []
        for i, (cin, cout) in enumerate(pairwise(STAGE_CHANNELS)):
            # Stride 2 wherever the width grows, except the first block (32 -> 64).
            stride = 2 if cout != cin and i > 0 else 1
            blocks.append(ReActBlock(spec, cin, cout, stride))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = spec.linear(STAGE_CHANNELS[-1], num_classes, full_precision=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


@register_model("reactnet_a")
def reactnet_a(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
               **kwargs) -> ReActNetA:
    model_options(kwargs, {})
    check_sizes(num_classes, in_channels)
    return ReActNetA(with_origin_variant(spec, "reactnet"), num_classes, in_channels)
