"""AlexNet ("One weird trick for parallelizing convolutional neural networks", Krizhevsky 2014), as MXNet 1.9.1's
model zoo builds it (same parameter names and shapes)."""

from ....context import cpu
from ...block import HybridBlock
from ... import nn
from .. import model_store

__all__ = ["AlexNet", "alexnet"]


class AlexNet(HybridBlock):
    """AlexNet: five convolutions (three max pools), two Dense(4096)+Dropout(0.5) and the classifier with
    `classes` outputs. Needs 224x224 inputs (the first Dense expects 256x6x6 features)."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            with self.features.name_scope():
                self.features.add(nn.Conv2D(64, kernel_size=11, strides=4, padding=2, activation="relu"),
                                  nn.MaxPool2D(pool_size=3, strides=2),
                                  nn.Conv2D(192, kernel_size=5, padding=2, activation="relu"),
                                  nn.MaxPool2D(pool_size=3, strides=2),
                                  nn.Conv2D(384, kernel_size=3, padding=1, activation="relu"),
                                  nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"),
                                  nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"),
                                  nn.MaxPool2D(pool_size=3, strides=2),
                                  nn.Flatten(),
                                  nn.Dense(4096, activation="relu"), nn.Dropout(0.5),
                                  nn.Dense(4096, activation="relu"), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def alexnet(pretrained=False, ctx=cpu(), root=model_store.default_root, **kwargs):
    """AlexNet; pretrained=True loads root/alexnet-<hash>.params onto ctx; other keywords (classes, prefix, ...)
    go to the network."""
    net = AlexNet(**kwargs)
    if pretrained:
        model_store._load_pretrained(net, "alexnet", ctx, root)
    return net
