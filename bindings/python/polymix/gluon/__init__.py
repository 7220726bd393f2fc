"""mx.gluon: MXNet 1.x's imperative/hybrid neural network API over Polymix: Parameter, Block, HybridBlock,
SymbolBlock, the layers of nn, loss, Trainer, data (Dataset, DataLoader, vision) and utils."""

from .parameter import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .block import *  # noqa: F401,F403 pylint: disable=wildcard-import
from . import nn  # noqa: F401
from . import loss  # noqa: F401
from . import utils  # noqa: F401
from . import data  # noqa: F401
from . import rnn  # noqa: F401
from . import model_zoo  # noqa: F401
from .trainer import *  # noqa: F401,F403 pylint: disable=wildcard-import
