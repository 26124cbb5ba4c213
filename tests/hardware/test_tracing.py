"""layer_table reads conv/linear shapes, bits and pooling off one forward pass."""
import torch
from torch import nn

from bwma_exp.hardware import layer_table


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.conv.w_bits, self.conv.act_bits, self.conv.full_precision = 1, 4, False
        self.pool = nn.MaxPool2d(2)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.bn = nn.BatchNorm2d(8)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(self.conv(x))
        x = self.gap(self.bn(self.dw(x))).flatten(1)
        return self.fc(x)


def test_layer_table_shapes_bits_and_pools():
    model = Tiny().train()
    before = model.bn.running_mean.clone()
    layers = layer_table(model, (3, 16, 16))
    assert [layer.name for layer in layers] == ["conv", "dw", "fc"]
    conv, dw, fc = layers
    assert (conv.in_h, conv.out_h, conv.w_bits, conv.act_bits, conv.pool_after) == (16, 16, 1, 4, True)
    assert (dw.in_h, dw.out_h, dw.groups, dw.stride, dw.w_bits, dw.pool_after) == (8, 4, 8, 2, 32, False)
    assert (fc.kind, fc.c_in, fc.c_out, fc.in_h, fc.k_h) == ("linear", 8, 10, 1, 1)
    assert model.training and torch.equal(model.bn.running_mean, before)
