"""Creating NDArrays (array, empty, zeros, ones, full, arange, linspace, eye, concatenate) and MXNet's .params
files (save, load, load_frombuffer)."""

import os

import numpy as np

from .. import _core
from ..base import dtype_flag, dtype_type, integer_types, mx_real_t
from ..context import Context, current_context
from . import _internal, op
from .ndarray import NDArray

__all__ = ["array", "empty", "zeros", "ones", "full", "arange", "linspace", "eye", "concatenate", "save", "load",
           "load_frombuffer"]


def _context(ctx):
    return current_context() if ctx is None else (ctx if isinstance(ctx, Context) else Context(ctx))


def _shape(shape):
    return (int(shape),) if isinstance(shape, integer_types) else tuple(int(dim) for dim in shape)


def array(source_array, ctx=None, dtype=None):
    """An NDArray copied from an array-like object (NumPy array, nested lists, NDArray). The dtype defaults to
    the source's for an NDArray and to float32 otherwise, as in MXNet 1.x."""
    ctx = _context(ctx)
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        result = empty(source_array.shape, ctx, dtype)
        source_array.copyto(result)
        return result
    dtype = mx_real_t if dtype is None else dtype
    flag = dtype_flag(dtype)
    if flag == 12:  # NumPy cannot convert to bfloat16: go through float32.
        return array(source_array, ctx, np.float32).astype("bfloat16")
    try:
        source = np.asarray(source_array, dtype=dtype_type(flag))
    except (TypeError, ValueError) as error:
        raise TypeError("source_array must be array like object: %s" % error) from None
    if not source.flags["C_CONTIGUOUS"]:
        source = source.copy(order="C")
    return NDArray._from_handle(_core.from_host(source, source.shape, flag, ctx._pair()))


def empty(shape, ctx=None, dtype=None):
    """An uninitialised array."""
    return NDArray._from_handle(_core.empty(_shape(shape), dtype_flag(dtype), _context(ctx)._pair()))


def zeros(shape, ctx=None, dtype=None, **kwargs):
    """An array of zeros."""
    return _internal._zeros(shape=_shape(shape), ctx=_context(ctx), dtype=dtype or mx_real_t, **kwargs)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones."""
    return _internal._ones(shape=_shape(shape), ctx=_context(ctx), dtype=dtype or mx_real_t, **kwargs)


def full(shape, val, ctx=None, dtype=mx_real_t, out=None):
    """An array filled with `val`."""
    return _internal._full(shape=_shape(shape), ctx=_context(ctx), dtype=dtype, value=float(val), out=out)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=mx_real_t):
    """Evenly spaced values in [start, stop), each repeated `repeat` times."""
    return _internal._arange(start=start, stop=stop, step=step, repeat=repeat, infer_range=False,
                             dtype=dtype, ctx=_context(ctx))


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=mx_real_t):
    """`num` evenly spaced values from start to stop."""
    return _internal._linspace(start=start, stop=stop, num=num, endpoint=endpoint, dtype=dtype,
                               ctx=_context(ctx))


def eye(N, M=0, k=0, ctx=None, dtype=mx_real_t, **kwargs):
    """An N x M array with ones on diagonal k."""
    return _internal._eye(N=N, M=M, k=k, ctx=_context(ctx), dtype=dtype, **kwargs)


def concatenate(arrays, axis=0, always_copy=True):
    """Joins arrays along an existing axis."""
    if not always_copy and len(arrays) == 1:
        return arrays[0]
    return op.concat(*arrays, dim=axis)


def save(fname, data):
    """Writes an NDArray, a list of NDArrays or a dict str -> NDArray to an MXNet .params file."""
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names, arrays = list(data.keys()), list(data.values())
        if not all(isinstance(name, str) for name in names):
            raise TypeError("save only accepts dict str->NDArray or list of NDArray")
    elif isinstance(data, (list, tuple)):
        names, arrays = [], list(data)
    else:
        raise TypeError("save only accepts dict str->NDArray or list of NDArray")
    if not all(isinstance(value, NDArray) for value in arrays):
        raise TypeError("save only accepts dict str->NDArray or list of NDArray")
    _core.save(os.fspath(fname), [value.handle for value in arrays], names)


def _loaded(result):
    handles, names = result
    arrays = [None if handle is None else NDArray._from_handle(handle) for handle in handles]
    return dict(zip(names, arrays)) if names else arrays


def load(fname):
    """Reads an MXNet .params file: a list of NDArrays, or a dict when the file has names."""
    return _loaded(_core.load(os.fspath(fname)))


def load_frombuffer(buf):
    """Reads .params bytes: a list of NDArrays, or a dict when they have names."""
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError("buf must be bytes, got %s" % type(buf).__name__)
    return _loaded(_core.load_bytes(bytes(buf)))
