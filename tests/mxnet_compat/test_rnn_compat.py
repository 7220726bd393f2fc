"""mx.gluon.rnn's fused layers against the real MXNet 1.9.1: .params files written by MXNet's RNN/LSTM/GRU load in
Polymix's and give the same outputs and states, and the other way round; a hybridized LSTM exported by Polymix
loads in MXNet's SymbolBlock.imports (and MXNet's export in Polymix's) with the same outputs.

Polymix runs in a subprocess (rnn_polymix_side.py) through conftest's run_polymix fixture."""
import json
import os
import warnings

import numpy as np
import pytest

CASES = [
    {"name": "lstm", "mode": "lstm", "hidden": 5, "layers": 2, "bidirectional": True, "layout": "TNC",
     "input_size": 3},
    {"name": "gru", "mode": "gru", "hidden": 4, "layers": 2, "bidirectional": False, "layout": "NTC",
     "input_size": 3},
    {"name": "rnn_tanh", "mode": "rnn_tanh", "hidden": 3, "layers": 1, "bidirectional": True, "layout": "NTC",
     "input_size": 2},
    {"name": "rnn_relu", "mode": "rnn_relu", "hidden": 4, "layers": 3, "bidirectional": False, "layout": "TNC",
     "input_size": 2},
]
STEPS, BATCH = 4, 3
HERE = os.path.dirname(os.path.abspath(__file__))


def _polymix(run_polymix, workdir, task):
    """Runs rnn_polymix_side.py's `task` on workdir under Polymix (conftest.run_polymix)."""
    run_polymix(os.path.join(HERE, "rnn_polymix_side.py"), workdir, task)


def _mxnet_layer(mx, case):
    kwargs = dict(num_layers=case["layers"], bidirectional=case["bidirectional"], layout=case["layout"],
                  input_size=case["input_size"])
    if case["mode"] == "lstm":
        return mx.gluon.rnn.LSTM(case["hidden"], **kwargs)
    if case["mode"] == "gru":
        return mx.gluon.rnn.GRU(case["hidden"], **kwargs)
    return mx.gluon.rnn.RNN(case["hidden"], activation=case["mode"][4:], **kwargs)


def _mxnet_run(mx, layer, inputs, name):
    states = [mx.nd.array(inputs["%s/state%d" % (name, i)]) for i in range(len(layer.state_info()))]
    out, new_states = layer(mx.nd.array(inputs[name + "/x"]), states)
    result = {name + "/out": out.asnumpy()}
    result.update({"%s/state%d" % (name, i): s.asnumpy() for i, s in enumerate(new_states)})
    return result


@pytest.fixture(scope="module")
def workdir(mx, tmp_path_factory):
    """MXNet's layers with random weights: their .params files, the case inputs and MXNet's outputs."""
    path = tmp_path_factory.mktemp("rnn")
    rng = np.random.default_rng(3)
    inputs, expected = {}, {}
    for case in CASES:
        dirs = 2 if case["bidirectional"] else 1
        shape = (STEPS, BATCH, case["input_size"]) if case["layout"] == "TNC" else (BATCH, STEPS, case["input_size"])
        inputs[case["name"] + "/x"] = rng.uniform(-1, 1, size=shape).astype(np.float32)
        for i in range(2 if case["mode"] == "lstm" else 1):
            inputs["%s/state%d" % (case["name"], i)] = rng.uniform(
                -1, 1, size=(case["layers"] * dirs, BATCH, case["hidden"])).astype(np.float32)
    np.savez(str(path / "inputs.npz"), **inputs)
    with open(str(path / "cases.json"), "w") as f:
        json.dump(CASES, f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in CASES:
            layer = _mxnet_layer(mx, case)
            layer.initialize()
            for param in layer.collect_params().values():
                param.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, size=param.shape)))
            layer.save_parameters(str(path / (case["name"] + "-mxnet.params")))
            expected.update(_mxnet_run(mx, layer, inputs, case["name"]))
            if case["mode"] == "lstm":
                layer.hybridize()
                _mxnet_run(mx, layer, inputs, case["name"])
                layer.export(str(path / "mxnet_lstm"))
    return path, inputs, expected


def test_mxnet_params_load_in_polymix_with_the_same_outputs(workdir, run_polymix):
    path, _, expected = workdir
    _polymix(run_polymix, path, "load")
    got = dict(np.load(str(path / "polymix_outputs.npz")))
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-4, atol=1e-5, err_msg=key)
    # MXNet's exported LSTM (SymbolBlock.imports in Polymix).
    np.testing.assert_allclose(got["imported/out"], expected["lstm/out"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["imported/state1"], expected["lstm/state1"], rtol=1e-4, atol=1e-5)


def test_polymix_params_and_export_load_in_mxnet_with_the_same_outputs(mx, workdir, run_polymix):
    path, inputs, _ = workdir
    _polymix(run_polymix, path, "make")
    made = dict(np.load(str(path / "polymix_made.npz")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in CASES:
            layer = _mxnet_layer(mx, case)
            layer.load_parameters(str(path / (case["name"] + "-polymix.params")))
            for key, value in _mxnet_run(mx, layer, inputs, case["name"]).items():
                np.testing.assert_allclose(value, made[key], rtol=1e-4, atol=1e-5, err_msg=key)
        block = mx.gluon.SymbolBlock.imports(str(path / "polymix_lstm-symbol.json"), ["data0", "data1", "data2"],
                                             str(path / "polymix_lstm-0000.params"))
    outs = block(mx.nd.array(inputs["lstm/x"]), mx.nd.array(inputs["lstm/state0"]),
                 mx.nd.array(inputs["lstm/state1"]))
    np.testing.assert_allclose(outs[0].asnumpy(), made["lstm/out"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs[1].asnumpy(), made["lstm/state0"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs[2].asnumpy(), made["lstm/state1"], rtol=1e-4, atol=1e-5)
