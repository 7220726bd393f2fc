"""Linear algebra operators of mx.nd (registered as _linalg_<name>), generated from the operator schema."""
from ._gen_linalg import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_linalg import __all__  # noqa: F401
