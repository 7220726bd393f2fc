"""mx.gluon.nn: neural network layers (MXNet 1.x's)."""

from .activations import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .basic_layers import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .conv_layers import *  # noqa: F401,F403 pylint: disable=wildcard-import
from ..block import Block, HybridBlock, SymbolBlock  # noqa: F401
