"""MXNet 1.x partial shapes (0: unknown dimension) against the real MXNet 1.9.1: a hybridized Gluon network whose
LSTM is called without states exports _zeros(shape=(layers, 0, hidden)) begin states, which the RNN op sizes, and a
Dense weight with __shape__ (3, 0). Polymix's gluon.SymbolBlock.imports (in a subprocess, conftest's run_polymix)
and its C++ Executor (through the C ABI, ctypes) must predict what MXNet predicts."""
import ctypes
import json
import os
import warnings

import numpy as np
import pytest

from polymix_symbol import PolymixError

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, LAYERS, INPUT_SIZE, STEPS = 8, 2, 5, 6
BATCHES = {"x_batch4": 4, "x_batch7": 7}


@pytest.fixture(scope="module")
def exported(mx, tmp_path_factory):
    """MXNet's network exported after one hybridized call, its inputs, its outputs and its parameters."""
    path = tmp_path_factory.mktemp("partial_shape")
    rng = np.random.default_rng(11)
    inputs = {name: rng.uniform(-1, 1, size=(batch, STEPS, INPUT_SIZE)).astype(np.float32)
              for name, batch in BATCHES.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = mx.gluon.nn.HybridSequential()
        with net.name_scope():
            net.add(mx.gluon.rnn.LSTM(HIDDEN, num_layers=LAYERS, layout="NTC", input_size=INPUT_SIZE))
            net.add(mx.gluon.nn.Dense(3, flatten=False))
        net.initialize(mx.init.Uniform(0.5))
        net.hybridize()
        expected = {name: net(mx.nd.array(value)).asnumpy() for name, value in inputs.items()}
        net.export(str(path / "mxnet_net"))
        params = {name: param.data().asnumpy() for name, param in net.collect_params().items()}
    np.savez(str(path / "inputs.npz"), **inputs)
    return path, inputs, expected, params


def test_mxnet_exports_partial_shapes(exported):
    """The premise: MXNet's graph has partial begin states and a partial Dense weight."""
    path = exported[0]
    nodes = json.load(open(str(path / "mxnet_net-symbol.json")))["nodes"]
    zeros = [node for node in nodes if node["op"] == "_zeros"]
    assert len(zeros) == 2 and all(node["attrs"]["shape"] == "(%d, 0, %d)" % (LAYERS, HIDDEN) for node in zeros)
    weights = [node for node in nodes if node["name"].endswith("dense0_weight")]
    assert weights[0]["attrs"]["__shape__"] == "(3, 0)"


def test_symbol_block_imports_predicts_as_mxnet(exported, run_polymix):
    path, inputs, expected, _ = exported
    run_polymix(os.path.join(HERE, "partial_shape_polymix_side.py"), path)
    outputs = dict(np.load(str(path / "polymix_outputs.npz")))
    for name in inputs:
        assert outputs[name].shape == (BATCHES[name], STEPS, 3)
        np.testing.assert_allclose(outputs[name], expected[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_infer_shape_sizes_the_partial_sources(exported, pmx):
    path = exported[0]
    symbol = pmx.from_json(open(str(path / "mxnet_net-symbol.json")).read())
    args, outs, _ = symbol.infer_shape(data=(4, STEPS, INPUT_SIZE))
    shapes = dict(zip(symbol.list_arguments(), args))
    assert shapes["hybridsequential0_dense0_weight"] == (3, HIDDEN)
    assert outs == [(4, STEPS, 3)]


def _check(lib, status):
    if status != 0:
        raise AssertionError(lib.pmx_last_error_message().decode())


def _executor_forward(lib, symbol, data, params):
    """Forward of `symbol` through pmx_executor_simple_bind with `params` copied in by name; returns output 0."""
    names = (ctypes.c_char_p * 1)(b"data")
    ndims = (ctypes.c_int * 1)(data.ndim)
    dims = (ctypes.c_int64 * data.ndim)(*data.shape)
    executor = ctypes.c_void_p()
    _check(lib, lib.pmx_executor_simple_bind(symbol.handle, 1, 0, 1, names, ndims, dims, 0, None, None, 0, None, None,
                                             0, ctypes.byref(executor)))
    try:
        for name, value in dict(params, data=data).items():
            array = ctypes.c_void_p()
            _check(lib, lib.pmx_executor_get_array(executor, 0, name.encode(), ctypes.byref(array)))
            value = np.ascontiguousarray(value, dtype=np.float32)
            _check(lib, lib.pmx_ndarray_copy_from_host(array, value.ctypes.data_as(ctypes.c_void_p), value.nbytes))
            lib.pmx_ndarray_free(array)
        _check(lib, lib.pmx_executor_forward(executor, 0))
        output = ctypes.c_void_p()
        _check(lib, lib.pmx_executor_get_array(executor, 3, symbol.list_outputs()[0].encode(), ctypes.byref(output)))
        ndim, shape = ctypes.c_int(), ctypes.POINTER(ctypes.c_int64)()
        _check(lib, lib.pmx_ndarray_get_shape(output, ctypes.byref(ndim), ctypes.byref(shape)))
        result = np.empty(tuple(shape[k] for k in range(ndim.value)), dtype=np.float32)
        _check(lib, lib.pmx_ndarray_copy_to_host(output, result.ctypes.data_as(ctypes.c_void_p), result.nbytes))
        lib.pmx_ndarray_free(output)
        return result
    finally:
        lib.pmx_executor_free(executor)


def test_executor_through_the_c_abi_predicts_as_mxnet(exported, pmx):
    path, inputs, expected, params = exported
    symbol = pmx.from_json(open(str(path / "mxnet_net-symbol.json")).read())
    params = {name: value for name, value in params.items() if name in symbol.list_arguments()}
    assert len(params) == len(symbol.list_arguments()) - 1
    for name, data in inputs.items():
        np.testing.assert_allclose(_executor_forward(pmx.lib, symbol, data, params), expected[name], rtol=1e-5,
                                   atol=1e-5, err_msg=name)


def test_a_known_dimension_that_disagrees_is_an_error(mx, pmx):
    """zeros((2, 0)) + v: MXNet and Polymix both reject v of shape (3, 4) and accept (2, 4)."""
    with pytest.raises(mx.base.MXNetError):
        (mx.sym.zeros((2, 0)) + mx.sym.var("v")).infer_shape(v=(3, 4))
    assert (mx.sym.zeros((2, 0)) + mx.sym.var("v")).infer_shape(v=(2, 4))[1] == [(2, 4)]
    zeros = pmx.op("_zeros", [], {"shape": (2, 0)}, "zeros")
    total = pmx.op("elemwise_add", [zeros, pmx.variable("v")], {}, "sum")
    with pytest.raises(PolymixError, match=r"ValueError.*\(3, 4\).*\(2, 0\)"):
        total.infer_shape(v=(3, 4))
    assert total.infer_shape(v=(2, 4))[1] == [(2, 4)]
