"""Oracles for sort.cc: topk, sort, argsort (stable order, as Polymix sorts) and the gather/scatter helpers."""

import numpy as np

from cases.common import FLOATS, NUMERIC, Case
from cases.sweep import sweep

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


def _order(x, axis, is_ascend):
    """Stable sort positions along `axis` (None: flattened); descending keeps ties in original order."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    key = x.astype(np.float64)
    if not is_ascend:  # NaN sorts as the largest value: first when descending.
        key = np.where(np.isnan(key), -np.inf, -key)
    return np.argsort(key, axis=axis, kind="stable"), x, axis


def _topk(x, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    order, flat, ax = _order(x, axis, is_ascend)
    k = flat.shape[ax] if k < 1 else k
    top = np.take(order, np.arange(k), axis=ax)
    values = np.take_along_axis(flat, top, axis=ax)
    if ret_typ == "value":
        return values
    if ret_typ == "indices":
        return top.astype(dtype)
    if ret_typ == "both":
        return [values, top.astype(dtype)]
    mask = np.zeros(flat.shape, dtype=x.dtype)
    np.put_along_axis(mask, top, 1, axis=ax)
    return mask.reshape(x.shape)


def _sort(x, axis=-1, is_ascend=True):
    order, flat, ax = _order(x, axis, is_ascend)
    return np.take_along_axis(flat, order, axis=ax)


def _argsort(x, axis=-1, is_ascend=True, dtype="float32"):
    return _order(x, axis, is_ascend)[0].astype(dtype)


def _ties_and_nans(shape):
    """Inputs with many ties (and NaNs and signed zeros for floats) to check the sort order."""

    def make(rng, dtype):
        x = np.round(rng.uniform(-3, 3, shape))
        if np.dtype(dtype).kind == "f":
            x[rng.random(shape) < 0.05] = np.nan
            x[x == 0] = np.where(rng.random(np.count_nonzero(x == 0)) < 0.5, -0.0, 0.0)
        return [x]

    return make


_case("topk", _topk, shapes=((3, 6),), params={"k": 2, "ret_typ": "both"}, dtypes=NUMERIC,
      check=sweep(_topk, [{"ret_typ": "value", "axis": 0, "is_ascend": True}, {"ret_typ": "indices", "k": 3},
                          {"ret_typ": "mask", "k": 2, "axis": 0}, {"ret_typ": "value", "axis": None, "k": 4},
                          {"ret_typ": "mask", "axis": None, "k": 5}, {"k": 0, "dtype": "int64"},
                          ({"ret_typ": "both", "k": 10}, lambda r, d: [r.uniform(-1, 1, (20, 5000))]),
                          ({"ret_typ": "value", "k": 3, "axis": 1}, lambda r, d: [r.uniform(-1, 1, (4, 6, 5))]),
                          ({"ret_typ": "both", "k": 20, "dtype": "int32"}, _ties_and_nans((5, 400))),
                          ({"ret_typ": "both", "k": 300, "is_ascend": True, "dtype": "int32"},
                           _ties_and_nans((5, 400)))]))
_case("sort", _sort, shapes=((3, 5),), params={"axis": 0, "is_ascend": False}, dtypes=NUMERIC,
      check=sweep(_sort, [{"axis": -1}, {"axis": None}, ({"axis": 1}, lambda r, d: [r.uniform(-1, 1, (3, 8, 4))]),
                          ({"axis": -1}, lambda r, d: [r.uniform(-1, 1, (64, 2000))]),
                          ({"axis": -1}, _ties_and_nans((4, 900))), ({"axis": None}, _ties_and_nans((3, 7)))]))
_case("argsort", _argsort, shapes=((3, 5),), params={"axis": -1, "dtype": "int32"}, dtypes=NUMERIC,
      check=sweep(_argsort, [{"axis": 0, "is_ascend": False}, {"axis": None, "dtype": "float64"},
                             {"axis": 1, "dtype": "int64"},
                             ({"axis": -1, "dtype": "int32"}, _ties_and_nans((6, 700))),
                             ({"axis": -1, "is_ascend": False, "dtype": "int32"}, _ties_and_nans((6, 700))),
                             ({"axis": 0, "is_ascend": False, "dtype": "int32"}, _ties_and_nans((50, 3)))]))


def _index_inputs(data_shape, index_shape, length):
    return lambda rng, dtype: [rng.uniform(-2, 2, data_shape), rng.integers(0, length, index_shape)]


def _take(data, indices, axis=-1):
    indices = indices.astype(np.int64)
    if axis is None:
        return data.reshape(-1)[indices]
    return np.take_along_axis(data, indices, axis=axis)


def _scatter(data, indices, like, axis=-1):
    out = np.zeros(like.shape, dtype=np.float64)
    indices = indices.astype(np.int64)
    if axis is None:
        np.add.at(out.reshape(-1), indices.reshape(-1), data.reshape(-1))
        return out.astype(data.dtype)
    moved = np.moveaxis(out, axis, -1)
    source, where = np.moveaxis(data, axis, -1), np.moveaxis(indices, axis, -1)
    for position in np.ndindex(where.shape[:-1]):
        np.add.at(moved[position], where[position], source[position])
    return out.astype(data.dtype)


_case("_take_along_axis", _take, params={"axis": 1}, make_inputs=_index_inputs((3, 5), (3, 4), 5), dtypes=NUMERIC,
      check=sweep(_take, [({"axis": 0}, _index_inputs((4, 3), (6, 3), 4)),
                          ({"axis": None}, _index_inputs((3, 4), (7,), 12))]))


def _scatter_inputs(data_shape, like_shape, length):
    return lambda rng, dtype: [rng.uniform(-2, 2, data_shape), rng.integers(0, length, data_shape),
                               np.zeros(like_shape)]


_case("_scatter_add_along_axis", _scatter, params={"axis": 1}, make_inputs=_scatter_inputs((3, 4), (3, 5), 5),
      dtypes=NUMERIC, check=sweep(_scatter, [({"axis": 0}, _scatter_inputs((6, 3), (4, 3), 4)),
                                             ({"axis": None}, _scatter_inputs((7,), (3, 4), 12))]))
