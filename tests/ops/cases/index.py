"""Oracles for the indexing families: index.cc (take, batch_take, pick, one_hot, where and their gradient helpers)
and index_nd.cc (gather_nd, scatter_nd, _scatter_set_nd, _gather_nd_grad, the ravel ops). Index inputs are cast to
the dtype under test, so float indices (MXNet's legacy convention) are exercised alongside integer ones."""

import numpy as np

from cases.common import Case
from cases.shape import adjoint

CASES = {}
INDEXED = ("float32", "float64", "int32")


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    kwargs.setdefault("dtypes", INDEXED)
    CASES[name] = Case(oracle, **kwargs)


def _values(rng, dtype, shape):
    x = rng.uniform(-2, 2, size=shape)
    return np.round(x * 3) if np.dtype(dtype).kind in "iu" else x


def _inputs(*parts):
    """make_inputs from data shapes (tuples) and fixed index arrays (lists), in order."""
    return lambda rng, dtype: [_values(rng, dtype, p) if isinstance(p, tuple) else np.array(p) for p in parts]


# ---- take / batch_take / pick ----------------------------------------------------------------------------
_TAKE_INDEX = [[-1, 0, 5], [2, 4, 1]]  # Wraps around an axis of 4.
_TAKE = {"axis": 1, "mode": "wrap"}


def _take(a, indices, axis, mode):
    return np.take(a, indices.astype(np.int64), axis=axis, mode=mode)


_case("take", _take, make_inputs=_inputs((3, 4), _TAKE_INDEX), params=_TAKE)
_case("_take_grad", lambda g, i, a, **p: adjoint(lambda v: _take(v, i, **p), a.shape, g),
      make_inputs=_inputs((3, 2, 3), _TAKE_INDEX, (3, 4)), params=_TAKE)
_case("batch_take", lambda a, i: a[np.arange(a.shape[0]), np.clip(i.astype(np.int64), 0, a.shape[1] - 1)],
      make_inputs=_inputs((4, 3), [2, -1, 7, 0]))

_PICK_INDEX = [[0, 5], [-1, 2], [3, 1]]  # (3, 2): data (3, 4, 2) without axis 1; wraps around 4.
_PICK = {"axis": 1, "keepdims": True, "mode": "wrap"}


def _pick(data, index, axis, keepdims, mode):
    index = np.mod(index.astype(np.int64), data.shape[axis])
    out = np.take_along_axis(data, np.expand_dims(index, axis), axis=axis)
    return out if keepdims else np.squeeze(out, axis)


_case("pick", _pick, make_inputs=_inputs((3, 4, 2), _PICK_INDEX), params=_PICK)
_case("_pick_grad", lambda g, i, d, **p: adjoint(lambda v: _pick(v, i, **p), d.shape, g),
      make_inputs=_inputs((3, 1, 2), _PICK_INDEX, (3, 4, 2)), params=_PICK)

# ---- one_hot / where --------------------------------------------------------------------------------------


def _one_hot(indices, depth, on_value, off_value, dtype):
    indices = indices.astype(np.int64)
    hot = indices[..., None] == np.arange(depth)
    return np.where(hot, on_value, off_value).astype(dtype)


_case("one_hot", _one_hot, make_inputs=_inputs([[0, 3, -1], [5, 2, 2]]),
      params={"depth": 4, "on_value": 2.5, "off_value": -1.0, "dtype": "float32"}, grad=False)
_case("where", lambda c, x, y: np.where(c != 0, x, y),
      make_inputs=lambda rng, dtype: [rng.integers(0, 2, size=(3, 4)), _values(rng, dtype, (3, 4)),
                                      _values(rng, dtype, (3, 4))])

# ---- gather_nd / scatter_nd ----------------------------------------------------------------------------------
_GATHER_INDEX = [[0, 2, -1, 1, 0], [3, -4, 1, 1, 3]]  # (2, 5) into data (3, 4, 2); repeats (0, 3) twice.
_SCATTER_INDEX = [[0, 2, 1, 1, 2], [3, 0, 1, 2, 2]]  # Distinct positions of (3, 4).


def _gather_nd(data, indices):
    return data[tuple(indices.astype(np.int64))]


def _scatter_nd(data, indices, shape):
    out = np.zeros(shape, dtype=data.dtype)
    out[tuple(indices.astype(np.int64))] = data
    return out


def _scatter_set_nd(lhs, rhs, indices, shape):
    out = lhs.copy()
    out[tuple(indices.astype(np.int64))] = rhs
    return out


_case("gather_nd", _gather_nd, make_inputs=_inputs((3, 4, 2), _GATHER_INDEX))
_case("_gather_nd_grad", lambda g, i, d: adjoint(lambda v: _gather_nd(v, i), d.shape, g),
      make_inputs=_inputs((5, 2), _GATHER_INDEX, (3, 4, 2)))
_case("scatter_nd", _scatter_nd, make_inputs=_inputs((5, 2), _SCATTER_INDEX), params={"shape": (3, 4, 2)})
_case("_scatter_set_nd", _scatter_set_nd, make_inputs=_inputs((3, 4, 2), (5, 2), _SCATTER_INDEX),
      params={"shape": (3, 4, 2)})

# ---- ravel ------------------------------------------------------------------------------------------------------
_case("_ravel_multi_index",
      lambda c, shape: np.ravel_multi_index(tuple(c.astype(np.int64)), shape).astype(c.dtype),
      make_inputs=_inputs([[0, 2, 1, 2, 0], [3, 0, 1, 2, 1]]), params={"shape": (3, 4)}, grad=False)
_case("_unravel_index",
      lambda i, shape: np.stack(np.unravel_index(i.astype(np.int64), shape)).astype(i.dtype),
      make_inputs=_inputs([[0, 11, 5], [7, 3, 4]]), params={"shape": (3, 4)}, grad=False)
