"""mx.test_utils: what MXNet 1.x tests use to compare arrays (assert_almost_equal with per-dtype tolerances,
same, almost_equal), make random inputs (rand_ndarray, rand_shape_*), pick the test device and check symbols
(check_numeric_gradient, check_symbolic_forward/backward, from test_utils_symbolic)."""

import numbers

import numpy as np

from .context import Context, current_context
from .ndarray.ndarray import NDArray
from .ndarray.utils import array

__all__ = ["default_context", "set_default_context", "default_dtype", "default_rtols", "default_atols",
           "get_tols", "almost_equal", "assert_almost_equal", "same", "rand_ndarray", "random_arrays",
           "rand_shape_2d", "rand_shape_3d", "rand_shape_nd", "assert_exception", "numeric_grad",
           "check_numeric_gradient", "check_symbolic_forward", "check_symbolic_backward"]


def default_context():
    """The device tests run on: the current context (cpu(0) unless changed)."""
    return current_context()


def set_default_context(ctx):
    """Sets the device tests run on."""
    Context._default_ctx.value = ctx


def default_dtype():
    """The dtype tests use by default."""
    return np.float32


def default_rtols():
    """Relative tolerances per dtype (MXNet 1.9's defaults)."""
    return {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5,
            np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0, np.dtype(np.int32): 0,
            np.dtype(np.uint32): 0, np.dtype(np.int64): 0, np.dtype(np.uint64): 0}


def default_atols():
    """Absolute tolerances per dtype (MXNet 1.9's defaults)."""
    return {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-20,
            np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0, np.dtype(np.int32): 0,
            np.dtype(np.uint32): 0, np.dtype(np.int64): 0, np.dtype(np.uint64): 0}


def _dtype_of(value):
    if isinstance(value, numbers.Number):
        value = np.array(value)
    return np.dtype(value.dtype)


def _tolerance(value, tol, defaults):
    if isinstance(tol, numbers.Number):
        return tol
    dtype = _dtype_of(value)
    tol = {} if tol is None else tol
    return tol.get(dtype, defaults.get(dtype, defaults[np.dtype(np.float32)]))


def get_tols(x, y, rtol, atol):
    """(rtol, atol) for comparing x and y: the given numbers, else the larger default of their dtypes."""
    rtol = max(_tolerance(x, rtol, default_rtols()), _tolerance(y, rtol, default_rtols()))
    atol = max(_tolerance(x, atol, default_atols()), _tolerance(y, atol, default_atols()))
    return rtol, atol


def _numpy(value):
    return value.asnumpy() if isinstance(value, NDArray) else np.asarray(value)


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """Whether |a - b| <= atol + rtol * |b| everywhere."""
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _numpy(a), _numpy(b)
    if not use_broadcast and a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False, use_broadcast=True,
                        mismatches=(10, 10)):
    """Raises AssertionError (naming the worst element) unless a and b are almost equal."""
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _numpy(a), _numpy(b)
    if not use_broadcast and a.shape != b.shape:
        raise AssertionError("shapes differ: %s %s vs %s %s" % (names[0], a.shape, names[1], b.shape))
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        np.testing.assert_equal(a, b)
        return
    if np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan):
        return
    a64, b64 = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    excess = np.abs(a64 - b64) - (atol + rtol * np.abs(b64))
    excess = np.where(np.isnan(excess), np.inf, excess)
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.size else ()
    violations = int(np.sum(excess > 0))
    raise AssertionError(
        "Items are not equal: %d of %d elements exceed rtol=%g, atol=%g (%.2f%%).\nWorst at %s: %s=%r, %s=%r\n"
        "%s: %s\n%s: %s" % (violations, excess.size, rtol, atol, 100.0 * violations / max(excess.size, 1),
                            tuple(int(i) for i in worst), names[0], a64[worst], names[1], b64[worst],
                            names[0], np.array2string(a, threshold=20), names[1], np.array2string(b, threshold=20)))


def same(a, b):
    """Whether two arrays are exactly equal (shape and values)."""
    return np.array_equal(_numpy(a), _numpy(b))


def random_arrays(*shapes):
    """NumPy arrays of standard normal values (float32), one per shape; a single array for one shape."""
    arrays = [np.array(np.random.randn(), dtype=np.float32) if len(shape) == 0
              else np.random.randn(*shape).astype(np.float32) for shape in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None, shuffle_csr_indices=False,
                 distribution=None, ctx=None):
    """An NDArray of standard normal values (only dense storage exists)."""
    if stype != "default":
        raise NotImplementedError("storage type %r is not supported: only 'default'" % stype)
    result = array(random_arrays(shape), dtype=dtype, ctx=ctx if ctx else default_context())
    return result if modifier_func is None else array(modifier_func(result.asnumpy()), dtype=dtype, ctx=result.ctx)


def rand_shape_2d(dim0=10, dim1=10):
    """A random 2-d shape with dimensions in [1, dim0] x [1, dim1]."""
    return np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10):
    """A random 3-d shape."""
    return np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1), np.random.randint(1, dim2 + 1)


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    """A random shape of num_dim dimensions, each in [1, dim] (or [0, dim] with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return tuple(np.random.randint(low, dim + 1, size=num_dim))


def assert_exception(f, exception_type, *args, **kwargs):
    """Asserts that f(*args, **kwargs) raises exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError("%s did not raise %s" % (getattr(f, "__name__", f), exception_type.__name__))


# Imported last: test_utils_symbolic uses assert_almost_equal from here.
from .test_utils_symbolic import (  # noqa: E402 pylint: disable=wrong-import-position
    check_numeric_gradient, check_symbolic_backward, check_symbolic_forward, numeric_grad)
