"""mx.gluon.data.vision: MNIST and Fashion-MNIST from IDX files, and image transforms."""

from .datasets import *  # noqa: F401,F403 pylint: disable=wildcard-import
from . import transforms  # noqa: F401
