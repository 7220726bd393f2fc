"""Contributed operators of mx.nd (registered as _contrib_<name>), generated from the operator schema."""
from ._gen_contrib import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_contrib import __all__  # noqa: F401
