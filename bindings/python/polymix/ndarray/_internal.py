"""Internal operators of mx.nd (names starting with '_'), generated from the operator schema."""
from ._gen_internal import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_internal import __all__  # noqa: F401
