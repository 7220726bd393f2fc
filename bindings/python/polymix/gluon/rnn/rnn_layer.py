"""The fused recurrent layers RNN, LSTM and GRU (MXNet 1.x's mx.gluon.rnn.rnn_layer).

Note [Fused RNN layers]
A layer keeps MXNet's per-layer, per-direction parameters ('l0_i2h_weight', 'r1_h2h_bias', ... under the layer's
prefix) and, at each call, flattens them into the one parameter vector of the core's RNN operator with
_rnn_param_concat: every weight (layer by layer, direction l before r, i2h before h2h), then every bias in the
same order. That is the order core/ops/nn/rnn_cell.cc reads (RnnConfig::WeightOffset/BiasOffset), so parameter
names, .params files and exported graphs are MXNet's. While the input size is unknown, _rnn_param_concat's
shape inference gives the first layer's input weights what the packed vector leaves over (Note [RNN parameter
concat] in core/ops/nn/rnn.cc), which is how deferred initialization finds them.

Note [Calls without states]
As in MXNet, a call without states makes zero states (begin_state) and passes them to the graph like given ones,
and the layer then returns the output alone; with states it returns (output, [new states]). The traced graph
depends on which of the two the first call did; unlike MXNet 1.9.1 (which keeps the first trace and so returns
the wrong structure after a switch), the cached graph is dropped when a later call switches.

Note [Deferred input size]
MXNet 1.9.1 finds the first layer's input size by graph shape inference: the weight variable carries the partial
shape (rows, 0), and Reshape(-1) infers it backward from the size _rnn_param_concat assigns to its output.
Polymix's graph inference has no partial shapes (a variable with a 0 in __shape__ is wholly unknown) and its
Reshape does not infer backward, so that chain cannot work here; infer_shape instead reads the feature axis of the
input directly, as MXNet 2's layers do. The traced graph is the same as MXNet's.

Note [Saved parameter names]
MXNet 1.9.1's save_parameters writes a fused layer's parameters under the names of the equivalent stack of
cells ('_unfused.0.i2h_weight', or '_unfused.0.l_cell.i2h_weight' when bidirectional), for compatibility with
older files; _collect_params_with_prefix gives the same names, so both libraries read each other's files.
"""

import re

from ... import ndarray, symbol
from ..block import HybridBlock
from ..parameter import tensor_types
from . import rnn_cell

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}

# A fused layer's own parameter names (Note [Saved parameter names]).
_PARAM_NAME = re.compile(r"(l|r)(\d+)_(i2h|h2h|h2r)_(weight|bias)\Z")


class _RNNLayer(HybridBlock):
    """The implementation shared by RNN, LSTM and GRU: a stack of recurrent layers computed by the core's fused
    RNN operator (Note [Fused RNN layers])."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 mode, projection_size, h2r_weight_initializer, lstm_state_clip_min, lstm_state_clip_max,
                 lstm_state_clip_nan, dtype, use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise ValueError("Invalid layout %s; must be one of ['TNC' or 'NTC']" % layout)
        if projection_size:
            # The core's RNN operator has no LSTMP kernel (MXNet 1.9.1 itself computes it only with cuDNN).
            raise NotImplementedError("LSTM projection_size=%s is not supported: Polymix's RNN operator has no LSTM "
                                      "projection (MXNet 1.9.1 offers it only on GPUs with cuDNN); leave it None"
                                      % projection_size)
        if mode not in _GATES:
            raise ValueError("Invalid mode %r; expected one of %s" % (mode, sorted(_GATES)))
        self._hidden_size = hidden_size
        self._projection_size = None
        self._num_layers = num_layers
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._input_size = input_size
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = use_sequence_length
        self.skip_states = None
        self._traced_skip_states = None
        self._gates = _GATES[mode]

        rows, inputs = self._gates * hidden_size, input_size
        for layer in range(num_layers):
            for direction in ["l", "r"][:self._dir]:
                name = "%s%d_" % (direction, layer)
                self._register_param(name + "i2h_weight", (rows, inputs), i2h_weight_initializer, dtype)
                self._register_param(name + "h2h_weight", (rows, hidden_size), h2h_weight_initializer, dtype)
                self._register_param(name + "i2h_bias", (rows,), i2h_bias_initializer, dtype)
                self._register_param(name + "h2h_bias", (rows,), h2h_bias_initializer, dtype)
            inputs = hidden_size * self._dir

    def _register_param(self, name, shape, init, dtype):
        param = self.params.get(name, shape=shape, init=init, allow_deferred_init=True, dtype=dtype)
        setattr(self, name, param)
        return param

    def __repr__(self):
        text = "{name}({mapping}, {layout}".format(name=self.__class__.__name__, mapping=self._mapping(),
                                                     layout=self._layout)
        if self._num_layers != 1:
            text += ", num_layers=%s" % self._num_layers
        if self._dropout != 0:
            text += ", dropout=%s" % self._dropout
        if self._dir == 2:
            text += ", bidirectional"
        return text + ")"

    def _mapping(self):
        shape = self.l0_i2h_weight.shape
        return "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0] // self._gates)

    def _collect_params_with_prefix(self, prefix=""):
        """Parameters under the names of the equivalent cell stack (Note [Saved parameter names])."""
        if prefix:
            prefix += "."
        bidirectional = self._dir == 2

        def cell_name(key):
            direction, layer, kind, role = _PARAM_NAME.match(key).groups()
            if bidirectional:
                return "_unfused.%s.%s_cell.%s_%s" % (layer, direction, kind, role)
            return "_unfused.%s.%s_%s" % (layer, kind, role)

        ret = {prefix + cell_name(key): value for key, value in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def state_info(self, batch_size=0):
        """Shape, layout and dtype of each begin state."""
        raise NotImplementedError

    def infer_shape(self, inputs, *args):
        """Gives the first layer's input weights the input's feature size (Note [Deferred input size])."""
        input_size = inputs.shape[self._layout.find("C")]
        for direction in ["l", "r"][:self._dir]:
            param = getattr(self, "%s0_i2h_weight" % direction)
            param.shape = (param.shape[0], input_size)

    def _unfuse(self):
        """The equivalent HybridSequentialRNNCell stack of cells, sharing this layer's parameters."""
        if self._lstm_state_clip_min is not None or self._lstm_state_clip_max is not None:
            raise NotImplementedError("_unfuse does not support state clipping")

        def make_cell(**kwargs):
            if self._mode == "lstm":
                return rnn_cell.LSTMCell(self._hidden_size, **kwargs)
            if self._mode == "gru":
                return rnn_cell.GRUCell(self._hidden_size, **kwargs)
            return rnn_cell.RNNCell(self._hidden_size, activation=self._mode[4:], **kwargs)

        stack = rnn_cell.HybridSequentialRNNCell(prefix=self.prefix, params=self.params)
        with stack.name_scope():
            inputs = self._input_size
            for layer in range(self._num_layers):
                kwargs = {"input_size": inputs,
                          "i2h_weight_initializer": self._i2h_weight_initializer,
                          "h2h_weight_initializer": self._h2h_weight_initializer,
                          "i2h_bias_initializer": self._i2h_bias_initializer,
                          "h2h_bias_initializer": self._h2h_bias_initializer}
                if self._dir == 2:
                    stack.add(rnn_cell.BidirectionalCell(make_cell(prefix="l%d_" % layer, **kwargs),
                                                         make_cell(prefix="r%d_" % layer, **kwargs)))
                else:
                    stack.add(make_cell(prefix="l%d_" % layer, **kwargs))
                if self._dropout > 0 and layer != self._num_layers - 1:
                    stack.add(rnn_cell.DropoutCell(self._dropout))
                inputs = self._hidden_size * self._dir
        return stack

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states: func(name=prefix + 'h0_<i>', shape=..., **kwargs) for each state (mx.nd.zeros by
        default; mx.sym.zeros or mx.sym.var for symbols)."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sh0_%d" % (self.prefix, i), **info))
        return states

    def __call__(self, inputs, states=None, sequence_length=None, **kwargs):
        """Runs the layer: output, or (output, new states) when states are given (Note [Calls without states])."""
        self.skip_states = states is None
        if self._cached_graph and self._traced_skip_states != self.skip_states:
            self._clear_cached_op()
        if states is None:
            if isinstance(inputs, ndarray.NDArray):
                batch_size = inputs.shape[self._layout.find("N")]
                states = self.begin_state(batch_size, ctx=inputs.context, dtype=inputs.dtype)
            else:  # MXNet's zeros(shape=(L, 0, H)): the RNN op sizes them (Note [Partial shapes] in core/graph/graph.cc).
                states = self.begin_state(0, func=symbol.zeros)
        if isinstance(states, tensor_types):
            states = [states]
        if self._use_sequence_length:
            if sequence_length is None:
                raise ValueError("%s was created with use_sequence_length=True: pass sequence_length (one valid "
                                 "length per sequence)" % self.name)
            return super().__call__(inputs, states, sequence_length, **kwargs)
        if sequence_length is not None:
            raise ValueError("%s got sequence_length but was created with use_sequence_length=False" % self.name)
        return super().__call__(inputs, states, **kwargs)

    def hybrid_forward(self, F, inputs, states, sequence_length=None, **kwargs):
        """Runs the fused RNN operator on the packed parameters (Note [Fused RNN layers])."""
        if F is ndarray:
            batch_size = inputs.shape[self._layout.find("N")]
            for state, info in zip(states, self.state_info(batch_size)):
                if state.shape != info["shape"]:
                    raise ValueError("Invalid recurrent state shape. Expecting %s, got %s."
                                     % (str(info["shape"]), str(state.shape)))
        else:
            self._traced_skip_states = self.skip_states
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, 0, 1)
        pieces = [kwargs["%s%d_%s_%s" % (direction, layer, kind, role)].reshape(-1)
                  for role in ["weight", "bias"]
                  for layer in range(self._num_layers)
                  for direction in ["l", "r"][:self._dir]
                  for kind in ["i2h", "h2h"]]
        params = F._internal._rnn_param_concat(*pieces, dim=0)
        extra = list(states) + ([sequence_length] if self._use_sequence_length else [])
        rnn = F.RNN(inputs, params, *extra, use_sequence_length=self._use_sequence_length,
                    state_size=self._hidden_size, projection_size=self._projection_size,
                    num_layers=self._num_layers, bidirectional=self._dir == 2, p=self._dropout,
                    state_outputs=True, mode=self._mode, lstm_state_clip_min=self._lstm_state_clip_min,
                    lstm_state_clip_max=self._lstm_state_clip_max, lstm_state_clip_nan=self._lstm_state_clip_nan)
        outputs = rnn[0]
        new_states = [rnn[1], rnn[2]] if self._mode == "lstm" else [rnn[1]]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, 0, 1)
        return outputs if self.skip_states else (outputs, new_states)


def _state_info(layer, batch_size, count):
    return [{"shape": (layer._num_layers * layer._dir, batch_size, layer._hidden_size), "__layout__": "LNC",
             "dtype": layer._dtype} for _ in range(count)]


class RNN(_RNNLayer):
    """A stack of Elman RNN layers, h_t = activation(W x_t + b_W + U h_{t-1} + b_U) with activation 'relu' or
    'tanh'; input (T, N, C) in layout 'TNC' or (N, T, C) in 'NTC'; states (num_layers * directions, N, hidden)."""

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0, bidirectional=False,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, dtype="float32", **kwargs):
        if activation not in ("relu", "tanh"):
            raise ValueError("Invalid activation %r for RNN; expected 'relu' or 'tanh'" % (activation,))
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "rnn_" + activation, None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        """One state: the hidden state of every layer and direction."""
        return _state_info(self, batch_size, 1)


class LSTM(_RNNLayer):
    """A stack of LSTM layers (gates i, f, g, o in MXNet's order); states [h, c], each (num_layers * directions,
    N, hidden). projection_size is not supported (NotImplementedError); state_clip_min/max/nan clip the cell
    state as MXNet's cuDNN path does."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", projection_size=None, h2r_weight_initializer=None,
                 state_clip_min=None, state_clip_max=None, state_clip_nan=False, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "lstm", projection_size, h2r_weight_initializer, state_clip_min, state_clip_max,
                         state_clip_nan, dtype, **kwargs)

    def state_info(self, batch_size=0):
        """Two states: the hidden state h and the cell state c."""
        return _state_info(self, batch_size, 2)


class GRU(_RNNLayer):
    """A stack of GRU layers (gates r, z, n in MXNet's order, n = tanh(W_n x + b_n + r * (U_n h + c_n)));
    one state (num_layers * directions, N, hidden)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "gru", None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        """One state: the hidden state of every layer and direction."""
        return _state_info(self, batch_size, 1)
