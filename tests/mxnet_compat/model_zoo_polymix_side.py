"""Polymix's half of test_model_zoo_compat.py, run with the project's interpreter and the built polymix package:
`model_zoo_polymix_side.py WORKDIR shapes|load|make`.

- shapes: builds every model of WORKDIR/models.json in that order, infers its parameters' shapes from an input
  (HybridBlock.infer_shape: no weights are allocated) and writes the names and shapes to polymix_shapes.json;
- load: reads WORKDIR/<model>-mxnet.params into each model of WORKDIR/load_models.json and writes its outputs
  (imperative and hybridized, inference mode) on WORKDIR/inputs.npz's input to polymix_outputs.npz;
- make: gives each model of load_models.json random weights and BatchNorm statistics, writes
  <model>-polymix.params and its outputs to polymix_made.npz."""
import gc
import json
import os
import sys

import numpy as np

import polymix as mx
from polymix.gluon.model_zoo import vision


def input_size(name):
    """The image size a model needs (Inception v3: 299; every other: 224)."""
    return 299 if name.startswith("inception") else 224


def describe(net):
    """{"params": [[prefixed name, shape]], "structural": [[save_parameters name, shape]]} of a network."""
    return {"params": [[name, list(param.shape)] for name, param in net.collect_params().items()],
            "structural": [[name, list(param.shape)] for name, param in net._collect_params_with_prefix().items()]}


def randomize(net, x, seed):
    """Initializes `net` with scale-keeping random weights and random BatchNorm scales, shifts and running
    statistics (so inference-mode BatchNorm is not the identity)."""
    net.initialize(mx.init.Xavier(magnitude=2))
    net(x)
    rng = np.random.default_rng(seed)
    ranges = {"running_mean": (-0.1, 0.1), "running_var": (0.5, 1.5), "gamma": (0.8, 1.2), "beta": (-0.1, 0.1)}
    for name, param in net.collect_params().items():
        for suffix, (low, high) in ranges.items():
            if name.endswith(suffix):
                param.set_data(mx.nd.array(rng.uniform(low, high, size=param.shape).astype(np.float32)))


def _settle():
    """Lets the previous network go before the next is built: the engine runs calls asynchronously (34 models'
    initializations queued at once would hold all their memory together), and blocks form reference cycles
    that only the collector frees (VGG's weights are 0.5 GB)."""
    mx.nd.waitall()
    gc.collect()


def main(workdir, task):
    results = {}
    if task == "shapes":
        for name in json.load(open(os.path.join(workdir, "models.json"))):
            net = vision.get_model(name)
            net.infer_shape(mx.nd.zeros((1, 3, input_size(name), input_size(name))))
            results[name] = describe(net)
        with open(os.path.join(workdir, "polymix_shapes.json"), "w") as f:
            json.dump(results, f)
        return
    inputs = dict(np.load(os.path.join(workdir, "inputs.npz")))
    for index, name in enumerate(json.load(open(os.path.join(workdir, "load_models.json")))):
        net = vision.get_model(name)
        x = mx.nd.array(inputs[name])
        if task == "load":
            net.load_parameters(os.path.join(workdir, name + "-mxnet.params"))
            results[name] = net(x).asnumpy()
            net.hybridize()
            results[name + "/hybrid"] = net(x).asnumpy()
        else:
            randomize(net, x, seed=100 + index)
            net.save_parameters(os.path.join(workdir, name + "-polymix.params"))
            results[name] = net(x).asnumpy()
        del net
        _settle()
    np.savez(os.path.join(workdir, "polymix_outputs.npz" if task == "load" else "polymix_made.npz"), **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
