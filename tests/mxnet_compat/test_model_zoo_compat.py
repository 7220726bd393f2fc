"""mx.gluon.model_zoo.vision against the real MXNet 1.9.1: every model has MXNet's parameter names and shapes
(prefixed and structural), and for representative models the .params files written by MXNet load in Polymix
with the same inference outputs (imperative and hybridized), and Polymix's files load in MXNet with the same
outputs.

Polymix runs in a subprocess (model_zoo_polymix_side.py) through conftest's run_polymix fixture."""
import json
import os
import warnings

import numpy as np
import pytest

# get_model's names, in the order both sides build them (automatic prefixes count per process: 'resnetv10_').
MODELS = ["resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
          "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2",
          "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
          "alexnet", "densenet121", "densenet161", "densenet169", "densenet201",
          "squeezenet1.0", "squeezenet1.1", "inceptionv3",
          "mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25",
          "mobilenetv2_1.0", "mobilenetv2_0.75", "mobilenetv2_0.5", "mobilenetv2_0.25"]
# Models whose weights cross between the libraries, one per architecture family.
LOAD_MODELS = ["resnet18_v1", "resnet50_v2", "mobilenetv2_1.0", "densenet121", "squeezenet1.1", "inceptionv3",
               "vgg11_bn"]
HERE = os.path.dirname(os.path.abspath(__file__))


def _input_size(name):
    return 299 if name.startswith("inception") else 224


def _describe(net):
    return {"params": [[name, list(param.shape)] for name, param in net.collect_params().items()],
            "structural": [[name, list(param.shape)] for name, param in net._collect_params_with_prefix().items()]}


def _randomize(mx, net, x, seed):
    """As model_zoo_polymix_side.randomize: random weights, BatchNorm scales, shifts and running statistics."""
    net.initialize(mx.init.Xavier(magnitude=2))
    net(x)
    rng = np.random.default_rng(seed)
    ranges = {"running_mean": (-0.1, 0.1), "running_var": (0.5, 1.5), "gamma": (0.8, 1.2), "beta": (-0.1, 0.1)}
    for name, param in net.collect_params().items():
        for suffix, (low, high) in ranges.items():
            if name.endswith(suffix):
                param.set_data(mx.nd.array(rng.uniform(low, high, size=param.shape).astype(np.float32)))


def _assert_close(got, expected, name):
    """Within 1e-4 relative to the output's scale (float32 sums over deep networks differ in their last bits)."""
    assert got.shape == expected.shape, name
    scale = float(np.abs(expected).max())
    assert scale > 0, "%s: MXNet's output is all zeros, which compares nothing" % name
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * scale, err_msg=name)


@pytest.fixture(scope="module")
def workdir(mx, tmp_path_factory):
    """The model lists, one random input per model of LOAD_MODELS, MXNet's .params files of those models and
    their outputs."""
    path = tmp_path_factory.mktemp("model_zoo")
    with open(str(path / "models.json"), "w") as f:
        json.dump(MODELS, f)
    with open(str(path / "load_models.json"), "w") as f:
        json.dump(LOAD_MODELS, f)
    rng = np.random.default_rng(5)
    inputs = {name: rng.uniform(-1, 1, size=(1, 3, _input_size(name), _input_size(name))).astype(np.float32)
              for name in LOAD_MODELS}
    np.savez(str(path / "inputs.npz"), **inputs)
    expected = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, name in enumerate(LOAD_MODELS):
            net = mx.gluon.model_zoo.vision.get_model(name)
            x = mx.nd.array(inputs[name])
            _randomize(mx, net, x, seed=index)
            net.save_parameters(str(path / (name + "-mxnet.params")))
            expected[name] = net(x).asnumpy()
    return path, inputs, expected


def test_every_model_has_mxnets_parameter_names_and_shapes(mx, workdir, run_polymix):
    path, _, _ = workdir
    run_polymix(os.path.join(HERE, "model_zoo_polymix_side.py"), path, "shapes", timeout=600)
    got = json.load(open(str(path / "polymix_shapes.json")))
    assert sorted(got) == sorted(MODELS)
    # A fresh NameManager counts automatic prefixes from 0, as the Polymix process does (the fixture has built
    # models in this process already).
    with warnings.catch_warnings(), mx.name.NameManager():
        warnings.simplefilter("ignore")
        for name in MODELS:
            net = mx.gluon.model_zoo.vision.get_model(name)
            # Shapes only (no weights allocated): MXNet's HybridBlock.infer_shape, as the Polymix side does.
            net.infer_shape(mx.nd.zeros((1, 3, _input_size(name), _input_size(name))))
            expected = _describe(net)
            for kind in ("params", "structural"):
                assert got[name][kind] == expected[kind], "%s: %s names/shapes differ" % (name, kind)


def test_mxnet_params_load_in_polymix_with_the_same_outputs(workdir, run_polymix):
    path, _, expected = workdir
    run_polymix(os.path.join(HERE, "model_zoo_polymix_side.py"), path, "load", timeout=600)
    got = dict(np.load(str(path / "polymix_outputs.npz")))
    for name in LOAD_MODELS:
        _assert_close(got[name], expected[name], name)
        _assert_close(got[name + "/hybrid"], expected[name], name + " (hybridized)")


def test_polymix_params_load_in_mxnet_with_the_same_outputs(mx, workdir, run_polymix):
    path, inputs, _ = workdir
    run_polymix(os.path.join(HERE, "model_zoo_polymix_side.py"), path, "make", timeout=600)
    made = dict(np.load(str(path / "polymix_made.npz")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in LOAD_MODELS:
            net = mx.gluon.model_zoo.vision.get_model(name)
            net.load_parameters(str(path / (name + "-polymix.params")))
            _assert_close(net(mx.nd.array(inputs[name])).asnumpy(), made[name], name)
