"""VGG 11/13/16/19 ("Very Deep Convolutional Networks for Large-Scale Image Recognition", Simonyan & Zisserman
2014), with or without BatchNorm, as MXNet 1.9.1's model zoo builds them (same parameter names, shapes and
initializers)."""

from ....context import cpu
from ....initializer import Xavier
from ...block import HybridBlock
from ... import nn
from .. import model_store

__all__ = ["VGG", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "get_vgg"]


class VGG(HybridBlock):
    """VGG: `layers[i]` 3x3 convolutions of `filters[i]` channels per stage, each stage closed by a 2x2 max pool,
    then two Dense(4096)+Dropout(0.5) and the classifier; batch_norm=True adds BatchNorm after each convolution.
    Needs 224x224 inputs (the first Dense expects 512x7x7 features)."""

    def __init__(self, layers, filters, classes=1000, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        if len(layers) != len(filters):
            raise ValueError("VGG: layers and filters must have the same length: got %d and %d"
                             % (len(layers), len(filters)))
        with self.name_scope():
            self.features = self._make_features(layers, filters, batch_norm)
            for _ in range(2):
                self.features.add(nn.Dense(4096, activation="relu", weight_initializer="normal",
                                           bias_initializer="zeros"))
                self.features.add(nn.Dropout(rate=0.5))
            self.output = nn.Dense(classes, weight_initializer="normal", bias_initializer="zeros")

    def _make_features(self, layers, filters, batch_norm):
        """The convolutional stages, in one HybridSequential sharing the network's prefix."""
        features = nn.HybridSequential(prefix="")
        for num_convs, channels in zip(layers, filters):
            for _ in range(num_convs):
                features.add(nn.Conv2D(channels, kernel_size=3, padding=1,
                                       weight_initializer=Xavier(rnd_type="gaussian", factor_type="out",
                                                                 magnitude=2),
                                       bias_initializer="zeros"))
                if batch_norm:
                    features.add(nn.BatchNorm())
                features.add(nn.Activation("relu"))
            features.add(nn.MaxPool2D(strides=2))
        return features

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


# num_layers -> (convolutions per stage, channels per stage).
vgg_spec = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
            13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
            16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
            19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


def get_vgg(num_layers, pretrained=False, ctx=cpu(), root=model_store.default_root, **kwargs):
    """VGG with `num_layers` (11, 13, 16, 19); batch_norm=True for the _bn variant; pretrained=True loads
    root/vgg<num_layers>[_bn]-<hash>.params onto ctx."""
    if num_layers not in vgg_spec:
        raise ValueError("Invalid number of layers: %d. Options are %s" % (num_layers, sorted(vgg_spec)))
    layers, filters = vgg_spec[num_layers]
    net = VGG(layers, filters, **kwargs)
    if pretrained:
        suffix = "_bn" if kwargs.get("batch_norm") else ""
        model_store._load_pretrained(net, "vgg%d%s" % (num_layers, suffix), ctx, root)
    return net


def vgg11(**kwargs):
    """VGG-11 (get_vgg's keywords: pretrained, ctx, root, classes, ...)."""
    return get_vgg(11, **kwargs)


def vgg13(**kwargs):
    """VGG-13 (get_vgg's keywords)."""
    return get_vgg(13, **kwargs)


def vgg16(**kwargs):
    """VGG-16 (get_vgg's keywords)."""
    return get_vgg(16, **kwargs)


def vgg19(**kwargs):
    """VGG-19 (get_vgg's keywords)."""
    return get_vgg(19, **kwargs)


def vgg11_bn(**kwargs):
    """VGG-11 with BatchNorm (get_vgg's keywords)."""
    kwargs["batch_norm"] = True
    return get_vgg(11, **kwargs)


def vgg13_bn(**kwargs):
    """VGG-13 with BatchNorm (get_vgg's keywords)."""
    kwargs["batch_norm"] = True
    return get_vgg(13, **kwargs)


def vgg16_bn(**kwargs):
    """VGG-16 with BatchNorm (get_vgg's keywords)."""
    kwargs["batch_norm"] = True
    return get_vgg(16, **kwargs)


def vgg19_bn(**kwargs):
    """VGG-19 with BatchNorm (get_vgg's keywords)."""
    kwargs["batch_norm"] = True
    return get_vgg(19, **kwargs)
