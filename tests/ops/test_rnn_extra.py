"""Checks of the fused RNN (core/ops/nn/rnn.cc) that one Case per operator cannot make: every mode with 1-2
layers and both directions (forward against the NumPy recurrence, gradient against finite differences in
float64, _rnn_backward against the NumPy BPTT), sequence lengths, LSTM state clipping, dropout in predict mode,
float16, MXNet's parameter count, and the error messages. Training-mode dropout is not reachable through the
C ABI's op calls; core/ops/nn/rnn_test.cc covers it in C++."""

import itertools

import numpy as np
import pytest

import pmx_ctypes as pmx
from cases import rnn as ref

MODES = ("rnn_relu", "rnn_tanh", "lstm", "gru")
GRID = list(itertools.product(MODES, (1, 2), (False, True)))


def _gradient_check(op, inputs, params, rtol=1e-4, atol=1e-5, seed=0, max_elements=120):
    """The composed gradient of `op` against central finite differences (float64 inputs), at up to
    `max_elements` evenly spaced elements per input (enough to visit every weight and bias block of the
    parameter vector; test_rnn_backward_matches_numpy_bptt checks every element against NumPy)."""
    rng = np.random.default_rng(seed)
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    outputs = pmx.invoke(op, inputs, **params)
    heads = [rng.uniform(-1, 1, size=out.shape) for out in outputs]
    analytic = pmx.gradient(op, inputs, heads, **params)

    def objective(values):
        return sum(float((out * head).sum()) for out, head in zip(pmx.invoke(op, values, **params), heads))

    step = 1e-6
    for index, (x, grad) in enumerate(zip(inputs, analytic)):
        if grad is None:
            continue
        chosen = np.unique(np.linspace(0, x.size - 1, min(x.size, max_elements)).round().astype(int))
        numeric = np.zeros(chosen.size)
        values = list(inputs)
        for k, flat in enumerate(chosen):
            position = np.unravel_index(flat, x.shape)
            values[index] = x.copy()
            values[index][position] += step
            plus = objective(values)
            values[index][position] -= 2 * step
            numeric[k] = (plus - objective(values)) / (2 * step)
        np.testing.assert_allclose(grad.ravel()[chosen], numeric, rtol=rtol, atol=atol,
                                   err_msg=f"{op} {params} input {index}")
    return analytic


def _check_forward(inputs, params, dtypes=("float32", "float64")):
    for dtype in dtypes:
        cast = [x.astype(dtype) for x in inputs]
        got = pmx.invoke("RNN", cast, **params)
        want = ref.rnn(*cast, **params)
        assert len(got) == len(want)
        tolerance = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == np.dtype(dtype)
            np.testing.assert_allclose(g, w, err_msg=f"{params} {dtype}", **tolerance)


@pytest.mark.parametrize("mode,layers,bidirectional", GRID)
def test_forward_every_configuration(mode, layers, bidirectional):
    rng = np.random.default_rng(1)
    for state_outputs in (False, True):
        params = dict(state_size=4, num_layers=layers, mode=mode, bidirectional=bidirectional,
                      state_outputs=state_outputs)
        _check_forward(ref.make_rnn_inputs(rng, ref.Config(**params), steps=4, batch=3, input_size=5), params)


@pytest.mark.parametrize("mode,layers,bidirectional", GRID)
def test_gradient_every_configuration(mode, layers, bidirectional):
    params = dict(state_size=4, num_layers=layers, mode=mode, bidirectional=bidirectional, state_outputs=True)
    inputs = ref.make_rnn_inputs(np.random.default_rng(2), ref.Config(**params))  # seq 3, batch 2, input 3
    _gradient_check("RNN", inputs, params)


@pytest.mark.parametrize("mode,layers,bidirectional", GRID)
def test_rnn_backward_matches_numpy_bptt(mode, layers, bidirectional):
    rng = np.random.default_rng(3)
    for state_outputs in (False, True):
        params = dict(state_size=3, num_layers=layers, mode=mode, bidirectional=bidirectional,
                      state_outputs=state_outputs)
        inputs = ref.make_backward_inputs(rng, params, steps=4, batch=2, input_size=3)
        got = pmx.invoke("_rnn_backward", inputs, **params)
        want = ref.rnn_backward(*inputs, **params)
        assert len(got) == len(want) == (4 if mode == "lstm" else 3)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11, err_msg=f"{params}")


def test_gradient_without_state_outputs():
    params = dict(state_size=2, num_layers=2, mode="lstm", bidirectional=True)
    _gradient_check("RNN", ref.make_rnn_inputs(np.random.default_rng(4), ref.Config(**params)), params)


@pytest.mark.parametrize("mode", MODES)
def test_sequence_length(mode):
    params = dict(state_size=3, num_layers=2, mode=mode, bidirectional=True, state_outputs=True,
                  use_sequence_length=True)
    lengths = [4, 2, 0]
    inputs = ref.make_rnn_inputs(np.random.default_rng(5), ref.Config(**params), steps=4, batch=3, lengths=lengths)
    _check_forward(inputs, params)
    outputs = pmx.invoke("RNN", inputs, **params)
    assert not outputs[0][2:, 1].any() and not outputs[0][:, 2].any(), "padded steps must output zeros"
    # A sequence run alone, cut to its length, gives the same outputs and final states.
    lstm = mode == "lstm"
    alone_params = {k: v for k, v in params.items() if k != "use_sequence_length"}
    alone = [inputs[0][:2, 1:2], inputs[1], inputs[2][:, 1:2]] + ([inputs[3][:, 1:2]] if lstm else [])
    alone_out = pmx.invoke("RNN", alone, **alone_params)
    np.testing.assert_allclose(outputs[0][:2, 1:2], alone_out[0], rtol=1e-12, atol=1e-14)
    for padded, single in zip(outputs[1:], alone_out[1:]):
        np.testing.assert_allclose(padded[:, 1:2], single, rtol=1e-12, atol=1e-14)
    # An empty sequence keeps its initial states.
    np.testing.assert_array_equal(outputs[1][:, 2], inputs[2][:, 2])
    # Lengths may come as int32 too; they get no gradient.
    as_int = inputs[:-1] + [np.asarray(lengths, np.int32)]
    np.testing.assert_array_equal(pmx.invoke("RNN", as_int, **params)[0], outputs[0])
    small = dict(params, state_size=2)
    grads = _gradient_check("RNN", ref.make_rnn_inputs(np.random.default_rng(6), ref.Config(**small),
                                                      batch=3, lengths=[3, 1, 0]), small)
    assert grads[-1] is None


def test_lstm_state_clipping():
    params = dict(state_size=2, num_layers=2, mode="lstm", bidirectional=True, state_outputs=True,
                  lstm_state_clip_min=-0.2, lstm_state_clip_max=0.3)
    inputs = ref.make_rnn_inputs(np.random.default_rng(7), ref.Config(**params), scale=1.5)
    _check_forward(inputs, params)
    cell = pmx.invoke("RNN", inputs, **params)[2]
    assert cell.min() >= -0.2 and cell.max() <= 0.3
    assert np.isclose(cell, -0.2).any() or np.isclose(cell, 0.3).any(), "the test should clip something"
    _gradient_check("RNN", inputs, params)


def test_lstm_state_clip_nan():
    params = dict(state_size=2, num_layers=2, mode="lstm", state_outputs=True, lstm_state_clip_min=-0.5,
                  lstm_state_clip_max=0.5)
    inputs = ref.make_rnn_inputs(np.random.default_rng(8), ref.Config(**params))
    inputs[0][1, 0, 0] = np.nan  # Sequence 0 turns NaN from step 1.
    propagated = pmx.invoke("RNN", inputs, **params)[2]
    assert np.isnan(propagated[:, 0]).all() and np.isfinite(propagated[:, 1]).all()
    stopped = pmx.invoke("RNN", inputs, lstm_state_clip_nan=True, **params)[2]
    np.testing.assert_array_equal(stopped[:, 0], np.full((2, 2), -0.5))
    np.testing.assert_array_equal(stopped[:, 1], propagated[:, 1])


def test_dropout_in_predict_mode_is_the_identity():
    params = dict(state_size=3, num_layers=2, mode="gru", bidirectional=True, state_outputs=True)
    inputs = ref.make_rnn_inputs(np.random.default_rng(9), ref.Config(**params))
    plain = pmx.invoke("RNN", inputs, **params)
    dropped = pmx.invoke("RNN", inputs, p=0.5, **params)
    for a, b in zip(plain, dropped):
        np.testing.assert_array_equal(a, b)
    _gradient_check("RNN", inputs, dict(params, p=0.5))


@pytest.mark.parametrize("mode", MODES)
def test_float16(mode):
    params = dict(state_size=4, num_layers=2, mode=mode, bidirectional=True, state_outputs=True)
    inputs = [x.astype(np.float16) for x in ref.make_rnn_inputs(np.random.default_rng(10), ref.Config(**params))]
    got = pmx.invoke("RNN", inputs, **params)
    want = ref.rnn(*[x.astype(np.float64) for x in inputs], **params)
    for g, w in zip(got, want):
        assert g.dtype == np.float16
        np.testing.assert_allclose(g.astype(np.float64), w, rtol=1e-2, atol=2e-3)
    heads = [np.ones(g.shape, np.float16) for g in got]
    grads = pmx.gradient("RNN", inputs, heads, **params)
    config = ref.Config(**params)
    data, weights, state, cell, _, _ = config.split_inputs([x.astype(np.float64) for x in inputs])
    heads64 = [h.astype(np.float64) for h in heads] + [None]
    want_grads = ref.backward(config, data, weights, state, cell, None, *heads64[:3])
    for g, w in zip(grads, want_grads):
        assert g.dtype == np.float16
        np.testing.assert_allclose(g.astype(np.float64), w, rtol=2e-2, atol=1e-2)


@pytest.mark.parametrize("mode,layers,bidirectional,input_size,state_size",
                         [("lstm", 3, True, 5, 7), ("gru", 2, False, 1, 9), ("rnn_tanh", 1, True, 8, 2),
                          ("rnn_relu", 4, False, 3, 3)])
def test_parameter_count_is_mxnets(mode, layers, bidirectional, input_size, state_size):
    params = dict(state_size=state_size, num_layers=layers, mode=mode, bidirectional=bidirectional)
    config = ref.Config(**params)
    inputs = ref.make_rnn_inputs(np.random.default_rng(11), config, input_size=input_size)
    assert inputs[1].size == ref.param_count(mode, layers, bidirectional, input_size, state_size)
    _check_forward(inputs, params, dtypes=("float64",))
    count = inputs[1].size
    with pytest.raises(ValueError, match=r"^\[RNN\] parameters has shape \(%d,\), expected \(%d,\)" % (count + 1,
                                                                                                       count)):
        pmx.invoke("RNN", [inputs[0], np.zeros(count + 1)] + inputs[2:], **params)


def _lstm_inputs(**sizes):
    return ref.make_rnn_inputs(np.random.default_rng(12), ref.Config(state_size=2, num_layers=1, mode="lstm"),
                               **sizes)


def test_errors_are_clear():
    lstm = dict(state_size=2, num_layers=1, mode="lstm")
    inputs = _lstm_inputs()
    with pytest.raises(NotImplementedError, match=r"^\[RNN\] projection_size=2 is not supported"):
        pmx.invoke("RNN", inputs, projection_size=2, **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] data has shape \(3, 2\), expected 3 dimensions"):
        pmx.invoke("RNN", [inputs[0][:, :, 0]] + inputs[1:], **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] state has shape \(1, 3, 2\), expected \(1, 2, 2\)"):
        pmx.invoke("RNN", inputs[:2] + [np.zeros((1, 3, 2))] + inputs[3:], **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] p is 1, expected 0 <= p < 1"):
        pmx.invoke("RNN", inputs, p=1, **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] lstm_state_clip_min and lstm_state_clip_max must be given"):
        pmx.invoke("RNN", inputs, lstm_state_clip_min=-1, **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] lstm_state_clip_max \(-2\) must be >="):
        pmx.invoke("RNN", inputs, lstm_state_clip_min=-1, lstm_state_clip_max=-2, **lstm)
    gru = dict(state_size=2, num_layers=1, mode="gru")
    with pytest.raises(ValueError, match=r"^\[RNN\] lstm_state_clip_min/max apply to mode 'lstm' only"):
        pmx.invoke("RNN", inputs[:3], lstm_state_clip_min=-1, lstm_state_clip_max=1, **gru)
    with pytest.raises(ValueError, match=r"^\[RNN\] sequence_length\[1\] is 4, expected a length in \[0, 3\]"):
        pmx.invoke("RNN", inputs + [np.array([1, 4], np.int32)], use_sequence_length=True, **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] expected 5 input\(s\), given 4"):
        pmx.invoke("RNN", inputs, use_sequence_length=True, **lstm)
    with pytest.raises(TypeError, match=r"^\[RNN\] input 2 has dtype float32, expected float64"):
        pmx.invoke("RNN", inputs[:2] + [inputs[2].astype(np.float32)] + inputs[3:], **lstm)
    with pytest.raises(TypeError, match=r"^\[RNN\] data has dtype int32, expected a floating-point dtype"):
        pmx.invoke("RNN", [x.astype(np.int32) for x in inputs], **lstm)
    with pytest.raises(ValueError, match=r"^\[RNN\] required parameter 'mode'"):
        pmx.invoke("RNN", inputs, state_size=2, num_layers=1)


def test_empty_sequence_keeps_the_initial_states():
    params = dict(state_size=2, num_layers=2, mode="lstm", bidirectional=True, state_outputs=True)
    inputs = ref.make_rnn_inputs(np.random.default_rng(13), ref.Config(**params), steps=0)
    out, hy, cy = pmx.invoke("RNN", inputs, **params)
    assert out.shape == (0, 2, 4)
    np.testing.assert_array_equal(hy, inputs[2])
    np.testing.assert_array_equal(cy, inputs[3])


def test_rnn_param_concat_along_an_inner_axis():
    rng = np.random.default_rng(14)
    pieces = [rng.uniform(-1, 1, (2, n, 3)) for n in (1, 4, 2)]
    (got,) = pmx.invoke("_rnn_param_concat", pieces, num_args=3, dim=1)
    np.testing.assert_array_equal(got, np.concatenate(pieces, axis=1))
    _gradient_check("_rnn_param_concat", pieces, dict(num_args=3, dim=1))
    with pytest.raises(ValueError, match=r"^\[_rnn_param_concat\] input 1 has shape \(3, 4, 3\)"):
        pmx.invoke("_rnn_param_concat", [pieces[0], np.zeros((3, 4, 3))], num_args=2, dim=1)
