"""Exports a small hybridized Gluon network with the Python package (Block.export: <out>/model-symbol.json and
<out>/model-0000.params) and writes <out>/io.json: an input batch and the Python package's predict-mode output,
which python_export.test.js must reproduce in Node. Run with polymix importable (run_installed_tests.sh does)."""

import json
import os
import sys

import numpy as np

import polymix as mx
from polymix import autograd, gluon


def main(out):
    mx.random.seed(3)
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(8, 3, padding=1), gluon.nn.BatchNorm(), gluon.nn.Activation("relu"),
                gluon.nn.MaxPool2D(2), gluon.nn.Flatten(), gluon.nn.Dense(16, activation="tanh"), gluon.nn.Dense(10))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32))
    with autograd.record():  # One training-mode pass, so that BatchNorm's moving statistics are not trivial.
        net(x).sum().backward()
    y = net(x).asnumpy()  # Predict mode.
    net.export(os.path.join(out, "model"), epoch=0)
    with open(os.path.join(out, "io.json"), "w") as io:
        json.dump({"input": {"shape": list(x.shape), "data": x.asnumpy().ravel().tolist()},
                   "output": {"shape": list(y.shape), "data": y.ravel().tolist()}}, io)


if __name__ == "__main__":
    main(sys.argv[1])
