"""Cells made of cells (MXNet 1.x's mx.gluon.rnn.rnn_cell, second half): the stacks SequentialRNNCell and
HybridSequentialRNNCell, DropoutCell, the modifiers (ModifierCell, ZoneoutCell, ResidualCell) and
BidirectionalCell. Names, state order and unroll semantics are MXNet's (Note [Cells as MXNet builds them] in
rnn_cell.py)."""

from ... import symbol
from ...base import numeric_types
from ..parameter import tensor_types
from ..utils import _indent
from .rnn_cell import (HybridRecurrentCell, RecurrentCell, _cells_begin_state, _cells_state_info,
                       _format_sequence, _get_begin_state, _mask_sequence_variable_length, _reverse_sequences)

__all__ = ["SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell", "ZoneoutCell",
           "ResidualCell", "BidirectionalCell"]


def _stack_repr(cell):
    modstr = "\n".join("({i}): {m}".format(i=i, m=_indent(m.__repr__(), 2)) for i, m in cell._children.items())
    return "{name}(\n{modstr}\n)".format(name=cell.__class__.__name__, modstr=modstr)


def _stack_step(cell, inputs, states):
    """One step through every cell of a stack, each taking its slice of `states`."""
    cell._counter += 1
    next_states = []
    start = 0
    for child in cell._children.values():
        if isinstance(child, BidirectionalCell):
            raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")
        count = len(child.state_info())
        inputs, state = child(inputs, states[start:start + count])
        start += count
        next_states.append(state)
    return inputs, sum(next_states, [])


def _stack_unroll(cell, length, inputs, begin_state, layout, merge_outputs, valid_length):
    """Unrolls each cell of a stack over the whole sequence in turn."""
    cell.reset()
    inputs, _, F, batch_size = _format_sequence(length, inputs, layout, None)
    count = len(cell._children)
    begin_state = _get_begin_state(cell, F, begin_state, inputs, batch_size, layout)
    start = 0
    next_states = []
    for i, child in enumerate(cell._children.values()):
        n = len(child.state_info())
        states = begin_state[start:start + n]
        start += n
        inputs, states = child.unroll(length, inputs=inputs, begin_state=states, layout=layout,
                                      merge_outputs=None if i < count - 1 else merge_outputs,
                                      valid_length=valid_length)
        next_states.extend(states)
    return inputs, next_states


class _CellStack:
    """What SequentialRNNCell and HybridSequentialRNNCell share: a stack of cells run one after the other per
    step; the states are the cells' states in order."""

    def __repr__(self):
        return _stack_repr(self)

    def add(self, cell):
        """Appends a cell to the stack."""
        self.register_child(cell)

    def state_info(self, batch_size=0):
        """The states of every cell, in order."""
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        """The begin states of every cell, in order."""
        self._check_not_modified()
        return _cells_begin_state(self._children.values(), **kwargs)

    def __call__(self, inputs, states):
        return _stack_step(self, inputs, states)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unrolls each cell over the sequence in turn (so bidirectional cells may be stacked)."""
        return _stack_unroll(self, length, inputs, begin_state, layout, merge_outputs, valid_length)

    def __getitem__(self, i):
        return self._children[str(i)]

    def __len__(self):
        return len(self._children)


class SequentialRNNCell(_CellStack, RecurrentCell):
    """A stack of cells: each step runs them one after the other; states are the cells' states in order."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, *args, **kwargs):
        raise NotImplementedError


class HybridSequentialRNNCell(_CellStack, HybridRecurrentCell):
    """A stack of hybrid cells: each step runs them one after the other."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, inputs, states):
        return self.__call__(inputs, states)


class DropoutCell(HybridRecurrentCell):
    """Dropout (rate, shared along `axes`) on the input of each step; passes the states through."""

    def __init__(self, rate, axes=(), prefix=None, params=None):
        super().__init__(prefix, params)
        if not isinstance(rate, numeric_types):
            raise TypeError("rate must be a number, given %r" % (rate,))
        self._rate = rate
        self._axes = axes

    def __repr__(self):
        return "{name}(rate={rate}, axes={axes})".format(name=self.__class__.__name__, rate=self._rate,
                                                         axes=self._axes)

    def state_info(self, batch_size=0):
        """No states."""
        return []

    def _alias(self):
        return "dropout"

    def hybrid_forward(self, F, inputs, states):
        if self._rate > 0:
            inputs = F.Dropout(data=inputs, p=self._rate, axes=self._axes, name="t%d_fwd" % self._counter)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Applies dropout to the whole sequence at once when it is one tensor."""
        self.reset()
        inputs, _, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, tensor_types):
            return self.hybrid_forward(F, inputs, begin_state if begin_state else [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout, merge_outputs=merge_outputs,
                              valid_length=None)


class ModifierCell(HybridRecurrentCell):
    """The base of cells that wrap a base cell and change its step (ZoneoutCell, ResidualCell); the base cell
    must then be used only through the modifier."""

    def __init__(self, base_cell):
        if base_cell._modified:
            raise ValueError("Cell %s is already modified. One cell cannot be modified twice" % base_cell.name)
        base_cell._modified = True
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell

    @property
    def params(self):
        """The base cell's parameters."""
        return self.base_cell.params

    def state_info(self, batch_size=0):
        """The base cell's states."""
        return self.base_cell.state_info(batch_size)

    def begin_state(self, func=symbol.zeros, **kwargs):
        """The base cell's begin states."""
        self._check_not_modified()
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True

    def hybrid_forward(self, F, inputs, states):
        raise NotImplementedError

    def __repr__(self):
        return "{name}({base})".format(name=self.__class__.__name__, base=self.base_cell)


class ZoneoutCell(ModifierCell):
    """Zoneout: while training, each output / state element keeps its previous value with probability
    zoneout_outputs / zoneout_states."""

    def __init__(self, base_cell, zoneout_outputs=0., zoneout_states=0.):
        if isinstance(base_cell, BidirectionalCell) or (
                isinstance(base_cell, (SequentialRNNCell, HybridSequentialRNNCell))
                and any(isinstance(c, BidirectionalCell) for c in base_cell._children.values())):
            raise ValueError("BidirectionalCell doesn't support zoneout since it doesn't support step. Please add "
                             "ZoneoutCell to the cells underneath instead.")
        super().__init__(base_cell)
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self._prev_output = None

    def __repr__(self):
        return "{name}(p_out={p_out}, p_state={p_state}, {base})".format(
            name=self.__class__.__name__, p_out=self.zoneout_outputs, p_state=self.zoneout_states,
            base=self.base_cell)

    def _alias(self):
        return "zoneout"

    def reset(self):
        super().reset()
        self._prev_output = None

    def hybrid_forward(self, F, inputs, states):
        next_output, next_states = self.base_cell(inputs, states)

        def keep_mask(p, like):  # 1 where the new value is kept (Dropout of ones: 0 or 1/(1-p), 1 when predicting).
            return F.Dropout(F.ones_like(like), p=p)

        prev_output = self._prev_output if self._prev_output is not None else F.zeros_like(next_output)
        output = (F.where(keep_mask(self.zoneout_outputs, next_output), next_output, prev_output)
                  if self.zoneout_outputs != 0. else next_output)
        states = ([F.where(keep_mask(self.zoneout_states, new), new, old) for new, old in zip(next_states, states)]
                  if self.zoneout_states != 0. else next_states)
        self._prev_output = output
        return output, states


class ResidualCell(ModifierCell):
    """Adds each step's input to the base cell's output (Wu et al., 2016)."""

    def __init__(self, base_cell):  # pylint: disable=useless-super-delegation
        super().__init__(base_cell)

    def hybrid_forward(self, F, inputs, states):
        output, states = self.base_cell(inputs, states)
        output = F.elemwise_add(output, inputs, name="t%d_fwd" % self._counter)
        return output, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unrolls the base cell, then adds the (masked) inputs to its outputs."""
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs=inputs, begin_state=begin_state, layout=layout,
                                                    merge_outputs=merge_outputs, valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        if merge_outputs is None:
            merge_outputs = isinstance(outputs, tensor_types)
        inputs, axis, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if valid_length is not None:
            inputs = _mask_sequence_variable_length(F, inputs, length, valid_length, axis, merge_outputs)
        if merge_outputs:
            outputs = F.elemwise_add(outputs, inputs)
        else:
            outputs = [F.elemwise_add(i, j) for i, j in zip(outputs, inputs)]
        return outputs, states


class BidirectionalCell(HybridRecurrentCell):
    """Runs l_cell forward and r_cell backward in time over the sequence and joins their outputs along the
    feature axis; states are l_cell's then r_cell's. Only unroll is possible (a step needs the future)."""

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.register_child(l_cell, "l_cell")
        self.register_child(r_cell, "r_cell")
        self._output_prefix = output_prefix

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def __repr__(self):
        return "{name}(forward={l_cell}, backward={r_cell})".format(
            name=self.__class__.__name__, l_cell=self._children["l_cell"], r_cell=self._children["r_cell"])

    def state_info(self, batch_size=0):
        """l_cell's states, then r_cell's."""
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        """l_cell's begin states, then r_cell's."""
        self._check_not_modified()
        return _cells_begin_state(self._children.values(), **kwargs)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Both directions over the sequence (with valid_length, r_cell reads each sequence's valid part
        reversed); outputs (.., 2 * hidden) joined as 'bi_out' (merged) or 'bi_t<k>' (per step)."""
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        reversed_inputs = list(_reverse_sequences(inputs, length, valid_length))
        states = _get_begin_state(self, F, begin_state, inputs, batch_size)
        l_cell, r_cell = self._children.values()
        l_count = len(l_cell.state_info(batch_size))
        l_outputs, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:l_count], layout=layout,
                                            merge_outputs=merge_outputs, valid_length=valid_length)
        r_outputs, r_states = r_cell.unroll(length, inputs=reversed_inputs, begin_state=states[l_count:],
                                            layout=layout, merge_outputs=False, valid_length=valid_length)
        reversed_r_outputs = _reverse_sequences(r_outputs, length, valid_length)
        if merge_outputs is None:
            merge_outputs = isinstance(l_outputs, tensor_types)
            l_outputs, _, _, _ = _format_sequence(None, l_outputs, layout, merge_outputs)
            reversed_r_outputs, _, _, _ = _format_sequence(None, reversed_r_outputs, layout, merge_outputs)
        if merge_outputs:
            if not isinstance(reversed_r_outputs, tensor_types):
                reversed_r_outputs = F.stack(*reversed_r_outputs, axis=axis)
            outputs = F.concat(l_outputs, reversed_r_outputs, dim=2, name="%sout" % self._output_prefix)
        else:
            outputs = [F.concat(l_o, r_o, dim=1, name="%st%d" % (self._output_prefix, i))
                       for i, (l_o, r_o) in enumerate(zip(l_outputs, reversed_r_outputs))]
        if valid_length is not None:
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis, merge_outputs)
        return outputs, l_states + r_states
