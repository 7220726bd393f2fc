"""A minimal ctypes view of libpolymix.so's C ABI for tests that need NumPy as the oracle.

This is test plumbing, not the Python package: arrays in and out as NumPy, operators by name.
The library is found through $POLYMIX_LIBRARY or next to this file's Bazel runfiles.
"""

import ctypes
import json
import os

import numpy as np

_DTYPE_FLAGS = {
    np.dtype("float32"): 0, np.dtype("float64"): 1, np.dtype("float16"): 2, np.dtype("uint8"): 3,
    np.dtype("int32"): 4, np.dtype("int8"): 5, np.dtype("int64"): 6, np.dtype("bool"): 7,
}
_FLAG_DTYPES = {flag: dtype for dtype, flag in _DTYPE_FLAGS.items()}
_ERROR_TYPES = {2: ValueError, 3: TypeError, 4: IndexError, 5: NotImplementedError, 6: MemoryError}


class PolymixError(Exception):
    """An error reported by the C ABI; `kind` is its error kind name (ValueError, ...)."""


def _error_class(kind):
    base = _ERROR_TYPES.get(kind, RuntimeError)
    return type("Polymix" + base.__name__, (PolymixError, base), {})


_ERROR_CLASSES = {kind: _error_class(kind) for kind in range(1, 7)}


def _find_library():
    path = os.environ.get("POLYMIX_LIBRARY")
    if path:
        return path
    runfiles = os.environ.get("RUNFILES_DIR") or os.environ.get("TEST_SRCDIR", "")
    candidate = os.path.join(runfiles, "polymix", "core", "c_api", "libpolymix.so")
    if os.path.exists(candidate):
        return candidate
    raise RuntimeError("libpolymix.so not found: set POLYMIX_LIBRARY or run under bazel test")


_lib = ctypes.CDLL(_find_library())
_Handle = ctypes.c_void_p
_lib.pmx_last_error_message.restype = ctypes.c_char_p


def _check(status):
    if status != 0:
        kind = _lib.pmx_last_error_kind()
        message = _lib.pmx_last_error_message().decode("utf-8", "replace")
        raise _ERROR_CLASSES.get(kind, _ERROR_CLASSES[1])(message)


class Array:
    """Owns one PmxNDArrayHandle."""

    def __init__(self, handle):
        self.handle = _Handle(handle)

    def __del__(self):
        if self.handle:
            _lib.pmx_ndarray_free(self.handle)
            self.handle = None

    @classmethod
    def from_numpy(cls, value):
        value = np.ascontiguousarray(value)
        shape = (ctypes.c_int64 * max(value.ndim, 1))(*value.shape)
        handle = _Handle()
        _check(_lib.pmx_ndarray_create_from_data(
            value.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(value.nbytes), shape, value.ndim,
            _DTYPE_FLAGS[value.dtype], 1, 0, ctypes.byref(handle)))
        return cls(handle.value)

    def numpy(self):
        ndim = ctypes.c_int()
        dims = ctypes.POINTER(ctypes.c_int64)()
        _check(_lib.pmx_ndarray_get_shape(self.handle, ctypes.byref(ndim), ctypes.byref(dims)))
        flag = ctypes.c_int()
        _check(_lib.pmx_ndarray_get_dtype(self.handle, ctypes.byref(flag)))
        out = np.empty(tuple(dims[i] for i in range(ndim.value)), dtype=_FLAG_DTYPES[flag.value])
        _check(_lib.pmx_ndarray_copy_to_host(self.handle, out.ctypes.data_as(ctypes.c_void_p),
                                             ctypes.c_size_t(out.nbytes)))
        return out


def _params(params):
    keys = [k.encode() for k in params]
    values = [str(v).encode() for v in params.values()]
    return (len(keys), (ctypes.c_char_p * max(len(keys), 1))(*keys),
            (ctypes.c_char_p * max(len(values), 1))(*values))


def _handles(arrays):
    return (_Handle * max(len(arrays), 1))(*[a.handle for a in arrays])


def _take_outputs(count, handles):
    return [Array(handles[i]) if handles[i] else None for i in range(count.value)]


def invoke(op, inputs, **params):
    """Runs operator `op` on NumPy inputs; returns the visible outputs as NumPy arrays."""
    arrays = [Array.from_numpy(x) for x in inputs]
    count = ctypes.c_int()
    outputs = ctypes.POINTER(_Handle)()
    n, keys, values = _params(params)
    _check(_lib.pmx_op_invoke(op.encode(), len(arrays), _handles(arrays), n, keys, values, 0, None,
                              ctypes.byref(count), ctypes.byref(outputs)))
    return [out.numpy() for out in _take_outputs(count, outputs)]


def invoke_keep_inputs(op, inputs, **params):
    """Runs `op` like invoke; returns (outputs, inputs read back after the call), for ops that update
    some inputs in place (optimizer states)."""
    arrays = [Array.from_numpy(x) for x in inputs]
    count = ctypes.c_int()
    outputs = ctypes.POINTER(_Handle)()
    n, keys, values = _params(params)
    _check(_lib.pmx_op_invoke(op.encode(), len(arrays), _handles(arrays), n, keys, values, 0, None,
                              ctypes.byref(count), ctypes.byref(outputs)))
    results = [out.numpy() for out in _take_outputs(count, outputs)]
    return results, [a.numpy() for a in arrays]


def gradient(op, inputs, head_grads, **params):
    """Gradients of op's inputs (NumPy, None where none flows) for the given head gradients."""
    arrays = [Array.from_numpy(x) for x in inputs]
    heads = [Array.from_numpy(h) for h in head_grads]
    count = ctypes.c_int()
    grads = ctypes.POINTER(_Handle)()
    n, keys, values = _params(params)
    _check(_lib.pmx_op_gradient(op.encode(), len(arrays), _handles(arrays), n, keys, values, len(heads),
                                _handles(heads), ctypes.byref(count), ctypes.byref(grads)))
    return [g.numpy() if g is not None else None for g in _take_outputs(count, grads)]


def schema():
    """The operator registry as parsed JSON."""
    text = ctypes.c_char_p()
    _check(_lib.pmx_op_schema_json(ctypes.byref(text)))
    return json.loads(text.value.decode())


def wait_all():
    """Blocks until all pushed work has finished."""
    _check(_lib.pmx_engine_wait_all())


def seed(value):
    """Seeds every device's random generator."""
    _check(_lib.pmx_random_seed(ctypes.c_uint64(value)))
