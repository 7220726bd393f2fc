"""The top-level operators of mx.nd, generated from the operator schema (see tools/opgen)."""
from ._gen_op import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_op import __all__  # noqa: F401
