"""mx.gluon.model_zoo.vision: MXNet 1.9.1's image classification models (AlexNet, DenseNet, Inception v3,
ResNet V1/V2, SqueezeNet, VGG, MobileNet, MobileNetV2) with MXNet's class names, arguments and parameter names,
so `.params` files of MXNet's model zoo load with load_parameters (and Polymix's load in MXNet).

`vision.resnet18_v1()` builds a network with random weights (after initialize()); `pretrained=True` reads MXNet's
pretrained file from `root` (see model_store: Polymix does not download). The pretrained models expect N x 3 x H x W
RGB images in [0, 1] normalized with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), H and W at least
224 (299 for Inception v3)."""

from .alexnet import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .densenet import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .inception import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .resnet import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .squeezenet import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .vgg import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .mobilenet import *  # noqa: F401,F403 pylint: disable=wildcard-import

# get_model's names (MXNet's) and their constructors.
_models = {
    "resnet18_v1": resnet18_v1, "resnet34_v1": resnet34_v1, "resnet50_v1": resnet50_v1,
    "resnet101_v1": resnet101_v1, "resnet152_v1": resnet152_v1,
    "resnet18_v2": resnet18_v2, "resnet34_v2": resnet34_v2, "resnet50_v2": resnet50_v2,
    "resnet101_v2": resnet101_v2, "resnet152_v2": resnet152_v2,
    "vgg11": vgg11, "vgg13": vgg13, "vgg16": vgg16, "vgg19": vgg19,
    "vgg11_bn": vgg11_bn, "vgg13_bn": vgg13_bn, "vgg16_bn": vgg16_bn, "vgg19_bn": vgg19_bn,
    "alexnet": alexnet,
    "densenet121": densenet121, "densenet161": densenet161, "densenet169": densenet169, "densenet201": densenet201,
    "squeezenet1.0": squeezenet1_0, "squeezenet1.1": squeezenet1_1,
    "inceptionv3": inception_v3,
    "mobilenet1.0": mobilenet1_0, "mobilenet0.75": mobilenet0_75, "mobilenet0.5": mobilenet0_5,
    "mobilenet0.25": mobilenet0_25,
    "mobilenetv2_1.0": mobilenet_v2_1_0, "mobilenetv2_0.75": mobilenet_v2_0_75, "mobilenetv2_0.5": mobilenet_v2_0_5,
    "mobilenetv2_0.25": mobilenet_v2_0_25,
}


def get_model(name, **kwargs):
    """The model called `name` ('resnet18_v1', 'mobilenetv2_1.0', ...; case-insensitive), built with `kwargs`
    (pretrained, ctx, root, classes, ...); ValueError listing the names for an unknown one."""
    name = name.lower()
    if name not in _models:
        raise ValueError("Model %s is not supported. Available options are\n\t%s"
                         % (name, "\n\t".join(sorted(_models))))
    return _models[name](**kwargs)
