"""Oracles for reduce.cc and reduce_stats.cc: reductions over axes with MXNet's axis/keepdims/exclude
rules, norm, moments, sums of squares and the arg-reductions. (_sum_to_like is in elementwise.py.)"""

import numpy as np

from cases.common import FLOATS, NUMERIC, Case
from cases.sweep import sweep

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


def mx_axes(ndim, axis, exclude=False):
    """MXNet's axis parameter as a NumPy axis tuple: None or () reduces everything."""
    if axis is None or axis == ():
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % ndim for a in axes)
    return tuple(d for d in range(ndim) if d not in axes) if exclude else axes


def mx_shape(result, keepdims):
    """MXNet's legacy ops return shape (1,) instead of a 0-d array."""
    result = np.asarray(result)
    return result.reshape(1) if result.ndim == 0 and not keepdims else result


def reduction(function, integer=None):
    """An oracle for an (axis, keepdims, exclude) reduction; `integer` overrides it for integer inputs."""

    def oracle(x, axis=None, keepdims=False, exclude=False):
        axes = mx_axes(x.ndim, axis, exclude)
        if integer is not None and x.dtype.kind in "iu":
            result = integer(x, axes, keepdims)
        else:
            result = function(x.astype(np.float64), axis=axes, keepdims=keepdims)
        return mx_shape(result, keepdims).astype(x.dtype)

    return oracle


def _int_mean(x, axes, keepdims):
    count = int(np.prod([x.shape[a] for a in axes]))
    return np.trunc(x.astype(np.int64).sum(axis=axes, keepdims=keepdims) / count)


def _with_nans(rng, dtype, low=-2.0, high=2.0):
    x = rng.uniform(low, high, size=(3, 4, 5))
    x[0, 1, 2] = x[2, 3, 0] = x[1, 0, 4] = np.nan
    return [x]


def _big(shape, low=-1.0, high=1.0):
    return lambda rng, dtype: [rng.uniform(low, high, size=shape)]


def _some_nans(shape):
    """Floats with a few NaNs (none for integer dtypes), to check that NaN propagates / wins."""

    def make(rng, dtype):
        x = rng.uniform(-1, 1, size=shape)
        if np.dtype(dtype).kind == "f":
            x[rng.random(shape) < 0.02] = np.nan
        return [x]

    return make


# Variants of (axis, keepdims, exclude) over a (3, 4, 5) input, plus large inputs that split work across
# threads (full, inner-contiguous and outer reductions).
_AXIS_VARIANTS = [{"axis": None}, {"axis": ()}, {"axis": 0}, {"axis": -1, "keepdims": True},
                  {"axis": (0, 2)}, {"axis": (1,), "exclude": True},
                  {"axis": (0, 1), "keepdims": True, "exclude": True},
                  ({"axis": None}, _big((300, 700))), ({"axis": 1}, _big((5, 40000))),
                  ({"axis": 0}, _big((40000, 5))), ({"axis": (0, 2)}, _big((64, 3, 600)))]

_case("sum", reduction(np.sum), shapes=((3, 4, 5),), params={"axis": (0, 2)}, dtypes=NUMERIC,
      check=sweep(reduction(np.sum), _AXIS_VARIANTS))
_case("mean", reduction(np.mean, _int_mean), shapes=((3, 4, 5),), params={"axis": 1, "keepdims": True},
      dtypes=NUMERIC, check=sweep(reduction(np.mean, _int_mean), _AXIS_VARIANTS))
def _int_prod(x, axes, keepdims):
    return np.prod(x.astype(np.int64), axis=axes, keepdims=keepdims)  # Wraps modulo 2^64, as the op does.


_case("prod", reduction(np.prod, _int_prod), shapes=((3, 4, 5),), params={"axis": -1}, domain=(0.5, 1.5),
      dtypes=NUMERIC, check=sweep(reduction(np.prod, _int_prod),
                                  [{"axis": None}, {"axis": (0, 1)}, {"axis": 1, "exclude": True}]))
_case("nansum", reduction(np.nansum), params={"axis": (0, 2)}, make_inputs=_with_nans, dtypes=FLOATS,
      check=sweep(reduction(np.nansum), [{"axis": None}, {"axis": 2, "keepdims": True}]))
_case("nanprod", reduction(np.nanprod), params={"axis": 1}, make_inputs=lambda r, d: _with_nans(r, d, 0.5, 1.5),
      dtypes=FLOATS, check=sweep(reduction(np.nanprod), [{"axis": None}, {"axis": (0, 2), "keepdims": True}]))
_NAN_VARIANTS = [({"axis": -1}, _some_nans((40, 300))), ({"axis": 0}, _some_nans((300, 40))),
                 ({"axis": None}, _some_nans((50, 1000)))]
_case("max", reduction(np.max), shapes=((3, 4, 5),), params={"axis": (1,), "exclude": True}, dtypes=NUMERIC,
      check=sweep(reduction(np.max), _AXIS_VARIANTS + _NAN_VARIANTS))
_case("min", reduction(np.min), shapes=((3, 4, 5),), params={"axis": None, "keepdims": True}, dtypes=NUMERIC,
      check=sweep(reduction(np.min), _AXIS_VARIANTS + _NAN_VARIANTS))


def _broadcast_reduced(data, like, axis=None, keepdims=False, exclude=False, normalize=False):
    axes = mx_axes(like.ndim, axis, exclude)
    kept = [1 if d in axes else like.shape[d] for d in range(like.ndim)]
    result = np.broadcast_to(data.reshape(kept), like.shape).astype(np.float64)
    if normalize:
        result = result / int(np.prod([like.shape[a] for a in axes]))
    return result.astype(data.dtype)


_case("_broadcast_reduced", _broadcast_reduced, shapes=((3, 5), (3, 4, 5)), params={"axis": 1, "normalize": True},
      dtypes=FLOATS, check=sweep(_broadcast_reduced, [
          ({"axis": (0, 2), "keepdims": True, "normalize": False},
           lambda r, d: [r.uniform(-1, 1, (1, 4, 1)), r.uniform(-1, 1, (3, 4, 5))]),
          ({"axis": None, "normalize": False}, lambda r, d: [r.uniform(-1, 1, (1,)), r.uniform(-1, 1, (3, 4, 5))])]))


# ---- reduce_stats.cc -------------------------------------------------------------------------------
def _norm(x, ord=2, axis=None, keepdims=False, out_dtype=None):
    axes = mx_axes(x.ndim, axis)
    x64 = x.astype(np.float64)
    result = np.abs(x64).sum(axis=axes, keepdims=keepdims) if ord == 1 else \
        np.sqrt((x64 ** 2).sum(axis=axes, keepdims=keepdims))
    return mx_shape(result, keepdims).astype(out_dtype or x.dtype)


_case("norm", _norm, shapes=((3, 4, 5),), params={"axis": (1,), "keepdims": True},
      check=sweep(_norm, [{"ord": 1}, {"ord": 1, "axis": (0, 2)}, {"axis": None}, {"out_dtype": "float64"},
                          ({"axis": -1}, _big((16, 50000)))]))


def _moments(x, axes=None, keepdims=False):
    reduce_axes = mx_axes(x.ndim, axes)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=reduce_axes, keepdims=keepdims)
    var = x64.var(axis=reduce_axes, keepdims=keepdims)
    return [mx_shape(mean, keepdims).astype(x.dtype), mx_shape(var, keepdims).astype(x.dtype)]


_case("moments", _moments, shapes=((3, 4, 5),), params={"axes": (0, 2)},
      check=sweep(_moments, [{"axes": None}, {"axes": (1,), "keepdims": True},
                             ({"axes": (0,)}, lambda r, d: [1000.0 + r.uniform(-1, 1, (2000, 7))])]))


def _square_sum(x, axis=None, keepdims=False, exclude=False):
    return reduction(lambda v, axis, keepdims: (v ** 2).sum(axis=axis, keepdims=keepdims))(x, axis, keepdims, exclude)


_case("_square_sum", _square_sum, shapes=((3, 4, 5),), params={"axis": 1}, dtypes=NUMERIC,
      check=sweep(_square_sum, [{"axis": None}, {"axis": (0, 2), "keepdims": True}]))


def _multi_sum_sq(*xs, num_arrays):
    return np.array([(x.astype(np.float64) ** 2).sum() for x in xs], dtype=np.float32)


_case("multi_sum_sq", _multi_sum_sq, shapes=((3, 4), (5,), (2, 3, 2)), params={"num_arrays": 3}, dtypes=FLOATS,
      grad=False)


def _arg(function):
    def oracle(x, axis=None, keepdims=False):
        if axis is None or x.ndim <= 1:
            result = function(x.reshape(-1))
            shape = (1,) * x.ndim if keepdims else (1,)
            return np.asarray(result).reshape(shape).astype(x.dtype)
        return function(x, axis=axis, keepdims=keepdims).astype(x.dtype)

    return oracle


_ARG_VARIANTS = [{"axis": None}, {"axis": 0, "keepdims": True}, {"axis": -1},
                 ({"axis": None}, _big((100000,))), ({"axis": 1}, _big((4, 30000))),
                 ({"axis": 0}, _big((3000, 40)))]
_case("argmax", _arg(np.argmax), shapes=((3, 4, 5),), params={"axis": 1}, dtypes=NUMERIC,
      check=sweep(_arg(np.argmax), _ARG_VARIANTS + _NAN_VARIANTS))
_case("argmin", _arg(np.argmin), shapes=((3, 4, 5),), params={"axis": None}, dtypes=NUMERIC,
      check=sweep(_arg(np.argmin), _ARG_VARIANTS + _NAN_VARIANTS))
_case("argmax_channel", lambda x: np.argmax(x, axis=1).astype(x.dtype), shapes=((3, 4),), dtypes=NUMERIC)
