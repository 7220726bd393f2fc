"""mx.optimizer: the Optimizer base class, create/register, get_updater and the built-in optimizers (SGD, NAG,
Signum, Adam, AdamW, RMSProp, AdaGrad, AdaDelta, Ftrl, LAMB), whose update rules run in core/optim."""

from . import optimizer, optimizers  # noqa: F401
from .optimizer import Optimizer, Updater, create, get_updater, register  # noqa: F401
from .optimizers import (SGD, NAG, LAMB, AdaDelta, AdaGrad, Adam, AdamW, Ftrl, RMSProp, Signum,  # noqa: F401
                         ccSGD)

__all__ = ["Optimizer", "Updater", "create", "get_updater", "register", "SGD", "ccSGD", "NAG", "Signum", "Adam",
           "AdamW", "RMSProp", "AdaGrad", "AdaDelta", "Ftrl", "LAMB"]
