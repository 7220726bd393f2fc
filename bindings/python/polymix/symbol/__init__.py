"""mx.sym: Symbol, variables, and the operators generated from the schema, placed as MXNet 1.x places them
(mx.sym.<op>, mx.sym.contrib, mx.sym.linalg, mx.sym.random, mx.sym._internal)."""

from . import _internal, contrib, linalg, op, register, symbol  # noqa: F401
from . import random  # noqa: F401
from .op import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .symbol import *  # noqa: F401,F403 pylint: disable=wildcard-import
