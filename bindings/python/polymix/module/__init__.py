"""mx.mod (mx.module): MXNet 1.x's symbolic training API: BaseModule (fit, score, predict) and Module (a
Symbol bound on one device, trained with mx.optimizer)."""

from .base_module import BaseModule  # noqa: F401
from .module import Module  # noqa: F401

__all__ = ["BaseModule", "Module"]
