"""Recurrent cells (MXNet 1.x's mx.gluon.rnn.rnn_cell): one time step per call, unroll over a sequence.

Note [Cells as MXNet builds them]
Every cell computes one step from operators MXNet's cell uses, with the same node names ('t0_i2h', 't0_plus0',
... under the cell's prefix, t<k> counting the steps since the last reset) and the same parameter names
(i2h_weight, h2h_weight, i2h_bias, h2h_bias) and gate order (LSTM: i, f, g, o; GRU: r, z, n), so that a stack of
cells and the fused layers of rnn_layer.py compute the same function from the same weights (the fused layer's
_unfuse() builds that stack) and unrolled graphs look like MXNet's.

Note [Symbolic begin states]
MXNet makes the default begin states of a symbolic call with mx.sym.zeros of shape (0, H), 0 meaning "unknown,
to be inferred". Polymix's graph inference resolves such a partial shape only through a direct consumer that
assigns it (Note [Partial shapes] in core/graph/graph.cc): the fused RNN op does (rnn_layer.py uses MXNet's
zeros), but a cell's state feeds FullyConnected, which does not infer its data's shape from its output. So the
default begin states of a cell's symbolic call are zeros of size 1 along the batch axis broadcast
(broadcast_like) to the inputs' batch size. The values are the same and MXNet 1.9.1 loads such graphs; only these
few nodes differ from the graph MXNet would trace. begin_state(func=mx.sym.zeros) itself still gives MXNet's
(0, H) zeros.

The containers and modifiers (SequentialRNNCell, DropoutCell, ZoneoutCell, BidirectionalCell, ...) live in
cell_wrappers.py.
"""

from ... import ndarray, symbol
from ...base import string_types
from ..block import Block, HybridBlock
from ..nn import LeakyReLU
from ..parameter import tensor_types

__all__ = ["RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell"]


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


def _cells_state_info(cells, batch_size):
    return sum([cell.state_info(batch_size) for cell in cells], [])


def _cells_begin_state(cells, **kwargs):
    return sum([cell.begin_state(**kwargs) for cell in cells], [])


def _symbol_zeros_along(reference, batch_axis):
    """A begin-state factory for symbols: zeros whose unknown (0) batch dimension is taken from `reference`'s
    axis `batch_axis` (Note [Symbolic begin states])."""
    def make(name, shape, **kwargs):
        if 0 not in shape:
            return symbol.zeros(name=name, shape=shape, **kwargs)
        axis = list(shape).index(0)
        zeros = symbol.zeros(name=name, shape=tuple(1 if dim == 0 else dim for dim in shape), **kwargs)
        return symbol.broadcast_like(zeros, reference, lhs_axes=(axis,), rhs_axes=(batch_axis,))
    return make


def _get_begin_state(cell, F, begin_state, inputs, batch_size, layout="NTC"):
    """`begin_state`, or zero states made by the cell (on the inputs' device for NDArrays; for symbols sized by
    the inputs' batch axis: one step (N, C) of a list, or axis 'N' of `layout` of one tensor)."""
    if begin_state is not None:
        return begin_state
    if F is ndarray:
        ctx = inputs.context if isinstance(inputs, tensor_types) else inputs[0].context
        with ctx:
            return cell.begin_state(func=F.zeros, batch_size=batch_size)
    if isinstance(inputs, tensor_types):
        factory = _symbol_zeros_along(inputs, layout.find("N"))
    else:
        factory = _symbol_zeros_along(inputs[0], 0)
    return cell.begin_state(func=factory, batch_size=0)


def _format_sequence(length, inputs, layout, merge, in_layout=None):
    """(inputs as a list of steps (merge False) or one tensor in `layout` (merge True; None: as given), the time
    axis of `layout`, F, the batch size (0 for symbols))."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) has been deprecated. Please create input variables outside unroll.")
    axis = layout.find("T")
    batch_axis = layout.find("N")
    batch_size = 0
    in_axis = in_layout.find("T") if in_layout is not None else axis
    if isinstance(inputs, symbol.Symbol):
        F = symbol
        if merge is False:
            if len(inputs.list_outputs()) != 1:
                raise ValueError("unroll doesn't allow grouped symbol as input. Please convert to list with "
                                 "list(inputs) first or let unroll handle splitting.")
            inputs = list(symbol.split(inputs, axis=in_axis, num_outputs=length, squeeze_axis=1))
    elif isinstance(inputs, ndarray.NDArray):
        F = ndarray
        batch_size = inputs.shape[batch_axis]
        if merge is False:
            if length is not None and length != inputs.shape[in_axis]:
                raise ValueError("unroll length %d does not match the input's time dimension %d"
                                 % (length, inputs.shape[in_axis]))
            inputs = _as_list(ndarray.split(inputs, axis=in_axis, num_outputs=inputs.shape[in_axis],
                                            squeeze_axis=1))
    else:
        if length is not None and len(inputs) != length:
            raise ValueError("unroll length %d does not match the %d input steps given" % (length, len(inputs)))
        if isinstance(inputs[0], symbol.Symbol):
            F = symbol
        else:
            F = ndarray
            batch_size = inputs[0].shape[0]
        if merge is True:
            inputs = F.stack(*inputs, axis=axis)
            in_axis = axis
    if isinstance(inputs, tensor_types) and axis != in_axis:
        inputs = F.swapaxes(inputs, dim1=axis, dim2=in_axis)
    return inputs, axis, F, batch_size


def _mask_sequence_variable_length(F, data, length, valid_length, time_axis, merge):
    """Zeroes the steps past each sequence's valid length; a list of steps when not `merge`."""
    if not isinstance(data, tensor_types):
        data = F.stack(*data, axis=time_axis)
    outputs = F.SequenceMask(data, sequence_length=valid_length, use_sequence_length=True, axis=time_axis)
    if not merge:
        outputs = _as_list(F.split(outputs, num_outputs=length, axis=time_axis, squeeze_axis=True))
    return outputs


def _reverse_sequences(sequences, unroll_step, valid_length=None):
    """The steps in reverse order; with valid_length, each sequence's valid part is reversed in place."""
    F = symbol if isinstance(sequences[0], symbol.Symbol) else ndarray
    if valid_length is None:
        return list(reversed(sequences))
    reversed_sequences = F.SequenceReverse(F.stack(*sequences, axis=0), sequence_length=valid_length,
                                           use_sequence_length=True)
    if unroll_step > 1 or F is symbol:
        return _as_list(F.split(reversed_sequences, axis=0, num_outputs=unroll_step, squeeze_axis=True))
    return [reversed_sequences[0]]


class RecurrentCell(Block):
    """The base of recurrent cells: state_info, begin_state, one step per call (forward) and unroll over a
    sequence. prefix/params as for Block (params: share the parameters of another cell)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._modified = False
        self.reset()

    def reset(self):
        """Resets the step counters (node names t0_, t1_, ...) before building another graph."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            cell.reset()

    def state_info(self, batch_size=0):
        """Shape and layout of each state."""
        raise NotImplementedError()

    def _check_not_modified(self):
        if self._modified:
            raise RuntimeError("After applying modifier cells (e.g. ZoneoutCell) the base cell cannot be called "
                               "directly. Call the modifier cell instead.")

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states: func(name=prefix + 'begin_state_<k>', shape=..., **kwargs) for each state
        (mx.nd.zeros by default; mx.sym.zeros, mx.sym.var, mx.nd.ones, ... work too)."""
        self._check_not_modified()
        states = []
        for info in self.state_info(batch_size):
            self._init_counter += 1
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter), **info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Runs `length` steps over `inputs` (one tensor in `layout`, or a list of steps): returns (outputs, final
        states); outputs are one tensor (merge_outputs True) or a list of steps (False; None: whichever is
        cheaper). valid_length (batch,) masks each sequence's padding with zeros and returns the states of each
        sequence's last valid step."""
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        states = _get_begin_state(self, F, begin_state, inputs, batch_size)
        outputs, all_states = [], []
        for i in range(length):
            output, states = self(inputs[i], states)
            outputs.append(output)
            if valid_length is not None:
                all_states.append(states)
        if valid_length is not None:
            states = [F.SequenceLast(F.stack(*step_states, axis=0), sequence_length=valid_length,
                                     use_sequence_length=True, axis=0)
                      for step_states in zip(*all_states)]
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis, True)
        outputs, _, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _get_activation(self, F, inputs, activation, **kwargs):
        """Applies `activation`: a name ('tanh', 'relu', 'sigmoid', 'softsign' or an Activation act_type), a
        LeakyReLU block, or any callable."""
        func = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid, "softsign": F.softsign}.get(activation) \
            if isinstance(activation, string_types) else None
        if func:
            return func(inputs, **kwargs)
        if isinstance(activation, string_types):
            return F.Activation(inputs, act_type=activation, **kwargs)
        if isinstance(activation, LeakyReLU):
            return F.LeakyReLU(inputs, act_type="leaky", slope=activation._alpha, **kwargs)
        return activation(inputs, **kwargs)

    def forward(self, inputs, states):
        """One time step: (output, new states)."""
        self._counter += 1
        return super().forward(inputs, states)


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A recurrent cell whose step is a hybrid_forward(F, inputs, states, **params), so it can be hybridized."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


def _cell_params(cell, gates, hidden_size, input_size, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer):
    """Registers MXNet's four cell parameters with `gates` blocks of `hidden_size` rows each."""
    rows = gates * hidden_size
    cell.i2h_weight = cell.params.get("i2h_weight", shape=(rows, input_size), init=i2h_weight_initializer,
                                      allow_deferred_init=True)
    cell.h2h_weight = cell.params.get("h2h_weight", shape=(rows, hidden_size), init=h2h_weight_initializer,
                                      allow_deferred_init=True)
    cell.i2h_bias = cell.params.get("i2h_bias", shape=(rows,), init=i2h_bias_initializer, allow_deferred_init=True)
    cell.h2h_bias = cell.params.get("h2h_bias", shape=(rows,), init=h2h_bias_initializer, allow_deferred_init=True)


def _mapping(cell):
    shape = cell.i2h_weight.shape
    return "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0])


class RNNCell(HybridRecurrentCell):
    """Elman cell: h' = activation(W x + b_W + U h + b_U); one state (batch, hidden)."""

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0, prefix=None,
                 params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size = hidden_size
        self._activation = activation
        self._input_size = input_size
        _cell_params(self, 1, hidden_size, input_size, i2h_weight_initializer, h2h_weight_initializer,
                     i2h_bias_initializer, h2h_bias_initializer)

    def state_info(self, batch_size=0):
        """One state: h."""
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "rnn"

    def __repr__(self):
        return "{name}({mapping}, {act})".format(name=self.__class__.__name__, mapping=_mapping(self),
                                                  act=self._activation)

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=self._hidden_size,
                               name=prefix + "i2h")
        h2h = F.FullyConnected(data=states[0], weight=h2h_weight, bias=h2h_bias, num_hidden=self._hidden_size,
                               name=prefix + "h2h")
        total = F.elemwise_add(i2h, h2h, name=prefix + "plus0")
        output = self._get_activation(F, total, self._activation, name=prefix + "out")
        return output, [output]


class LSTMCell(HybridRecurrentCell):
    """LSTM cell, gates in MXNet's order i, f, g (activation), o (recurrent_activation for i, f, o); states
    [h, c], each (batch, hidden)."""

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0, prefix=None,
                 params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size = hidden_size
        self._input_size = input_size
        _cell_params(self, 4, hidden_size, input_size, i2h_weight_initializer, h2h_weight_initializer,
                     i2h_bias_initializer, h2h_bias_initializer)
        self._activation = activation
        self._recurrent_activation = recurrent_activation

    def state_info(self, batch_size=0):
        """Two states: h and the cell state c."""
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"},
                {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "lstm"

    def __repr__(self):
        return "{name}({mapping})".format(name=self.__class__.__name__, mapping=_mapping(self))

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        hidden4 = self._hidden_size * 4
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=hidden4,
                               name=prefix + "i2h")
        h2h = F.FullyConnected(data=states[0], weight=h2h_weight, bias=h2h_bias, num_hidden=hidden4,
                               name=prefix + "h2h")
        gates = F.elemwise_add(i2h, h2h, name=prefix + "plus0")
        pieces = F.SliceChannel(gates, num_outputs=4, name=prefix + "slice")
        in_gate = self._get_activation(F, pieces[0], self._recurrent_activation, name=prefix + "i")
        forget_gate = self._get_activation(F, pieces[1], self._recurrent_activation, name=prefix + "f")
        in_transform = self._get_activation(F, pieces[2], self._activation, name=prefix + "c")
        out_gate = self._get_activation(F, pieces[3], self._recurrent_activation, name=prefix + "o")
        next_c = F.elemwise_add(F.elemwise_mul(forget_gate, states[1], name=prefix + "mul0"),
                                F.elemwise_mul(in_gate, in_transform, name=prefix + "mul1"),
                                name=prefix + "state")
        next_h = F.elemwise_mul(out_gate, F.Activation(next_c, act_type=self._activation,
                                                       name=prefix + "activation0"),
                                name=prefix + "out")
        return next_h, [next_h, next_c]


class GRUCell(HybridRecurrentCell):
    """GRU cell, gates in MXNet's order r, z, n: n = tanh(W_n x + b_n + r * (U_n h + c_n)),
    h' = (1 - z) * n + z * h; one state (batch, hidden)."""

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0, prefix=None,
                 params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size = hidden_size
        self._input_size = input_size
        _cell_params(self, 3, hidden_size, input_size, i2h_weight_initializer, h2h_weight_initializer,
                     i2h_bias_initializer, h2h_bias_initializer)

    def state_info(self, batch_size=0):
        """One state: h."""
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "gru"

    def __repr__(self):
        return "{name}({mapping})".format(name=self.__class__.__name__, mapping=_mapping(self))

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        prev_h = states[0]
        hidden3 = self._hidden_size * 3
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=hidden3,
                               name=prefix + "i2h")
        h2h = F.FullyConnected(data=prev_h, weight=h2h_weight, bias=h2h_bias, num_hidden=hidden3,
                               name=prefix + "h2h")
        i2h_r, i2h_z, i2h_n = F.SliceChannel(i2h, num_outputs=3, name=prefix + "i2h_slice")
        h2h_r, h2h_z, h2h_n = F.SliceChannel(h2h, num_outputs=3, name=prefix + "h2h_slice")
        reset_gate = F.Activation(F.elemwise_add(i2h_r, h2h_r, name=prefix + "plus0"), act_type="sigmoid",
                                  name=prefix + "r_act")
        update_gate = F.Activation(F.elemwise_add(i2h_z, h2h_z, name=prefix + "plus1"), act_type="sigmoid",
                                   name=prefix + "z_act")
        candidate = F.Activation(F.elemwise_add(i2h_n, F.elemwise_mul(reset_gate, h2h_n, name=prefix + "mul0"),
                                                name=prefix + "plus2"),
                                 act_type="tanh", name=prefix + "h_act")
        ones = F.ones_like(update_gate, name=prefix + "ones_like0")
        next_h = F.elemwise_add(F.elemwise_mul(F.elemwise_sub(ones, update_gate, name=prefix + "minus0"), candidate,
                                               name=prefix + "mul1"),
                                F.elemwise_mul(update_gate, prev_h, name=prefix + "mul20"),
                                name=prefix + "out")
        return next_h, [next_h]


# MXNet keeps every cell in mx.gluon.rnn.rnn_cell; the containers and modifiers are reachable here too.
from .cell_wrappers import *  # noqa: E402,F401,F403 pylint: disable=wildcard-import,wrong-import-position,cyclic-import
from . import cell_wrappers as _cell_wrappers  # noqa: E402 pylint: disable=wrong-import-position
__all__ += _cell_wrappers.__all__
