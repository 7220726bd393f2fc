"""Inception v3 ("Rethinking the Inception Architecture for Computer Vision", Szegedy et al. 2015), as MXNet
1.9.1's model zoo builds it (same parameter names and shapes). Inputs are 299x299."""

from ....context import cpu
from ...block import HybridBlock
from ... import nn
from .. import model_store
from ._blocks import HybridConcurrent

__all__ = ["Inception3", "inception_v3"]

_CONV_SETTINGS = ("channels", "kernel_size", "strides", "padding")


def _make_basic_conv(**kwargs):
    """A bias-free convolution (Conv2D's keywords), BatchNorm with epsilon 1e-3, ReLU."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(use_bias=False, **kwargs), nn.BatchNorm(epsilon=0.001), nn.Activation("relu"))
    return out


def _make_branch(use_pool, *conv_settings):
    """A branch: an optional pool ('avg': 3x3/1 pad 1, 'max': 3x3/2), then one basic convolution per setting
    (channels, kernel_size, strides, padding), None meaning Conv2D's default."""
    out = nn.HybridSequential(prefix="")
    if use_pool == "avg":
        out.add(nn.AvgPool2D(pool_size=3, strides=1, padding=1))
    elif use_pool == "max":
        out.add(nn.MaxPool2D(pool_size=3, strides=2))
    for setting in conv_settings:
        out.add(_make_basic_conv(**{key: value for key, value in zip(_CONV_SETTINGS, setting) if value is not None}))
    return out


def _make_split(*conv_settings):
    """Branches of one convolution each, side by side on the same input (the split ends of module E)."""
    out = HybridConcurrent(axis=1, prefix="")
    for setting in conv_settings:
        out.add(_make_branch(None, setting))
    return out


def _make_A(pool_features, prefix):
    """Module A (35x35): 1x1, 1x1-5x5, 1x1-3x3-3x3 and avgpool-1x1 (pool_features) branches."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(_make_branch(None, (64, 1, None, None)))
        out.add(_make_branch(None, (48, 1, None, None), (64, 5, None, 2)))
        out.add(_make_branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, None, 1)))
        out.add(_make_branch("avg", (pool_features, 1, None, None)))
    return out


def _make_B(prefix):
    """Module B (35x35 -> 17x17): a strided 3x3, a 1x1-3x3-3x3/2 and a max pool branch."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(_make_branch(None, (384, 3, 2, None)))
        out.add(_make_branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, 2, None)))
        out.add(_make_branch("max"))
    return out


def _make_C(channels_7x7, prefix):
    """Module C (17x17): 1x1, factorized 7x7 (1x7, 7x1), double factorized 7x7 and avgpool-1x1 branches."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(_make_branch(None, (192, 1, None, None)))
        out.add(_make_branch(None, (channels_7x7, 1, None, None), (channels_7x7, (1, 7), None, (0, 3)),
                             (192, (7, 1), None, (3, 0))))
        out.add(_make_branch(None, (channels_7x7, 1, None, None), (channels_7x7, (7, 1), None, (3, 0)),
                             (channels_7x7, (1, 7), None, (0, 3)), (channels_7x7, (7, 1), None, (3, 0)),
                             (192, (1, 7), None, (0, 3))))
        out.add(_make_branch("avg", (192, 1, None, None)))
    return out


def _make_D(prefix):
    """Module D (17x17 -> 8x8): 1x1-3x3/2, 1x1-1x7-7x1-3x3/2 and max pool branches."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(_make_branch(None, (192, 1, None, None), (320, 3, 2, None)))
        out.add(_make_branch(None, (192, 1, None, None), (192, (1, 7), None, (0, 3)), (192, (7, 1), None, (3, 0)),
                             (192, 3, 2, None)))
        out.add(_make_branch("max"))
    return out


def _make_E(prefix):
    """Module E (8x8): 1x1; 1x1 then split 1x3 | 3x1; 1x1-3x3 then split 1x3 | 3x1; avgpool-1x1."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(_make_branch(None, (320, 1, None, None)))

        branch_3x3 = nn.HybridSequential(prefix="")
        out.add(branch_3x3)
        branch_3x3.add(_make_branch(None, (384, 1, None, None)))
        branch_3x3.add(_make_split((384, (1, 3), None, (0, 1)), (384, (3, 1), None, (1, 0))))

        branch_3x3dbl = nn.HybridSequential(prefix="")
        out.add(branch_3x3dbl)
        branch_3x3dbl.add(_make_branch(None, (448, 1, None, None), (384, 3, None, 1)))
        branch_3x3dbl.add(_make_split((384, (1, 3), None, (0, 1)), (384, (3, 1), None, (1, 0))))

        out.add(_make_branch("avg", (192, 1, None, None)))
    return out


def make_aux(classes):
    """The auxiliary classifier of the paper (MXNet defines it but Inception3 does not use it)."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.AvgPool2D(pool_size=5, strides=3))
    out.add(_make_basic_conv(channels=128, kernel_size=1))
    out.add(_make_basic_conv(channels=768, kernel_size=5))
    out.add(nn.Flatten())
    out.add(nn.Dense(classes))
    return out


class Inception3(HybridBlock):
    """Inception v3 with `classes` outputs: the convolutional stem, modules A1-A3, B, C1-C4, D, E1-E2 (prefixes
    'A1_', ...), an 8x8 average pool, Dropout(0.5) and the classifier. Inputs are 299x299."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(_make_basic_conv(channels=32, kernel_size=3, strides=2),
                              _make_basic_conv(channels=32, kernel_size=3),
                              _make_basic_conv(channels=64, kernel_size=3, padding=1),
                              nn.MaxPool2D(pool_size=3, strides=2),
                              _make_basic_conv(channels=80, kernel_size=1),
                              _make_basic_conv(channels=192, kernel_size=3),
                              nn.MaxPool2D(pool_size=3, strides=2))
            self.features.add(_make_A(32, "A1_"), _make_A(64, "A2_"), _make_A(64, "A3_"), _make_B("B_"))
            self.features.add(_make_C(128, "C1_"), _make_C(160, "C2_"), _make_C(160, "C3_"), _make_C(192, "C4_"))
            self.features.add(_make_D("D_"), _make_E("E1_"), _make_E("E2_"))
            self.features.add(nn.AvgPool2D(pool_size=8), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def inception_v3(pretrained=False, ctx=cpu(), root=model_store.default_root, **kwargs):
    """Inception v3; pretrained=True loads root/inceptionv3-<hash>.params onto ctx; other keywords (classes,
    prefix, ...) go to the network."""
    net = Inception3(**kwargs)
    if pretrained:
        model_store._load_pretrained(net, "inceptionv3", ctx, root)
    return net
