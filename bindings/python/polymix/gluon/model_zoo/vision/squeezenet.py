"""SqueezeNet 1.0 and 1.1 ("SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
Iandola et al. 2016), as MXNet 1.9.1's model zoo builds them (same parameter names and shapes)."""

from ....context import cpu
from ...block import HybridBlock
from ... import nn
from .. import model_store
from ._blocks import HybridConcurrent

__all__ = ["SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


def _make_fire_conv(channels, kernel_size, padding=0):
    """A convolution (with bias) followed by ReLU."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(channels, kernel_size, padding=padding), nn.Activation("relu"))
    return out


def _make_fire(squeeze_channels, expand1x1_channels, expand3x3_channels):
    """A fire module: a 1x1 squeeze, then 1x1 and 3x3 expansions side by side, concatenated along channels."""
    out = nn.HybridSequential(prefix="")
    out.add(_make_fire_conv(squeeze_channels, 1))
    expand = HybridConcurrent(axis=1, prefix="")
    expand.add(_make_fire_conv(expand1x1_channels, 1))
    expand.add(_make_fire_conv(expand3x3_channels, 3, 1))
    out.add(expand)
    return out


def _ceil_pool():
    """SqueezeNet's 3x3/2 max pool, rounding the output size up."""
    return nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True)


class SqueezeNet(HybridBlock):
    """SqueezeNet `version` '1.0' or '1.1' with `classes` outputs: a convolutional stem, fire modules and max
    pools, Dropout(0.5), then a 1x1 convolution classifier averaged over 13x13 (so inputs are 224x224)."""

    def __init__(self, version, classes=1000, **kwargs):
        super().__init__(**kwargs)
        if version not in ("1.0", "1.1"):
            raise ValueError("Unsupported SqueezeNet version %s: 1.0 or 1.1 expected" % (version,))
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            if version == "1.0":
                self.features.add(nn.Conv2D(96, kernel_size=7, strides=2), nn.Activation("relu"), _ceil_pool())
                self.features.add(_make_fire(16, 64, 64), _make_fire(16, 64, 64), _make_fire(32, 128, 128))
                self.features.add(_ceil_pool())
                self.features.add(_make_fire(32, 128, 128), _make_fire(48, 192, 192), _make_fire(48, 192, 192),
                                  _make_fire(64, 256, 256))
                self.features.add(_ceil_pool())
                self.features.add(_make_fire(64, 256, 256))
            else:
                self.features.add(nn.Conv2D(64, kernel_size=3, strides=2), nn.Activation("relu"), _ceil_pool())
                self.features.add(_make_fire(16, 64, 64), _make_fire(16, 64, 64))
                self.features.add(_ceil_pool())
                self.features.add(_make_fire(32, 128, 128), _make_fire(32, 128, 128))
                self.features.add(_ceil_pool())
                self.features.add(_make_fire(48, 192, 192), _make_fire(48, 192, 192), _make_fire(64, 256, 256),
                                  _make_fire(64, 256, 256))
            self.features.add(nn.Dropout(0.5))
            self.output = nn.HybridSequential(prefix="")
            self.output.add(nn.Conv2D(classes, kernel_size=1), nn.Activation("relu"), nn.AvgPool2D(13),
                            nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def get_squeezenet(version, pretrained=False, ctx=cpu(), root=model_store.default_root, **kwargs):
    """SqueezeNet `version` ('1.0' or '1.1'); pretrained=True loads root/squeezenet<version>-<hash>.params onto
    ctx."""
    net = SqueezeNet(version, **kwargs)
    if pretrained:
        model_store._load_pretrained(net, "squeezenet%s" % version, ctx, root)
    return net


def squeezenet1_0(**kwargs):
    """SqueezeNet 1.0 (get_squeezenet's keywords: pretrained, ctx, root, classes, ...)."""
    return get_squeezenet("1.0", **kwargs)


def squeezenet1_1(**kwargs):
    """SqueezeNet 1.1 (get_squeezenet's keywords)."""
    return get_squeezenet("1.1", **kwargs)
