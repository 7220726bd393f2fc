"""mx.gluon.model_zoo: every model of MXNet 1.9.1's vision zoo builds, initializes and runs with the right output
shape; the parameters (structural names, shapes, counts) are those MXNet 1.9.1 builds; hybridized networks compute
what imperative ones do; the zoo's own blocks match NumPy; get_model's names and the pretrained file rules.
(tests/mxnet_compat/test_model_zoo_compat.py checks names and outputs against the real MXNet.)"""
import hashlib
import json
import os

import numpy as np
import pytest

import polymix as mx
from polymix.gluon.model_zoo import model_store, vision

# MXNet 1.9.1's get_model names.
MXNET_NAMES = ["alexnet", "densenet121", "densenet161", "densenet169", "densenet201", "inceptionv3",
               "mobilenet0.25", "mobilenet0.5", "mobilenet0.75", "mobilenet1.0",
               "mobilenetv2_0.25", "mobilenetv2_0.5", "mobilenetv2_0.75", "mobilenetv2_1.0",
               "resnet101_v1", "resnet101_v2", "resnet152_v1", "resnet152_v2", "resnet18_v1", "resnet18_v2",
               "resnet34_v1", "resnet34_v2", "resnet50_v1", "resnet50_v2", "squeezenet1.0", "squeezenet1.1",
               "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

# What MXNet 1.9.1 builds for each model at ImageNet size (1000 classes): number of parameter tensors (BatchNorm
# running statistics included), number of elements, and the first 12 hex digits of the SHA-1 of
# json.dumps([[structural name, shape], ...]) (the names save_parameters writes, in order). Measured with
# MXNet 1.9.1's model zoo; the element counts agree with the published sizes (e.g. VGG-16: 138,357,544).
MXNET_PARAMETERS = {
    "alexnet": (16, 61100840, "e607a7428cb2"),
    "densenet121": (606, 8062504, "09cc583dde13"),
    "densenet161": (806, 28900936, "7d600ef353ff"),
    "densenet169": (846, 14307880, "cdafe7d920bd"),
    "densenet201": (1006, 20242984, "39f4bb4e1ac8"),
    "inceptionv3": (472, 23869000, "1c14ed4aa08a"),
    "mobilenet0.25": (137, 475544, "9a2340c2edaa"),
    "mobilenet0.5": (137, 1342536, "568f0064629b"),
    "mobilenet0.75": (137, 2601976, "57154f66891d"),
    "mobilenet1.0": (137, 4253864, "11005b3c3027"),
    "mobilenetv2_0.25": (266, 1526856, "1a0c1b1b3a08"),
    "mobilenetv2_0.5": (266, 1983104, "2f8ea850dc6c"),
    "mobilenetv2_0.75": (266, 2653864, "61ff6e0d15b5"),
    "mobilenetv2_1.0": (266, 3539136, "80d78ae05ac0"),
    "resnet101_v1": (588, 44695144, "38847f53d5a8"),
    "resnet101_v2": (514, 44639412, "7d702bca7ec5"),
    "resnet152_v1": (877, 60404072, "161cc8e542fe"),
    "resnet152_v2": (769, 60329140, "5b1c0ad512c5"),
    "resnet18_v1": (102, 11699112, "fd339185cc93"),
    "resnet18_v2": (98, 11695796, "f331034674fc"),
    "resnet34_v1": (182, 21814696, "ca56d0a49772"),
    "resnet34_v2": (178, 21811380, "a82760a44f53"),
    "resnet50_v1": (299, 25629032, "07dd388a6c9d"),
    "resnet50_v2": (259, 25595060, "b07351e83774"),
    "squeezenet1.0": (52, 1248424, "903f55a4ac96"),
    "squeezenet1.1": (52, 1235496, "9014557483dd"),
    "vgg11": (22, 132863336, "e47c9f0a67c7"),
    "vgg11_bn": (54, 132874344, "27950f664b1f"),
    "vgg13": (26, 133047848, "201fb2bc0153"),
    "vgg13_bn": (66, 133059624, "8fda4622573d"),
    "vgg16": (32, 138357544, "5ca9f7f56398"),
    "vgg16_bn": (84, 138374440, "a508a4bbbe39"),
    "vgg19": (38, 143667240, "861b17a81a91"),
    "vgg19_bn": (102, 143689256, "fe500abe2360"),
}

# Forward passes: (name, image size, batch). Global-pooling networks run on 32x32 images; AlexNet needs 64x64
# at least; DenseNet (7x7 pool), SqueezeNet (13x13 pool) and Inception v3 (8x8 pool) need their ImageNet size.
# To keep the suite short (it also runs in //bindings/python:installed_wheel_test), the models that only repeat
# these blocks at other depths or widths (ResNet-34/50/101/152: their bottleneck blocks run in
# test_bottleneck_resnets_run; DenseNet-161/169/201; MobileNets 0.5 and 0.75) and the VGGs (133-144 M weights,
# too slow to draw here) are checked by their parameters only (test_parameters_are_mxnets); tests/mxnet_compat
# runs ResNet-50 V2 and VGG-11-BN against MXNet.
FORWARD = [("resnet18_v1", 32, 2), ("resnet18_v2", 32, 2), ("mobilenet1.0", 32, 2), ("mobilenet0.25", 32, 2),
           ("mobilenetv2_1.0", 32, 2), ("mobilenetv2_0.25", 32, 2),
           ("alexnet", 64, 1), ("densenet121", 224, 1), ("squeezenet1.0", 224, 1), ("squeezenet1.1", 224, 1),
           ("inceptionv3", 299, 1)]


def _image(batch, size, seed=0):
    return mx.nd.array(np.random.default_rng(seed).uniform(-1, 1, size=(batch, 3, size, size)).astype(np.float32))


def test_get_model_knows_mxnets_names_case_insensitively():
    assert sorted(vision._models) == MXNET_NAMES
    assert isinstance(vision.get_model("ResNet18_V1"), vision.ResNetV1)
    assert isinstance(vision.get_model("mobilenetv2_0.5"), vision.MobileNetV2)
    with pytest.raises(ValueError, match=r"Model resnet19_v1 is not supported\. Available options are"):
        vision.get_model("resnet19_v1")


def test_classes_and_constructor_arguments():
    net = vision.get_model("resnet18_v1", classes=7, thumbnail=True)
    assert isinstance(net.features[1][0], vision.BasicBlockV1)
    assert net.output.weight.shape == (7, 512)
    assert isinstance(vision.resnet50_v2().features[5][0], vision.BottleneckV2)
    assert vision.get_resnet(2, 34).features[5][0].__class__ is vision.BasicBlockV2
    assert vision.vgg13_bn().features[1].__class__ is mx.gluon.nn.BatchNorm
    assert vision.densenet.get_densenet(121, bn_size=2).features[4][0][1][2].weight.shape == (64, 0, 1, 1)
    with pytest.raises(ValueError, match="Invalid number of layers: 20"):
        vision.get_resnet(1, 20)
    with pytest.raises(ValueError, match="Invalid resnet version: 3"):
        vision.get_resnet(3, 18)
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 1.2"):
        vision.SqueezeNet("1.2")


@pytest.mark.parametrize("name", MXNET_NAMES)
def test_parameters_are_mxnets(name):
    net = vision.get_model(name)
    size = 299 if name == "inceptionv3" else 224
    net.infer_shape(mx.nd.zeros((1, 3, size, size)))
    structural = [[key, list(param.shape)] for key, param in net._collect_params_with_prefix().items()]
    count, elements, digest = MXNET_PARAMETERS[name]
    assert len(net.collect_params()) == count
    assert sum(int(np.prod(shape)) for _, shape in structural) == elements
    assert hashlib.sha1(json.dumps(structural).encode()).hexdigest()[:12] == digest, structural[:5]


def test_prefixed_names_follow_mxnets_scopes():
    with mx.name.NameManager():
        names = list(vision.resnet18_v1().collect_params().keys())
        assert names[:3] == ["resnetv10_conv0_weight", "resnetv10_batchnorm0_gamma", "resnetv10_batchnorm0_beta"]
        assert "resnetv10_stage2_conv2_weight" in names and names[-1] == "resnetv10_dense0_bias"
        names = list(vision.mobilenet_v2_0_25().collect_params().keys())
        assert names[0] == "mobilenetv20_features_conv0_weight"
        assert "mobilenetv20_features_linearbottleneck0_conv0_weight" in names
        assert names[-1] == "mobilenetv20_output_pred_weight"
        names = list(vision.inception_v3().collect_params().keys())
        assert "inception30_A1_conv0_weight" in names and "inception30_E2_batchnorm8_running_var" in names


@pytest.mark.parametrize("name,size,batch", FORWARD)
def test_forward_gives_one_row_of_scores_per_image(name, size, batch):
    net = vision.get_model(name, classes=10)
    net.collect_params().setattr("grad_req", "null")  # inference only: no gradient buffers to allocate
    net.initialize()
    out = net(_image(batch, size)).asnumpy()
    assert out.shape == (batch, 10)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("net_class,block", [("ResNetV1", "BottleneckV1"), ("ResNetV2", "BottleneckV2")])
def test_bottleneck_resnets_run(net_class, block):
    # ResNet-50's structure (bottleneck blocks, a projection in each stage) at a small width.
    net = getattr(vision, net_class)(getattr(vision, block), [2, 1, 1], [16, 32, 64, 128], classes=10)
    net.initialize()
    out = net(_image(2, 32)).asnumpy()
    assert out.shape == (2, 10) and np.all(np.isfinite(out))
    stage2 = net.features[5 if net_class == "ResNetV1" else 6]
    assert stage2.prefix.endswith("stage2_") and stage2[0].downsample is not None


@pytest.mark.parametrize("name,size", [("resnet18_v2", 32), ("mobilenetv2_0.25", 32)])
def test_hybridized_equals_imperative(name, size):
    net = vision.get_model(name, classes=10)
    net.collect_params().setattr("grad_req", "null")
    net.initialize(mx.init.Xavier(magnitude=2))
    x = _image(2, size, seed=1)
    imperative = net(x).asnumpy()
    net.hybridize()
    hybrid = net(x).asnumpy()
    assert np.abs(imperative).max() > 0
    np.testing.assert_allclose(hybrid, imperative, rtol=1e-4, atol=1e-5 * np.abs(imperative).max())


def test_zoo_blocks_against_numpy():
    from polymix.gluon.model_zoo.vision._blocks import HybridConcurrent, Identity
    x = np.random.default_rng(2).uniform(-8, 8, size=(2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(vision.mobilenet.RELU6()(mx.nd.array(x)).asnumpy(), np.clip(x, 0, 6))

    both = HybridConcurrent(axis=1)
    both.add(Identity(), vision.mobilenet.RELU6())
    for hybridize in (False, True):
        both.hybridize(hybridize)
        np.testing.assert_array_equal(both(mx.nd.array(x)).asnumpy(),
                                      np.concatenate([x, np.clip(x, 0, 6)], axis=1))

    # A V1 basic block without downsampling: relu(body(x) + x).
    block = vision.BasicBlockV1(3, 1, in_channels=3)
    block.initialize(mx.init.Xavier())
    body = block.body(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(block(mx.nd.array(x)).asnumpy(), np.maximum(body + x, 0), rtol=1e-6, atol=1e-6)

    # A MobileNetV2 bottleneck keeps its input only when stride is 1 and the channels are unchanged.
    for stride, channels, shortcut in ((1, 3, True), (2, 3, False), (1, 5, False)):
        bottleneck = vision.mobilenet.LinearBottleneck(3, channels, 2, stride)
        bottleneck.initialize(mx.init.Xavier())
        out = bottleneck(mx.nd.array(x)).asnumpy()
        expected = bottleneck.out(mx.nd.array(x)).asnumpy() + (x if shortcut else 0)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_pretrained_without_the_file_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        vision.get_model("resnet18_v1", pretrained=True, root=str(tmp_path))
    message = str(error.value)
    assert os.path.join(str(tmp_path), "resnet18_v1-a0666292.params") in message
    assert "does not download" in message and "resnet18_v1-a0666292.zip" in message
    # The names MXNet's constructors map their arguments to.
    root = str(tmp_path)
    for build, file_name in ((lambda: vision.mobilenet0_5(pretrained=True, root=root), "mobilenet0.5-8e9d539c"),
                             (lambda: vision.vgg11_bn(pretrained=True, root=root), "vgg11_bn-ee79a809"),
                             (lambda: vision.squeezenet1_1(pretrained=True, root=root), "squeezenet1.1-33ba0f93"),
                             (lambda: vision.get_model("mobilenetv2_0.75", pretrained=True, root=root),
                              "mobilenetv2_0.75-e2be7b72")):
        with pytest.raises(FileNotFoundError, match=file_name.replace(".", r"\.")):
            build()
    with pytest.raises(ValueError, match="Pretrained model for resnet19_v1 is not available"):
        model_store.get_model_file("resnet19_v1", root=str(tmp_path))


def test_pretrained_loads_the_published_file_and_rejects_another(tmp_path, monkeypatch):
    source = vision.mobilenet0_25(classes=10)
    source.initialize(mx.init.Xavier())
    source(_image(1, 32))
    saved = str(tmp_path / "weights.params")
    source.save_parameters(saved)
    with open(saved, "rb") as stream:
        sha1 = hashlib.sha1(stream.read()).hexdigest()
    # Pretend this file is the published one: get_model_file looks for <name>-<sha1[:8]>.params with that SHA-1.
    monkeypatch.setitem(model_store._model_sha1, "mobilenet0.25", sha1)
    os.rename(saved, str(tmp_path / ("mobilenet0.25-%s.params" % sha1[:8])))
    loaded = vision.get_model("mobilenet0.25", pretrained=True, root=str(tmp_path), classes=10, ctx=mx.cpu())
    x = _image(2, 32, seed=3)
    np.testing.assert_array_equal(loaded(x).asnumpy(), source(x).asnumpy())

    monkeypatch.setitem(model_store._model_sha1, "mobilenet0.25", sha1[:8] + "0" * 32)
    with pytest.raises(ValueError, match="is not the published 'mobilenet0.25' file"):
        vision.get_model("mobilenet0.25", pretrained=True, root=str(tmp_path), classes=10)
