"""Devices as MXNet names them: Context, cpu(), gpu(), cpu_pinned(), current_context(), num_gpus()."""

import threading

from . import _core
from .base import parse_context_text

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus", "gpu_memory_info"]


class Context:
    """A device: type ('cpu', 'gpu', 'cpu_pinned') and id. `with Context(...)` makes it the default device of
    this thread for arrays created without a ctx (MXNet's `with mx.gpu(0):`)."""

    _default_ctx = threading.local()
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5}

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid = device_type.device_typeid
            self.device_id = device_type.device_id
        else:
            if isinstance(device_type, str) and "(" in device_type:
                device_type, device_id = parse_context_text(device_type)
            if device_type not in Context.devstr2type:
                raise ValueError("device type %r: expected one of %s" % (device_type, sorted(Context.devstr2type)))
            self.device_typeid = Context.devstr2type[device_type]
            self.device_id = int(device_id)
        self._old_ctx = None

    @property
    def device_type(self):
        """The device type name: 'cpu', 'gpu' or 'cpu_pinned'."""
        return Context.devtype2str[self.device_typeid]

    def _pair(self):
        """(type, id) as _core takes devices."""
        return (self.device_typeid, self.device_id)

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_typeid == other.device_typeid
                and self.device_id == other.device_id)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __str__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __repr__ = __str__

    def __enter__(self):
        self._old_ctx = current_context()
        Context._default_ctx.value = self
        _core.set_default_device(self._pair())
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        Context._default_ctx.value = self._old_ctx
        _core.set_default_device(self._old_ctx._pair())

    def empty_cache(self):
        """Releases cached device memory (kept for MXNet compatibility; the pool frees on its own)."""


def _from_pair(pair):
    """The Context of a (type, id) pair from _core."""
    return Context(Context.devtype2str[pair[0]], pair[1])


def cpu(device_id=0):
    """The CPU context (device_id is accepted for MXNet compatibility)."""
    return Context("cpu", device_id)


def cpu_pinned(device_id=0):
    """Page-locked host memory, for fast copies to and from GPUs."""
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    """GPU number `device_id`; arrays there need a CUDA build (else NotImplementedError on use)."""
    return Context("gpu", device_id)


def num_gpus():
    """The number of GPUs this build can use (0 without CUDA)."""
    return _core.num_gpus()


def gpu_memory_info(device_id=0):
    """(free, total) bytes of a GPU: not available yet."""
    raise NotImplementedError("gpu_memory_info is not implemented yet")


def current_context():
    """This thread's default context (cpu(0) unless inside `with Context(...)`)."""
    if not hasattr(Context._default_ctx, "value"):
        Context._default_ctx.value = Context("cpu", 0)
    return Context._default_ctx.value
