"""mx.gluon.data: datasets, samplers, DataLoader and the vision datasets and transforms (MXNet 1.x's)."""

from .dataset import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .sampler import *  # noqa: F401,F403 pylint: disable=wildcard-import
from .dataloader import *  # noqa: F401,F403 pylint: disable=wildcard-import
from . import vision  # noqa: F401
