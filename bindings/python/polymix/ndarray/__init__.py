"""mx.nd: NDArray, its creation functions and the operators generated from the schema, placed as MXNet 1.x
places them (mx.nd.<op>, mx.nd.contrib, mx.nd.linalg, mx.nd.random, mx.nd._internal)."""

from . import _internal, contrib, linalg, op, random, register  # noqa: F401
from . import ndarray, utils  # noqa: F401
from .cached_op import CachedOp  # noqa: F401
from .op import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .ndarray import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .utils import *  # noqa: F401,F403 pylint: disable=wildcard-import
