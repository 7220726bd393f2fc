"""Polymix's half of test_rnn_compat.py, run with the project's interpreter and the built polymix package:
`rnn_polymix_side.py WORKDIR load|make`. WORKDIR/cases.json lists the layers; inputs.npz holds each case's
input and states. `load` reads MXNet's files (<case>-mxnet.params, mxnet_lstm-symbol.json) and writes
polymix_outputs.npz; `make` initializes its own layers, writes <case>-polymix.params, exports a hybridized
LSTM (polymix_lstm-*) and writes polymix_made.npz."""
import json
import os
import sys

import numpy as np

import polymix as mx
from polymix.gluon import rnn


def build(case):
    """The layer of a case, as the MXNet side builds it."""
    kwargs = dict(num_layers=case["layers"], bidirectional=case["bidirectional"], layout=case["layout"],
                  input_size=case["input_size"])
    if case["mode"] == "lstm":
        return rnn.LSTM(case["hidden"], **kwargs)
    if case["mode"] == "gru":
        return rnn.GRU(case["hidden"], **kwargs)
    return rnn.RNN(case["hidden"], activation=case["mode"][4:], **kwargs)


def run(layer, inputs, name):
    """{name/out, name/state<i>} of the layer on the case's input and states."""
    states = [mx.nd.array(inputs["%s/state%d" % (name, i)]) for i in range(len(layer.state_info()))]
    out, new_states = layer(mx.nd.array(inputs[name + "/x"]), states)
    result = {name + "/out": out.asnumpy()}
    result.update({"%s/state%d" % (name, i): s.asnumpy() for i, s in enumerate(new_states)})
    return result


def main(workdir, task):
    cases = json.load(open(os.path.join(workdir, "cases.json")))
    inputs = dict(np.load(os.path.join(workdir, "inputs.npz")))
    results = {}
    for case in cases:
        layer = build(case)
        if task == "load":
            layer.load_parameters(os.path.join(workdir, case["name"] + "-mxnet.params"))
        else:
            layer.initialize(mx.init.Uniform(0.5))
            for param in layer.collect_params().values():
                param.set_data(mx.nd.random.uniform(-0.5, 0.5, shape=param.shape))
            layer.save_parameters(os.path.join(workdir, case["name"] + "-polymix.params"))
        results.update(run(layer, inputs, case["name"]))
        if task == "make" and case["mode"] == "lstm":
            layer.hybridize()
            run(layer, inputs, case["name"])
            layer.export(os.path.join(workdir, "polymix_lstm"))
    if task == "load":
        block = mx.gluon.SymbolBlock.imports(os.path.join(workdir, "mxnet_lstm-symbol.json"),
                                             ["data0", "data1", "data2"],
                                             os.path.join(workdir, "mxnet_lstm-0000.params"))
        name = [case["name"] for case in cases if case["mode"] == "lstm"][0]
        outs = block(mx.nd.array(inputs[name + "/x"]), mx.nd.array(inputs[name + "/state0"]),
                     mx.nd.array(inputs[name + "/state1"]))
        results["imported/out"] = outs[0].asnumpy()
        results["imported/state1"] = outs[2].asnumpy()
    np.savez(os.path.join(workdir, "polymix_outputs.npz" if task == "load" else "polymix_made.npz"), **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
