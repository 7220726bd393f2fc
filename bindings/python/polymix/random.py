"""mx.random: the random seed, and MXNet's sampling functions (the same as mx.nd.random's)."""

from . import _core
from .ndarray.random import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from .ndarray.random import __all__ as _sampling

__all__ = ["seed"] + list(_sampling)


def seed(seed_state, ctx="all"):
    """Seeds the random generators of every device (ctx is accepted for MXNet compatibility): the same seed
    and the same calls give the same numbers."""
    if not isinstance(seed_state, int) or isinstance(seed_state, bool):
        raise ValueError("seed_state must be int")
    _core.seed(seed_state & 0xFFFFFFFFFFFFFFFF)
