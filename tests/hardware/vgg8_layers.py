"""Hand-written layer tables of NeuroSim's VGG-8 and of ResNet-20 (option A) for CIFAR."""
from bwma_exp.hardware.spec import LayerSpec


def conv(name, size, c_in, c_out, *, stride=1, pool=False, w_bits=1, act_bits=4, fp=False, k=3):
    pad = k // 2
    out = (size + 2 * pad - k) // stride + 1
    return LayerSpec(name=name, kind="conv", in_h=size, in_w=size, c_in=c_in, c_out=c_out,
                     k_h=k, k_w=k, stride=stride, padding=pad, groups=1, out_h=out, out_w=out,
                     w_bits=w_bits, act_bits=act_bits, full_precision=fp, pool_after=pool)


def linear(name, c_in, c_out, *, w_bits=1, act_bits=4, fp=False):
    return LayerSpec(name=name, kind="linear", in_h=1, in_w=1, c_in=c_in, c_out=c_out, k_h=1,
                     k_w=1, stride=1, padding=0, groups=1, out_h=1, out_w=1, w_bits=w_bits,
                     act_bits=act_bits, full_precision=fp, pool_after=False)


def vgg8(w_bits=1, act_bits=4):
    kw = {"w_bits": w_bits, "act_bits": act_bits}
    return [conv("features.0", 32, 3, 128, **kw), conv("features.2", 32, 128, 128, pool=True, **kw),
            conv("features.5", 16, 128, 256, **kw), conv("features.7", 16, 256, 256, pool=True, **kw),
            conv("features.10", 8, 256, 512, **kw), conv("features.12", 8, 512, 512, pool=True, **kw),
            linear("classifier.0", 8192, 1024, **kw), linear("classifier.2", 1024, 10, **kw)]


def resnet20(w_bits=1, act_bits=4, fp_ends=False):
    kw = {"w_bits": w_bits, "act_bits": act_bits}
    layers = [conv("conv1", 32, 3, 16, fp=fp_ends, **kw)]
    c_in, size = 16, 32
    for stage, c_out in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if (block == 0 and stage > 0) else 1
            layers.append(conv(f"layer{stage + 1}.{block}.conv1", size, c_in, c_out,
                               stride=stride, **kw))
            size //= stride
            layers.append(conv(f"layer{stage + 1}.{block}.conv2", size, c_out, c_out, **kw))
            c_in = c_out
    layers.append(linear("fc", 64, 10, fp=fp_ends, **kw))
    return layers
