"""Polymix: MXNet 1.x's Python API over the Polymix engine. `import polymix as mx` and MXNet 1.x code runs:
mx.nd (NDArray), mx.sym (Symbol, bind / simple_bind), mx.autograd, mx.random, mx.test_utils, contexts
(mx.cpu(), mx.gpu()), mx.optimizer, mx.lr_scheduler, mx.init, mx.metric, mx.io, and the symbolic training API
mx.mod (Module), mx.model (checkpoints) and mx.callback."""

__version__ = "0.1.0"

from . import _core  # noqa: F401
from . import base  # noqa: F401
from .base import MXNetError  # noqa: F401
from . import context  # noqa: F401
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: F401
from . import name, attribute  # noqa: F401
from .attribute import AttrScope  # noqa: F401
from . import ndarray  # noqa: F401
from . import ndarray as nd  # noqa: F401
from . import symbol  # noqa: F401
from . import symbol as sym  # noqa: F401
from . import autograd, operator, random, test_utils  # noqa: F401
from . import registry, executor, lr_scheduler, optimizer, initializer, metric, io  # noqa: F401
from . import initializer as init  # noqa: F401
from . import gluon  # noqa: F401
from . import model, callback  # noqa: F401
from . import module  # noqa: F401
from . import module as mod  # noqa: F401


def _wait_at_exit():
    """Waits for pending engine work when the interpreter exits, as MXNet's package does (mx.nd.waitall):
    kernels still running on engine threads during teardown have crashed inside oneDNN (seen from Node)."""
    try:
        nd.waitall()
    except Exception:  # noqa: BLE001  (an operation's stored error must not turn exit into a traceback)
        pass


import atexit as _atexit  # noqa: E402

_atexit.register(_wait_at_exit)
