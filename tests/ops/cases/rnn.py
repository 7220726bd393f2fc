"""Oracles for core/ops/nn/rnn.cc: the fused RNN (a per-timestep NumPy recurrence), its gradient helper
_rnn_backward (a NumPy backpropagation through time) and _rnn_param_concat.

RNN's gradient is checked against finite differences by test_ops.py for one configuration and by
test_rnn_extra.py for every mode, 1-2 layers and both directions; test_rnn_extra.py also covers sequence
lengths, LSTM state clipping, float16 and the error messages."""

import numpy as np

from cases.common import Case

CASES = {}

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


def _flag(value):
    """A boolean parameter given as a Python bool or in MXNet's spelling."""
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1")


def _optional(value):
    return None if value is None or str(value) == "None" else float(value)


def param_count(mode, num_layers, bidirectional, input_size, state_size):
    """MXNet's length of the flat parameter vector (GetRnnParamSize without projection)."""
    dirs = 2 if bidirectional else 1
    rows = GATES[mode] * state_size * dirs
    first = (input_size + state_size + 2) * rows
    other = (state_size * dirs + state_size + 2) * rows
    return first + (num_layers - 1) * other


def unpack_params(flat, mode, num_layers, dirs, input_size, state_size):
    """{(layer, direction): (W_x, W_h, b_x, b_h)} from MXNet's flat vector: all weights, then all biases."""
    rows = GATES[mode] * state_size
    weights, offset = {}, 0
    for layer in range(num_layers):
        columns = input_size if layer == 0 else dirs * state_size
        for d in range(dirs):
            wx = flat[offset:offset + rows * columns].reshape(rows, columns)
            offset += rows * columns
            wh = flat[offset:offset + rows * state_size].reshape(rows, state_size)
            offset += rows * state_size
            weights[layer, d] = [wx, wh]
    for layer in range(num_layers):
        for d in range(dirs):
            weights[layer, d] += [flat[offset:offset + rows], flat[offset + rows:offset + 2 * rows]]
            offset += 2 * rows
    assert offset == flat.size, (offset, flat.size)
    return weights


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Config:
    """RNN's parameters, parsed the way the operator reads them."""

    def __init__(self, state_size, num_layers, mode, bidirectional=False, p=0, state_outputs=False,
                 projection_size=None, lstm_state_clip_min=None, lstm_state_clip_max=None,
                 lstm_state_clip_nan=False, use_sequence_length=False):
        self.hidden, self.layers, self.mode = int(state_size), int(num_layers), mode
        self.dirs = 2 if _flag(bidirectional) else 1
        self.state_outputs = _flag(state_outputs)
        self.use_lengths = _flag(use_sequence_length)
        self.clip_min, self.clip_max = _optional(lstm_state_clip_min), _optional(lstm_state_clip_max)
        self.clip_nan = _flag(lstm_state_clip_nan)
        self.dropout = float(p)
        self.lstm = mode == "lstm"

    def split_inputs(self, inputs):
        """(data, params, state, state_cell or None, lengths or None, rest) from an input list."""
        data, params, state = inputs[:3]
        index = 3
        cell = None
        if self.lstm:
            cell, index = inputs[3], 4
        lengths = None
        if self.use_lengths:
            lengths, index = np.trunc(inputs[index].astype(np.float64)).astype(np.int64), index + 1
        return data, params, state, cell, lengths, list(inputs[index:])

    def clip(self, c):
        if self.clip_min is None:
            return c
        clipped = np.clip(c, self.clip_min, self.clip_max)
        return np.where(np.isnan(c), self.clip_min if self.clip_nan else np.nan, clipped)


def _step(config, x, h, c, wx, wh, bx, bh):
    """One step for a batch: returns the new h, the new c (LSTM) and the values the kernel saves."""
    ax, ah = x @ wx.T + bx, h @ wh.T + bh
    H = config.hidden
    if config.mode in ("rnn_relu", "rnn_tanh"):
        a = ax + ah
        return (np.maximum(a, 0) if config.mode == "rnn_relu" else np.tanh(a)), None, np.zeros((x.shape[0], 0))
    if config.mode == "lstm":
        a = ax + ah
        i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
        g = np.tanh(a[:, 2 * H:3 * H])
        c_new = config.clip(f * c + i * g)
        return o * np.tanh(c_new), c_new, np.concatenate([i, f, g, o], axis=1)
    r = _sigmoid(ax[:, :H] + ah[:, :H])
    z = _sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return (1 - z) * n + z * h, None, np.concatenate([r, z, n, ah[:, 2 * H:]], axis=1)


def forward(config, data, params, state, cell=None, lengths=None, masks=None):
    """The recurrence in float64. Returns (out, hy, cy, record); record holds what the kernel saves
    (see Note [RNN saved activations] in rnn_internal.h). masks: optional dropout factors per layer boundary."""
    data, params, state = (np.asarray(v, np.float64) for v in (data, params, state))
    cell = None if cell is None else np.asarray(cell, np.float64)
    T, N, I = data.shape
    H, D, L = config.hidden, config.dirs, config.layers
    weights = unpack_params(params, config.mode, L, D, I, H)
    active = np.ones((T, N), bool) if lengths is None else np.arange(T)[:, None] < np.asarray(lengths)[None, :]
    hy, cy = np.zeros_like(state), None if cell is None else np.zeros_like(cell)
    record = {"cells": {}, "boundaries": []}
    x = data
    for layer in range(L):
        y = np.zeros((T, N, D * H))
        for d in range(D):
            wx, wh, bx, bh = weights[layer, d]
            h = state[layer * D + d]
            c = None if cell is None else cell[layer * D + d]
            saved_gates = 4 * H if config.mode in ("lstm", "gru") else 0
            h_hist, c_hist = np.zeros((T, N, H)), np.zeros((T, N, H))
            gates = np.zeros((T, N, saved_gates))
            for t in (range(T) if d == 0 else reversed(range(T))):
                h_new, c_new, g = _step(config, x[t], h, c, wx, wh, bx, bh)
                keep = active[t][:, None]
                h = np.where(keep, h_new, h)
                if c is not None:
                    c = np.where(keep, c_new, c)
                    c_hist[t] = c
                h_hist[t] = h
                gates[t] = np.where(keep, g, 0)
                y[t, :, d * H:(d + 1) * H] = np.where(keep, h_new, 0)
            hy[layer * D + d] = h
            if cy is not None:
                cy[layer * D + d] = c
            record["cells"][layer, d] = (h_hist, c_hist if config.lstm else None, gates)
        if layer < L - 1:
            mask = np.ones_like(y) if masks is None else masks[layer]
            y = y * mask
            record["boundaries"].append((y, mask if config.dropout > 0 else None))
        x = y
    return x, hy, cy, record


def pack_reserve(config, record):
    """The saved-activation vector in the kernel's layout."""
    pieces = []
    for layer in range(config.layers):
        for d in range(config.dirs):
            h_hist, c_hist, gates = record["cells"][layer, d]
            pieces += [h_hist.ravel()] + ([c_hist.ravel()] if c_hist is not None else []) + [gates.ravel()]
    for inputs, mask in record["boundaries"]:
        pieces += [inputs.ravel()] + ([mask.ravel()] if mask is not None else [])
    return np.concatenate(pieces) if pieces else np.zeros(0)


def rnn(*inputs, **params):
    """RNN's visible outputs."""
    config = Config(**params)
    data, weights, state, cell, lengths, _ = config.split_inputs(inputs)
    out, hy, cy, _ = forward(config, data, weights, state, cell, lengths)
    outputs = [out] + ([hy] + ([cy] if config.lstm else []) if config.state_outputs else [])
    return [o.astype(data.dtype) for o in outputs]


def backward(config, data, params, state, cell, lengths, out_grad, state_grad=None, cell_grad=None, masks=None):
    """Backpropagation through time in float64, recomputing every activation from the inputs. Returns the
    gradients of data, params, state and (LSTM) state_cell."""
    data, params, state = (np.asarray(v, np.float64) for v in (data, params, state))
    T, N, I = data.shape
    H, D, L = config.hidden, config.dirs, config.layers
    _, _, _, record = forward(config, data, params, state, cell, lengths, masks)
    weights = unpack_params(params, config.mode, L, D, I, H)
    grads = {key: [np.zeros_like(w) for w in value] for key, value in weights.items()}
    active = np.ones((T, N), bool) if lengths is None else np.arange(T)[:, None] < np.asarray(lengths)[None, :]
    d_state = np.zeros_like(state)
    d_cell = None if cell is None else np.zeros_like(np.asarray(cell, np.float64))
    dy = np.asarray(out_grad, np.float64)
    for layer in reversed(range(L)):
        x = data if layer == 0 else record["boundaries"][layer - 1][0]
        dx = np.zeros_like(x)
        for d in range(D):
            wx, wh, bx, bh = weights[layer, d]
            gwx, gwh, gbx, gbh = grads[layer, d]
            index = layer * D + d
            h_hist, c_hist, _ = record["cells"][layer, d]
            h0 = state[index]
            c0 = None if cell is None else np.asarray(cell, np.float64)[index]
            dh = np.zeros((N, H)) if state_grad is None else np.array(state_grad[index], np.float64)
            dc = None if cell is None else (np.zeros((N, H)) if cell_grad is None else
                                            np.array(cell_grad[index], np.float64))
            order = list(range(T)) if d == 0 else list(reversed(range(T)))
            for s in reversed(range(T)):
                t = order[s]
                h_prev = h0 if s == 0 else h_hist[order[s - 1]]
                c_prev = None if cell is None else (c0 if s == 0 else c_hist[order[s - 1]])
                keep = active[t][:, None]
                dh_t = dh + dy[t, :, d * H:(d + 1) * H] * keep
                ax, ah = x[t] @ wx.T + bx, h_prev @ wh.T + bh
                direct = np.zeros((N, H))
                if config.mode in ("rnn_relu", "rnn_tanh"):
                    a = ax + ah
                    derivative = (a > 0) * 1.0 if config.mode == "rnn_relu" else 1 - np.tanh(a) ** 2
                    dax = dah = dh_t * derivative
                elif config.mode == "lstm":
                    a = ax + ah
                    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
                    g = np.tanh(a[:, 2 * H:3 * H])
                    raw = f * c_prev + i * g
                    c_new = config.clip(raw)
                    dc_t = dc + dh_t * o * (1 - np.tanh(c_new) ** 2)
                    if config.clip_min is not None:
                        dc_t = dc_t * ((raw > config.clip_min) & (raw < config.clip_max))
                    dax = dah = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                                                dc_t * i * (1 - g * g), dh_t * np.tanh(c_new) * o * (1 - o)], axis=1)
                    dc = np.where(keep, dc_t * f, dc)
                else:
                    r = _sigmoid(ax[:, :H] + ah[:, :H])
                    z = _sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
                    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
                    dn = dh_t * (1 - z) * (1 - n * n)
                    dr = dn * ah[:, 2 * H:] * r * (1 - r)
                    dz = dh_t * (h_prev - n) * z * (1 - z)
                    dax = np.concatenate([dr, dz, dn], axis=1)
                    dah = np.concatenate([dr, dz, dn * r], axis=1)
                    direct = dh_t * z
                dax, dah = dax * keep, dah * keep
                gwx += dax.T @ x[t]
                gbx += dax.sum(axis=0)
                gwh += dah.T @ h_prev
                gbh += dah.sum(axis=0)
                dx[t] += dax @ wx
                dh = np.where(keep, direct + dah @ wh, dh)
            d_state[index] = dh
            if d_cell is not None:
                d_cell[index] = dc
        if layer > 0:
            mask = record["boundaries"][layer - 1][1]
            dy = dx * (1 if mask is None else mask)
        else:
            d_data = dx
    flat = [w.ravel() for layer in range(L) for d in range(D) for w in grads[layer, d][:2]]
    flat += [b for layer in range(L) for d in range(D) for b in grads[layer, d][2:]]
    result = [d_data, np.concatenate(flat), d_state]
    return result + ([d_cell] if cell is not None else [])


def rnn_backward(*inputs, **params):
    """_rnn_backward's outputs: inputs are RNN's inputs, the saved activations, then the output gradients."""
    config = Config(**params)
    data, weights, state, cell, lengths, rest = config.split_inputs(inputs)
    heads = rest[1:]  # rest[0] is the saved-activation vector, which the oracle recomputes.
    state_grad = heads[1] if len(heads) > 1 else None
    cell_grad = heads[2] if len(heads) > 2 else None
    grads = backward(config, data, weights, state, cell, lengths, heads[0], state_grad, cell_grad)
    return [g.astype(data.dtype) for g in grads]


def make_rnn_inputs(rng, config, steps=3, batch=2, input_size=3, scale=0.5, lengths=None):
    """data, parameters, state, [state_cell], [sequence_length] for `config` (weights kept small)."""
    count = param_count(config.mode, config.layers, config.dirs == 2, input_size, config.hidden)
    inputs = [rng.uniform(-1, 1, (steps, batch, input_size)), rng.uniform(-scale, scale, count),
              rng.uniform(-1, 1, (config.layers * config.dirs, batch, config.hidden))]
    if config.lstm:
        inputs.append(rng.uniform(-1, 1, (config.layers * config.dirs, batch, config.hidden)))
    if config.use_lengths:
        inputs.append(np.asarray(lengths, np.float64))
    return inputs


def make_backward_inputs(rng, params, **sizes):
    """RNN's inputs, the saved activations of the NumPy forward packed like the kernel's, and head gradients."""
    config = Config(**params)
    inputs = make_rnn_inputs(rng, config, **sizes)
    data, weights, state, cell, lengths, _ = config.split_inputs(inputs)
    out, hy, cy, record = forward(config, data, weights, state, cell, lengths)
    heads = [rng.uniform(-1, 1, out.shape)]
    if config.state_outputs:
        heads += [rng.uniform(-1, 1, hy.shape)] + ([rng.uniform(-1, 1, cy.shape)] if config.lstm else [])
    return inputs + [pack_reserve(config, record)] + heads


_LSTM = dict(state_size=2, num_layers=2, mode="lstm", bidirectional=True, state_outputs=True)
CASES["RNN"] = Case(rnn, params=_LSTM,
                    make_inputs=lambda rng, dtype: make_rnn_inputs(rng, Config(**_LSTM)))

_GRU = dict(state_size=4, num_layers=2, mode="gru", bidirectional=True, state_outputs=True,
            use_sequence_length=True)
CASES["_rnn_backward"] = Case(
    rnn_backward, params=_GRU, grad=False,
    make_inputs=lambda rng, dtype: make_backward_inputs(rng, _GRU, lengths=[3, 2]))

CASES["_rnn_param_concat"] = Case(lambda *xs, num_args, dim: np.concatenate(xs, axis=dim),
                                  shapes=((4,), (6,), (2,)), params=dict(num_args=3, dim=0),
                                  dtypes=("float32", "float64", "int32"))
