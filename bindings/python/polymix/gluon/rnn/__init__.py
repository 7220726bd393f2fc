"""mx.gluon.rnn: recurrent layers (RNN, LSTM, GRU over the core's fused RNN operator) and cells (MXNet 1.x's)."""

from .rnn_cell import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .cell_wrappers import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .rnn_layer import *  # noqa: F401,F403 pylint: disable=wildcard-import
