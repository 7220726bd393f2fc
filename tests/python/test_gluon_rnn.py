"""mx.gluon.rnn: the fused layers RNN/LSTM/GRU and the cells against recurrences written in NumPy here from the
blocks' own parameters; cells against the fused layer on shared weights; gradients against finite differences;
hybridized against imperative; parameter files and exports round-tripped."""

import numpy as np
import pytest

import polymix as mx
from polymix import autograd
from polymix.gluon import rnn

RNG = np.random.default_rng(5)
MODES = ["rnn_relu", "rnn_tanh", "lstm", "gru"]


# ---- NumPy references ---------------------------------------------------------------------------------------

def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _np_step(mode, x, h, c, wx, wh, bx, bh, clip=None):
    """One step of `mode` on a batch: (h', c'); clip: LSTM's (min, max) of the cell state."""
    gx, gh = x @ wx.T + bx, h @ wh.T + bh
    if mode == "rnn_tanh":
        return np.tanh(gx + gh), None
    if mode == "rnn_relu":
        return np.maximum(gx + gh, 0), None
    if mode == "lstm":
        i, f, g, o = np.split(gx + gh, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        c = c if clip is None else np.clip(c, *clip)
        return _sigmoid(o) * np.tanh(c), c
    xr, xz, xn = np.split(gx, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h, None


def _np_rnn(mode, x, params, states, layers, dirs, lengths=None, clip=None):
    """A stack of `layers` x `dirs` recurrences over x (T, N, C): (output (T, N, dirs*H), final states).
    params: name -> array with MXNet's names ('l0_i2h_weight'); lengths: each sequence's valid length (steps
    past it give zero outputs and leave the state alone; the backward direction starts at the last valid step)."""
    steps, batch = x.shape[:2]
    lengths = [steps] * batch if lengths is None else list(lengths)
    h0, c0 = states[0], (states[1] if mode == "lstm" else None)
    final_h, final_c = [], []
    inputs = x
    for layer in range(layers):
        outputs = []
        for d in range(dirs):
            name = "lr"[d] + str(layer) + "_"
            weights = [params[name + k] for k in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")]
            out = np.zeros((steps, batch, weights[1].shape[1]))
            hs, cs = [], []
            for n in range(batch):
                h = h0[layer * dirs + d, n:n + 1]
                c = None if c0 is None else c0[layer * dirs + d, n:n + 1]
                order = range(lengths[n]) if d == 0 else reversed(range(lengths[n]))
                for t in order:
                    h, c = _np_step(mode, inputs[t, n:n + 1], h, c, *weights, clip=clip)
                    out[t, n] = h[0]
                hs.append(h[0])
                cs.append(None if c is None else c[0])
            outputs.append(out)
            final_h.append(np.stack(hs))
            final_c.append(None if c0 is None else np.stack(cs))
        inputs = np.concatenate(outputs, axis=2)
    finals = [np.stack(final_h)] + ([np.stack(final_c)] if mode == "lstm" else [])
    return inputs, finals


def _make_layer(mode, hidden, layers=1, bidirectional=False, layout="TNC", dtype="float32", **kwargs):
    kwargs.update(num_layers=layers, layout=layout, bidirectional=bidirectional, dtype=dtype)
    if mode.startswith("rnn_"):
        return rnn.RNN(hidden, activation=mode[4:], **kwargs)
    return (rnn.LSTM if mode == "lstm" else rnn.GRU)(hidden, **kwargs)


def _randomize(block, dtype="float32"):
    """Gives every parameter (biases too) random values; returns them by their attribute/own names."""
    values = {}
    for name, param in block.collect_params().items():
        value = RNG.uniform(-0.6, 0.6, size=param.shape).astype(dtype)
        param.set_data(mx.nd.array(value, dtype=dtype))
        values[name[len(block.prefix):]] = value.astype(np.float64)
    return values


def _states(mode, layers, dirs, batch, hidden):
    count = 2 if mode == "lstm" else 1
    return [RNG.uniform(-1, 1, size=(layers * dirs, batch, hidden)).astype(np.float32) for _ in range(count)]


# ---- Fused layers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_layer_matches_numpy(mode, layers, bidirectional, layout):
    steps, batch, inputs, hidden = 4, 3, 5, 6
    layer = _make_layer(mode, hidden, layers, bidirectional, layout)
    layer.initialize()
    x = RNG.uniform(-1, 1, size=(steps, batch, inputs)).astype(np.float32)
    data = x if layout == "TNC" else x.transpose(1, 0, 2)
    layer(mx.nd.array(data))  # Deferred initialization from the input.
    params = _randomize(layer)
    dirs = 2 if bidirectional else 1
    states = _states(mode, layers, dirs, batch, hidden)
    out, new_states = layer(mx.nd.array(data), [mx.nd.array(s) for s in states])
    expected, expected_states = _np_rnn(mode, x.astype(np.float64), params, states, layers, dirs)
    if layout == "NTC":
        expected = expected.transpose(1, 0, 2)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-5)
    assert len(new_states) == len(expected_states)
    for got, want in zip(new_states, expected_states):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)
    # Without states: zero begin states and the output alone.
    alone = layer(mx.nd.array(data))
    zeros = [np.zeros_like(s) for s in states]
    expected_alone = _np_rnn(mode, x.astype(np.float64), params, zeros, layers, dirs)[0]
    if layout == "NTC":
        expected_alone = expected_alone.transpose(1, 0, 2)
    assert isinstance(alone, mx.nd.NDArray)
    np.testing.assert_allclose(alone.asnumpy(), expected_alone, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_sequence_length(mode):
    layer = _make_layer(mode, 4, 2, True, use_sequence_length=True, input_size=3)
    layer.initialize()
    params = _randomize(layer)
    x = RNG.uniform(-1, 1, size=(5, 3, 3)).astype(np.float32)
    lengths = [5, 2, 3]
    states = _states(mode, 2, 2, 3, 4)
    out, new_states = layer(mx.nd.array(x), [mx.nd.array(s) for s in states], mx.nd.array(lengths))
    expected, expected_states = _np_rnn(mode, x.astype(np.float64), params, states, 2, 2, lengths)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-5)
    for got, want in zip(new_states, expected_states):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="sequence_length"):
        layer(mx.nd.array(x))


def test_lstm_state_clipping():
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3, state_clip_min=-0.2, state_clip_max=0.3)
    layer.initialize()
    params = _randomize(layer)
    x = RNG.uniform(-2, 2, size=(5, 2, 3)).astype(np.float32)
    states = _states("lstm", 2, 2, 2, 4)
    out, (h, c) = layer(mx.nd.array(x), [mx.nd.array(s) for s in states])
    expected, (expected_h, expected_c) = _np_rnn("lstm", x.astype(np.float64), params, states, 2, 2,
                                                 clip=(-0.2, 0.3))
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.asnumpy(), expected_c, rtol=1e-4, atol=1e-5)
    assert c.asnumpy().min() >= -0.2 - 1e-6 and c.asnumpy().max() <= 0.3 + 1e-6


def test_layer_on_symbols():
    layer = rnn.GRU(3, num_layers=2, layout="NTC", input_size=2)
    layer.initialize(mx.init.Uniform(0.5))
    out = layer(mx.sym.var("data"))
    assert isinstance(out, mx.sym.Symbol) and len(out.list_outputs()) == 1
    x = mx.nd.array(RNG.uniform(-1, 1, size=(4, 5, 2)))
    args = {name: param.data() for name, param in layer.collect_params().items()}
    args["data"] = x
    np.testing.assert_allclose(out.eval(**args)[0].asnumpy(), layer(x).asnumpy(), rtol=1e-5, atol=1e-6)
    with_states = layer(mx.sym.var("data"), layer.begin_state(func=mx.sym.var))
    assert isinstance(with_states, tuple) and len(with_states[1]) == 1
    assert layer.prefix + "h0_0" in with_states[0].list_arguments()


def test_parameter_names_shapes_and_initializers():
    layer = rnn.LSTM(6, num_layers=2, bidirectional=True, input_size=3, i2h_bias_initializer="ones",
                     h2h_weight_initializer=mx.init.Constant(0.25))
    assert layer.prefix == "lstm0_" or layer.prefix.startswith("lstm")
    names = sorted(layer.collect_params().keys())
    expected = sorted(layer.prefix + "%s%d_%s_%s" % (d, l, g, t) for d in "lr" for l in range(2)
                      for g in ("i2h", "h2h") for t in ("weight", "bias"))
    assert names == expected
    assert layer.l0_i2h_weight.shape == (24, 3)
    assert layer.r1_i2h_weight.shape == (24, 12)
    assert layer.l1_h2h_weight.shape == (24, 6)
    assert layer.r0_h2h_bias.shape == (24,)
    layer.initialize()
    np.testing.assert_array_equal(layer.l1_i2h_bias.data().asnumpy(), np.ones(24))
    np.testing.assert_array_equal(layer.r0_h2h_bias.data().asnumpy(), np.zeros(24))
    np.testing.assert_array_equal(layer.r1_h2h_weight.data().asnumpy(), np.full((24, 6), 0.25))
    assert repr(layer) == "LSTM(3 -> 6, TNC, num_layers=2, bidirectional)"
    assert repr(rnn.GRU(4, dropout=0.5, layout="NTC")) == "GRU(None -> 4, NTC, dropout=0.5)"
    assert repr(rnn.RNN(2, activation="tanh")) == "RNN(None -> 2, TNC)"


def test_deferred_input_size():
    layer = rnn.GRU(4, bidirectional=True)
    layer.initialize()
    assert layer.l0_i2h_weight.shape == (12, 0)
    out = layer(mx.nd.ones((2, 3, 7)))
    assert out.shape == (2, 3, 8)
    assert layer.l0_i2h_weight.shape == (12, 7)
    assert layer.r0_i2h_weight.shape == (12, 7)
    ntc = rnn.LSTM(4, layout="NTC")
    ntc.initialize()
    ntc.hybridize()
    assert ntc(mx.nd.ones((5, 2, 9))).shape == (5, 2, 4)
    assert ntc.l0_i2h_weight.shape == (16, 9)


def test_begin_state_and_errors():
    layer = rnn.LSTM(5, num_layers=3, bidirectional=True)
    states = layer.begin_state(batch_size=4)
    assert [s.shape for s in states] == [(6, 4, 5), (6, 4, 5)]
    assert all(s.dtype == np.float32 for s in states)
    ones = layer.begin_state(2, func=mx.nd.ones)
    np.testing.assert_array_equal(ones[1].asnumpy(), np.ones((6, 2, 5)))
    symbols = layer.begin_state(func=mx.sym.var)
    assert [s.name for s in symbols] == [layer.prefix + "h0_0", layer.prefix + "h0_1"]
    assert len(rnn.GRU(3).begin_state(1)) == 1
    layer.initialize()
    with pytest.raises(ValueError, match="Invalid recurrent state shape"):
        layer(mx.nd.ones((2, 4, 3)), [mx.nd.zeros((6, 3, 5)), mx.nd.zeros((6, 4, 5))])
    with pytest.raises(ValueError, match="layout"):
        rnn.GRU(3, layout="NCT")
    with pytest.raises(NotImplementedError, match="projection_size"):
        rnn.LSTM(8, projection_size=4)
    with pytest.raises(ValueError, match="activation"):
        rnn.RNN(3, activation="sigmoid")


def test_single_state_may_be_an_array():
    layer = rnn.GRU(3, input_size=2)
    layer.initialize()
    x = mx.nd.array(RNG.uniform(size=(4, 2, 2)))
    h = mx.nd.array(RNG.uniform(size=(1, 2, 3)))
    out, states = layer(x, h)
    out2, states2 = layer(x, [h])
    np.testing.assert_array_equal(out.asnumpy(), out2.asnumpy())
    assert len(states) == 1 and states[0].shape == (1, 2, 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_states", [False, True])
def test_hybridized_equals_imperative(mode, with_states):
    layer = _make_layer(mode, 4, 2, True, "NTC")
    layer.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(RNG.uniform(-1, 1, size=(3, 5, 2)))
    states = [mx.nd.array(s) for s in _states(mode, 2, 2, 3, 4)] if with_states else None
    expected = layer(x, states)
    layer.hybridize(static_alloc=True, static_shape=True)
    for _ in range(2):
        got = layer(x, states)
        if with_states:
            np.testing.assert_allclose(got[0].asnumpy(), expected[0].asnumpy(), rtol=1e-5, atol=1e-6)
            for a, b in zip(got[1], expected[1]):
                np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(got.asnumpy(), expected.asnumpy(), rtol=1e-5, atol=1e-6)


def test_hybridized_switching_between_calls_with_and_without_states():
    layer = rnn.LSTM(3, input_size=2)
    layer.initialize()
    layer.hybridize()
    x = mx.nd.ones((2, 1, 2))
    alone = layer(x)
    out, states = layer(x, layer.begin_state(1))
    np.testing.assert_allclose(out.asnumpy(), alone.asnumpy(), rtol=1e-6)
    assert len(states) == 2
    assert isinstance(layer(x), mx.nd.NDArray)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_match_finite_differences(mode):
    layer = _make_layer(mode, 2, 2, True, "NTC", dtype="float64", input_size=3)
    layer.initialize()
    _randomize(layer, "float64")
    x = RNG.uniform(-1, 1, size=(2, 3, 3))
    states = [RNG.uniform(-1, 1, size=(4, 2, 2)) for _ in range(2 if mode == "lstm" else 1)]
    head = RNG.uniform(-1, 1, size=(2, 3, 4))
    state_heads = [RNG.uniform(-1, 1, size=s.shape) for s in states]

    def loss(x_value, state_values):
        out, new = layer(mx.nd.array(x_value, dtype="float64"),
                         [mx.nd.array(s, dtype="float64") for s in state_values])
        total = (out * mx.nd.array(head, dtype="float64")).sum()
        for s, w in zip(new, state_heads):
            total = total + (s * mx.nd.array(w, dtype="float64")).sum()
        return total

    x_nd = mx.nd.array(x, dtype="float64")
    x_nd.attach_grad()
    state_nds = [mx.nd.array(s, dtype="float64") for s in states]
    for s in state_nds:
        s.attach_grad()
    with autograd.record():
        out, new = layer(x_nd, state_nds)
        total = (out * mx.nd.array(head, dtype="float64")).sum()
        for s, w in zip(new, state_heads):
            total = total + (s * mx.nd.array(w, dtype="float64")).sum()
    total.backward()
    eps = 1e-6

    def numeric(value, set_value):
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            plus = set_value(value)
            value[index] = saved - eps
            minus = set_value(value)
            value[index] = saved
            grad[index] = (plus - minus) / (2 * eps)
        set_value(value)
        return grad

    np.testing.assert_allclose(x_nd.grad.asnumpy(), numeric(x.copy(), lambda v: loss(v, states).asscalar()),
                               rtol=1e-5, atol=1e-7)
    first = states[0].copy()
    np.testing.assert_allclose(state_nds[0].grad.asnumpy(),
                               numeric(first, lambda v: loss(x, [v] + states[1:]).asscalar()), rtol=1e-5, atol=1e-7)
    for name in ("l0_h2h_weight", "r1_i2h_weight", "l1_i2h_bias", "r0_h2h_bias"):
        param = getattr(layer, name)
        analytic = param.grad().asnumpy().copy()

        def set_param(v, param=param):
            param.set_data(mx.nd.array(v, dtype="float64"))
            return loss(x, states).asscalar()

        np.testing.assert_allclose(analytic, numeric(param.data().asnumpy().copy(), set_param), rtol=1e-5,
                                   atol=1e-7, err_msg=name)


def test_dropout_only_while_training():
    layer = rnn.LSTM(8, num_layers=3, dropout=0.5, input_size=4)
    layer.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(RNG.uniform(-1, 1, size=(5, 2, 4)))
    reference = layer._unfuse().unroll(5, x, layout="TNC", merge_outputs=True)[0].asnumpy()
    np.testing.assert_allclose(layer(x).asnumpy(), reference, rtol=1e-4, atol=1e-6)
    with autograd.record():
        trained = layer(x).asnumpy()
    assert np.abs(trained - reference).max() > 1e-3


def test_save_and_load_parameters_round_trip(tmp_path):
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3)
    layer.initialize(mx.init.Uniform(0.5))
    _randomize(layer)
    path = str(tmp_path / "lstm.params")
    layer.save_parameters(path)
    keys = sorted(mx.nd.load(path).keys())
    assert keys[0] == "_unfused.0.l_cell.h2h_bias" and len(keys) == 16
    other = rnn.LSTM(4, num_layers=2, bidirectional=True)
    other.load_parameters(path)
    x = mx.nd.array(RNG.uniform(-1, 1, size=(3, 2, 3)))
    np.testing.assert_array_equal(other(x).asnumpy(), layer(x).asnumpy())
    single = rnn.GRU(3, input_size=2)
    single.initialize()
    single.save_parameters(path)
    assert sorted(mx.nd.load(path).keys()) == ["_unfused.0.h2h_bias", "_unfused.0.h2h_weight",
                                                "_unfused.0.i2h_bias", "_unfused.0.i2h_weight"]
    # Inside a network the layer's names sit under its attribute name.
    net = mx.gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(rnn.RNN(3, input_size=2), mx.gluon.nn.Dense(2, flatten=False, in_units=3))
    net.initialize()
    net.save_parameters(path)
    assert "0._unfused.0.i2h_weight" in mx.nd.load(path)
    copy = mx.gluon.nn.HybridSequential()
    with copy.name_scope():
        copy.add(rnn.RNN(3, input_size=2), mx.gluon.nn.Dense(2, flatten=False, in_units=3))
    copy.load_parameters(path)
    y = mx.nd.ones((4, 2, 2))
    np.testing.assert_array_equal(copy(y).asnumpy(), net(y).asnumpy())


def test_export_and_import(tmp_path):
    layer = rnn.LSTM(4, num_layers=2, input_size=3)
    layer.initialize(mx.init.Uniform(0.5))
    layer.hybridize()
    x = mx.nd.array(RNG.uniform(-1, 1, size=(3, 2, 3)))
    states = layer.begin_state(2, func=mx.nd.ones)
    out, new_states = layer(x, states)
    symbol_file, params_file = layer.export(str(tmp_path / "lstm"))
    block = mx.gluon.SymbolBlock.imports(symbol_file, ["data0", "data1", "data2"], params_file)
    got = block(x, *states)
    np.testing.assert_allclose(got[0].asnumpy(), out.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(got[2].asnumpy(), new_states[1].asnumpy(), rtol=1e-6)


# ---- Cells ----------------------------------------------------------------------------------------------------

def _cell(mode, hidden, **kwargs):
    if mode == "lstm":
        return rnn.LSTMCell(hidden, **kwargs)
    if mode == "gru":
        return rnn.GRUCell(hidden, **kwargs)
    return rnn.RNNCell(hidden, activation=mode[4:], **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_cell_step_matches_numpy(mode):
    cell = _cell(mode, 4, input_size=3)
    cell.initialize()
    params = _randomize(cell)
    x = RNG.uniform(-1, 1, size=(2, 3)).astype(np.float32)
    states = [RNG.uniform(-1, 1, size=(2, 4)).astype(np.float32) for _ in cell.state_info()]
    out, new_states = cell(mx.nd.array(x), [mx.nd.array(s) for s in states])
    h, c = _np_step(mode, x, states[0], states[1] if mode == "lstm" else None, params["i2h_weight"],
                    params["h2h_weight"], params["i2h_bias"], params["h2h_bias"])
    np.testing.assert_allclose(out.asnumpy(), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_states[0].asnumpy(), h, rtol=1e-5, atol=1e-6)
    if mode == "lstm":
        np.testing.assert_allclose(new_states[1].asnumpy(), c, rtol=1e-5, atol=1e-6)
    assert sorted(cell.collect_params().keys()) == sorted(cell.prefix + k for k in
                                                          ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"))
    cell.hybridize()
    hybrid_out, _ = cell(mx.nd.array(x), [mx.nd.array(s) for s in states])
    np.testing.assert_allclose(hybrid_out.asnumpy(), out.asnumpy(), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_cells_match_the_fused_layer(mode, bidirectional, layout):
    layer = _make_layer(mode, 3, 2, bidirectional, layout, input_size=2)
    layer.initialize(mx.init.Uniform(0.7))
    _randomize(layer)
    x = mx.nd.array(RNG.uniform(-1, 1, size=(4, 5, 2)))
    dirs = 2 if bidirectional else 1
    raw = _states(mode, 2, dirs, 5 if layout == "TNC" else 4, 3)
    fused_out, fused_states = layer(x, [mx.nd.array(s) for s in raw])
    stack = layer._unfuse()
    # The stack's states: per layer (and direction), the cell's states in order.
    per_cell = [[mx.nd.array(s[i]) for s in raw] for i in range(2 * dirs)]
    length = x.shape[layout.find("T")]
    outputs, states = stack.unroll(length, x, begin_state=sum(per_cell, []), layout=layout, merge_outputs=True)
    np.testing.assert_allclose(outputs.asnumpy(), fused_out.asnumpy(), rtol=1e-4, atol=1e-5)
    count = len(raw)
    for i in range(2 * dirs):
        for k in range(count):
            np.testing.assert_allclose(states[i * count + k].asnumpy(), fused_states[k][i].asnumpy(), rtol=1e-4,
                                       atol=1e-5)


@pytest.mark.parametrize("merge", [True, False, None])
def test_unroll_layouts_and_merge(merge):
    cell = rnn.GRUCell(3, input_size=2)
    cell.initialize()
    x = mx.nd.array(RNG.uniform(-1, 1, size=(4, 5, 2)))  # NTC: batch 4, 5 steps.
    out, states = cell.unroll(5, x, layout="NTC", merge_outputs=merge)
    steps = [cell(x[:, t, :], [mx.nd.zeros((4, 3))])[0] for t in range(1)]
    if merge:
        assert out.shape == (4, 5, 3)
        first = out[:, 0, :]
    else:
        assert isinstance(out, list) and len(out) == 5 and out[0].shape == (4, 3)
        first = out[0]
    np.testing.assert_allclose(first.asnumpy(), steps[0].asnumpy(), rtol=1e-6)
    tnc, _ = cell.unroll(5, x.transpose((1, 0, 2)), layout="TNC", merge_outputs=True)
    merged = out if merge else mx.nd.stack(*out, axis=1)
    np.testing.assert_allclose(tnc.asnumpy().transpose(1, 0, 2), merged.asnumpy(), rtol=1e-6)
    listed, _ = cell.unroll(5, [x[:, t, :] for t in range(5)], layout="NTC", merge_outputs=True)
    np.testing.assert_allclose(listed.asnumpy(), merged.asnumpy(), rtol=1e-6)
    assert len(states) == 1 and states[0].shape == (4, 3)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_unroll_valid_length(mode):
    cell = _cell(mode, 3, input_size=2)
    cell.initialize()
    params = _randomize(cell)
    x = RNG.uniform(-1, 1, size=(3, 4, 2)).astype(np.float32)  # NTC.
    lengths = [4, 1, 2]
    out, states = cell.unroll(4, mx.nd.array(x), layout="NTC", merge_outputs=True,
                              valid_length=mx.nd.array(lengths))
    named = {"l0_" + k: v for k, v in params.items()}
    zeros = [np.zeros((1, 3, 3)) for _ in cell.state_info()]
    expected, finals = _np_rnn(mode, x.transpose(1, 0, 2).astype(np.float64), named, zeros, 1, 1, lengths)
    np.testing.assert_allclose(out.asnumpy(), expected.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    for got, want in zip(states, finals):
        np.testing.assert_allclose(got.asnumpy(), want[0], rtol=1e-5, atol=1e-6)


def test_bidirectional_cell_matches_numpy_with_valid_length():
    cell = rnn.BidirectionalCell(rnn.LSTMCell(3, input_size=2, prefix="l0_"),
                                 rnn.LSTMCell(3, input_size=2, prefix="r0_"))
    cell.initialize()
    params = _randomize(cell)
    x = RNG.uniform(-1, 1, size=(4, 3, 2)).astype(np.float32)  # TNC.
    lengths = [4, 2, 3]
    out, states = cell.unroll(4, mx.nd.array(x), layout="TNC", merge_outputs=True,
                              valid_length=mx.nd.array(lengths))
    zeros = [np.zeros((2, 3, 3)), np.zeros((2, 3, 3))]
    expected, finals = _np_rnn("lstm", x.astype(np.float64), params, zeros, 1, 2, lengths)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    # States: l_cell's [h, c], then r_cell's.
    for i, (d, k) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        np.testing.assert_allclose(states[i].asnumpy(), finals[k][d], rtol=1e-5, atol=1e-6)
    listed, _ = cell.unroll(4, mx.nd.array(x), layout="TNC", merge_outputs=False)
    assert len(listed) == 4 and listed[0].shape == (3, 6)
    with pytest.raises(NotImplementedError):
        cell(mx.nd.array(x[0]), cell.begin_state(batch_size=3))


def test_sequential_cells_and_modifiers():
    stack = rnn.SequentialRNNCell()
    with stack.name_scope():
        stack.add(rnn.LSTMCell(4, input_size=2))
        stack.add(rnn.DropoutCell(0.5))
        stack.add(rnn.ResidualCell(rnn.GRUCell(4, input_size=4)))
    stack.initialize()
    assert len(stack) == 3 and isinstance(stack[1], rnn.DropoutCell)
    assert [info["shape"] for info in stack.state_info(7)] == [(7, 4), (7, 4), (7, 4)]
    names = [s.name for s in stack.begin_state(func=mx.sym.var)]
    assert names[0].endswith("lstm0_begin_state_0") and names[2].endswith("gru0_begin_state_0")
    x = mx.nd.array(RNG.uniform(-1, 1, size=(2, 3, 2)))  # NTC.
    out, states = stack.unroll(3, x, merge_outputs=True)
    assert out.shape == (2, 3, 4) and len(states) == 3
    # By hand: LSTM, dropout (identity when not training), GRU plus its input.
    lstm_out, lstm_states = stack[0].unroll(3, x, merge_outputs=True)
    residual = stack[2]
    residual.base_cell._modified = False
    gru_out, _ = residual.base_cell.unroll(3, lstm_out, merge_outputs=True)
    residual.base_cell._modified = True
    np.testing.assert_allclose(out.asnumpy(), (gru_out + lstm_out).asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(states[0].asnumpy(), lstm_states[0].asnumpy(), rtol=1e-6)
    # One step of the stack.
    step_out, step_states = stack(x[:, 0, :], stack.begin_state(batch_size=2, func=mx.nd.zeros))
    np.testing.assert_allclose(step_out.asnumpy(), out[:, 0, :].asnumpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="modifier"):
        residual.base_cell.begin_state(2)
    with pytest.raises(ValueError, match="modified"):
        rnn.ZoneoutCell(residual.base_cell)


def test_hybrid_sequential_cell_and_zoneout():
    stack = rnn.HybridSequentialRNNCell()
    with stack.name_scope():
        stack.add(rnn.ZoneoutCell(rnn.RNNCell(3, input_size=2), zoneout_outputs=0.5, zoneout_states=0.5))
        stack.add(rnn.RNNCell(3, input_size=3))
    stack.initialize()
    x = mx.nd.array(RNG.uniform(-1, 1, size=(4, 2, 2)))  # TNC.
    out, _ = stack.unroll(4, x, layout="TNC", merge_outputs=True)
    zoneout = stack[0]
    zoneout.base_cell._modified = False
    plain, _ = zoneout.base_cell.unroll(4, x, layout="TNC", merge_outputs=True)
    zoneout.base_cell._modified = True
    expected, _ = stack[1].unroll(4, plain, layout="TNC", merge_outputs=True)
    np.testing.assert_allclose(out.asnumpy(), expected.asnumpy(), rtol=1e-6)  # Predicting: no zoneout.
    with autograd.record():
        trained, _ = stack.unroll(4, x, layout="TNC", merge_outputs=True)
    assert np.abs(trained.asnumpy() - expected.asnumpy()).max() > 1e-4
    assert "ZoneoutCell(p_out=0.5, p_state=0.5, RNNCell(2 -> 3, tanh))" in repr(stack)


def test_dropout_cell_on_a_whole_sequence():
    cell = rnn.DropoutCell(0.3)
    x = mx.nd.ones((2, 3, 4))
    out, states = cell.unroll(3, x, merge_outputs=True)
    np.testing.assert_array_equal(out.asnumpy(), x.asnumpy())
    assert states == []
    with autograd.record():
        dropped, _ = cell.unroll(3, x, merge_outputs=True)
    values = np.unique(dropped.asnumpy())
    assert len(values) == 2
    np.testing.assert_allclose(values, [0, 1 / 0.7], rtol=1e-6)
    with pytest.raises(TypeError):
        rnn.DropoutCell("0.3")


def test_cell_unroll_inside_a_hybridized_block():
    class Encoder(mx.gluon.HybridBlock):
        """An LSTM cell unrolled over given begin states inside hybrid_forward."""

        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.cell = rnn.LSTMCell(3, input_size=2)

        def hybrid_forward(self, F, x, h, c):
            out, _ = self.cell.unroll(3, x, begin_state=[h, c], layout="NTC", merge_outputs=True)
            return out

    net = Encoder()
    net.initialize()
    x = mx.nd.array(RNG.uniform(-1, 1, size=(2, 3, 2)))
    h, c = mx.nd.zeros((2, 3)), mx.nd.zeros((2, 3))
    expected = net(x, h, c)
    net.hybridize()
    np.testing.assert_allclose(net(x, h, c).asnumpy(), expected.asnumpy(), rtol=1e-6)


def test_cell_deferred_input_size_and_activations():
    cell = rnn.RNNCell(3, activation=mx.gluon.nn.LeakyReLU(0.1))
    cell.initialize()
    x = mx.nd.array(RNG.uniform(-1, 1, size=(2, 5)))
    out, _ = cell(x, cell.begin_state(2))
    assert cell.i2h_weight.shape == (3, 5)
    w, b = cell.i2h_weight.data().asnumpy(), cell.i2h_bias.data().asnumpy()
    pre = x.asnumpy() @ w.T + b + cell.h2h_bias.data().asnumpy()
    np.testing.assert_allclose(out.asnumpy(), np.where(pre > 0, pre, 0.1 * pre), rtol=1e-5, atol=1e-6)
    softsign = rnn.RNNCell(2, activation="softsign", input_size=5)
    softsign.initialize()
    pre = x.asnumpy() @ softsign.i2h_weight.data().asnumpy().T
    np.testing.assert_allclose(softsign(x, softsign.begin_state(2))[0].asnumpy(), pre / (1 + np.abs(pre)),
                               rtol=1e-5, atol=1e-6)


def test_cell_unroll_without_begin_state_inside_a_hybridized_block():
    class Encoder(mx.gluon.HybridBlock):
        """A bidirectional GRU stack unrolled from its default (zero) begin states inside hybrid_forward."""

        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.cell = rnn.HybridSequentialRNNCell()
                self.cell.add(rnn.BidirectionalCell(rnn.GRUCell(3, input_size=2), rnn.GRUCell(3, input_size=2)))
                self.cell.add(rnn.LSTMCell(2, input_size=6))

        def hybrid_forward(self, F, x):
            out, states = self.cell.unroll(4, x, layout="TNC", merge_outputs=True)
            return out, states[-1]

    net = Encoder()
    net.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(RNG.uniform(-1, 1, size=(4, 3, 2)))
    expected = net(x)
    net.hybridize()
    got = net(x)
    assert got[0].shape == (4, 3, 2) and got[1].shape == (3, 2)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_layer_inside_a_hybridized_network(mode, tmp_path):
    net = mx.gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(mx.gluon.nn.Embedding(10, 4), _make_layer(mode, 5, 2, True, "NTC", input_size=4),
                mx.gluon.nn.Dense(3, flatten=False))
    net.initialize(mx.init.Uniform(0.5))
    tokens = mx.nd.array([[1, 2, 3], [4, 5, 6]])
    expected = net(tokens)
    net.hybridize()
    np.testing.assert_allclose(net(tokens).asnumpy(), expected.asnumpy(), rtol=1e-5, atol=1e-6)
    symbol_file, params_file = net.export(str(tmp_path / "net"))
    block = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)
    np.testing.assert_allclose(block(tokens).asnumpy(), expected.asnumpy(), rtol=1e-5, atol=1e-6)
