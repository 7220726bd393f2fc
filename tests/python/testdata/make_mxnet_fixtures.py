"""Writes the MXNet-made fixtures of tests/python/testdata with the real MXNet 1.9.1 (tools/setup's
$POLYMIX_HOME/mxnet-venv): `~/.cache/polymix/mxnet-venv/bin/python make_mxnet_fixtures.py`.

mxnet-1.9.1-dict.params: a named .params file, one array per dtype Polymix reads, values as in
fixture_values() below (the tests recompute them). mxnet-1.9.1-list.params: an unnamed list of two arrays.
mlp-mxnet-1.9.1-symbol.json: a two-layer MLP with BatchNorm and its JSON as MXNet writes it.
"""

import os

import mxnet as mx
import numpy as np


def fixture_values():
    """name -> NumPy array: the arrays of the dict file (the tests have the same function)."""
    base = np.arange(-6, 6).reshape(3, 4)
    return {
        "float32": (base / 4).astype(np.float32),
        "float64": (base / 8).astype(np.float64),
        "float16": (base / 2).astype(np.float16),
        "uint8": (base + 6).astype(np.uint8),
        "int8": base.astype(np.int8),
        "int32": (base * 1000).astype(np.int32),
        "int64": (base * 10**10).astype(np.int64),
        "scalar_like": np.array([3.5], dtype=np.float32),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    arrays = {name: mx.nd.array(value, dtype=value.dtype) for name, value in fixture_values().items()}
    mx.nd.save(os.path.join(here, "mxnet-1.9.1-dict.params"), arrays)
    mx.nd.save(os.path.join(here, "mxnet-1.9.1-list.params"),
               [mx.nd.array([[1, 2], [3, 4]]), mx.nd.arange(5, dtype="int64")])
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=4, name="fc2")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    net.save(os.path.join(here, "mlp-mxnet-1.9.1-symbol.json"))


if __name__ == "__main__":
    main()
