"""Polymix's half of test_module_compat.py, run with the project's interpreter and the built polymix package:
`module_polymix_side.py WORKDIR load|make`. `load` reads MXNet's checkpoint (mxnet-symbol.json,
mxnet-0003.params) with Module.load and writes its predictions on probe.npy to polymix_on_mxnet.npy; `make`
trains the same network with Module.fit on train.npz, writes the checkpoint polymix-symbol.json /
polymix-0002.params and its predictions on probe.npy to polymix_made.npy."""
import os
import sys

import numpy as np

import polymix as mx


def build_symbol():
    """The test's network: FullyConnected, BatchNorm (auxiliary states), ReLU, FullyConnected, SoftmaxOutput."""
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def predict(mod, probe):
    return mod.predict(mx.io.NDArrayIter(probe, batch_size=len(probe))).asnumpy()


def main(workdir, task):
    probe = np.load(os.path.join(workdir, "probe.npy"))
    if task == "load":
        mod = mx.mod.Module.load(os.path.join(workdir, "mxnet"), 3)
        mod.bind(data_shapes=[("data", probe.shape)], label_shapes=[("softmax_label", probe.shape[:1])],
                  for_training=False)
        np.save(os.path.join(workdir, "polymix_on_mxnet.npy"), predict(mod, probe))
    elif task == "make":
        train = np.load(os.path.join(workdir, "train.npz"))
        mod = mx.mod.Module(build_symbol())
        mod.fit(mx.io.NDArrayIter(train["x"], train["y"], batch_size=20), num_epoch=2,
                optimizer_params={"learning_rate": 0.1, "momentum": 0.9}, initializer=mx.init.Xavier())
        mod.save_checkpoint(os.path.join(workdir, "polymix"), 2)
        np.save(os.path.join(workdir, "polymix_made.npy"), predict(mod, probe))
    else:
        raise ValueError("task must be load or make, got %r" % task)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
