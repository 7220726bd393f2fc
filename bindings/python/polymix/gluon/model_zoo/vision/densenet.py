"""DenseNet 121/161/169/201 ("Densely Connected Convolutional Networks", Huang et al. 2016), as MXNet 1.9.1's
model zoo builds them (same parameter names and shapes)."""

from ....context import cpu
from ...block import HybridBlock
from ... import nn
from .. import model_store
from ._blocks import HybridConcurrent, Identity

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


def _make_dense_layer(growth_rate, bn_size, dropout):
    """One dense layer: BN-ReLU-1x1 conv (bn_size * growth_rate) - BN-ReLU-3x3 conv (growth_rate), its output
    concatenated to its input."""
    new_features = nn.HybridSequential(prefix="")
    new_features.add(nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(bn_size * growth_rate, kernel_size=1, use_bias=False),
                     nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(growth_rate, kernel_size=3, padding=1, use_bias=False))
    if dropout:
        new_features.add(nn.Dropout(dropout))
    out = HybridConcurrent(axis=1, prefix="")
    out.add(Identity())
    out.add(new_features)
    return out


def _make_dense_block(num_layers, bn_size, growth_rate, dropout, stage_index):
    """Dense block `stage_index` ('stage1_', ...) of num_layers dense layers."""
    out = nn.HybridSequential(prefix="stage%d_" % stage_index)
    with out.name_scope():
        for _ in range(num_layers):
            out.add(_make_dense_layer(growth_rate, bn_size, dropout))
    return out


def _make_transition(num_output_features):
    """Between dense blocks: BN-ReLU-1x1 conv to num_output_features, then 2x2 average pooling."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.BatchNorm(), nn.Activation("relu"), nn.Conv2D(num_output_features, kernel_size=1, use_bias=False),
            nn.AvgPool2D(pool_size=2, strides=2))
    return out


class DenseNet(HybridBlock):
    """DenseNet: a 7x7/2 stem of num_init_features channels and a max pool, dense blocks of `block_config[i]`
    layers each adding growth_rate channels (bn_size * growth_rate in the bottleneck, optional dropout), halving
    transitions between them, BN-ReLU, a 7x7 average pool (224x224 inputs) and the classifier."""

    def __init__(self, num_init_features, growth_rate, block_config, bn_size=4, dropout=0, classes=1000,
                 **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.Conv2D(num_init_features, kernel_size=7, strides=2, padding=3, use_bias=False),
                              nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            num_features = num_init_features
            for i, num_layers in enumerate(block_config):
                self.features.add(_make_dense_block(num_layers, bn_size, growth_rate, dropout, i + 1))
                num_features += num_layers * growth_rate
                if i != len(block_config) - 1:
                    num_features //= 2
                    self.features.add(_make_transition(num_features))
            self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.AvgPool2D(pool_size=7), nn.Flatten())
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


# num_layers -> (num_init_features, growth_rate, layers per dense block).
densenet_spec = {121: (64, 32, [6, 12, 24, 16]),
                 161: (96, 48, [6, 12, 36, 24]),
                 169: (64, 32, [6, 12, 32, 32]),
                 201: (64, 32, [6, 12, 48, 32])}


def get_densenet(num_layers, pretrained=False, ctx=cpu(), root=model_store.default_root, **kwargs):
    """DenseNet with `num_layers` (121, 161, 169, 201); pretrained=True loads root/densenet<num_layers>-<hash>.params
    onto ctx; other keywords (bn_size, dropout, classes, ...) go to the network."""
    if num_layers not in densenet_spec:
        raise ValueError("Invalid number of layers: %d. Options are %s" % (num_layers, sorted(densenet_spec)))
    num_init_features, growth_rate, block_config = densenet_spec[num_layers]
    net = DenseNet(num_init_features, growth_rate, block_config, **kwargs)
    if pretrained:
        model_store._load_pretrained(net, "densenet%d" % num_layers, ctx, root)
    return net


def densenet121(**kwargs):
    """DenseNet-121 (get_densenet's keywords: pretrained, ctx, root, classes, ...)."""
    return get_densenet(121, **kwargs)


def densenet161(**kwargs):
    """DenseNet-161 (get_densenet's keywords)."""
    return get_densenet(161, **kwargs)


def densenet169(**kwargs):
    """DenseNet-169 (get_densenet's keywords)."""
    return get_densenet(169, **kwargs)


def densenet201(**kwargs):
    """DenseNet-201 (get_densenet's keywords)."""
    return get_densenet(201, **kwargs)
