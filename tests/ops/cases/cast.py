"""Oracles for cast.cc: Cast, amp_cast, amp_multicast, _cast_like, the finiteness flags and the metadata ops."""

import numpy as np

import pmx_ctypes as pmx
from cases.common import ALL, FLOATS, NUMERIC, Case
from cases.sweep import sweep

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


_AMP = ("float32", "float16", "bfloat16")

_case("Cast", lambda x, dtype: x.astype(dtype), params={"dtype": "float64"}, dtypes=NUMERIC,
      check=sweep(lambda x, dtype: x.astype(dtype), [{"dtype": "float16"}, {"dtype": "int32"}, {"dtype": "uint8"},
                                                      {"dtype": "bool"}, {"dtype": "int64"}],
                  rtol=1e-3, atol=1e-3))
_case("_cast_like", lambda x, like: x.astype(like.dtype), shapes=((3, 4), (2,)), dtypes=ALL)


def _amp_cast(x, dtype):
    return x.astype(dtype) if x.dtype.name in _AMP else x


_case("amp_cast", _amp_cast, params={"dtype": "float16"}, dtypes=("float32", "float64", "int32"),
      check=sweep(_amp_cast, [{"dtype": "float64"}, {"dtype": "int32"}], rtol=1e-3, atol=1e-3))


def _amp_multicast_check(name, inputs, dtype, params):
    """amp_multicast picks one type across inputs of different dtypes, so it is checked on mixed inputs."""
    x32 = np.linspace(-2, 2, 6, dtype=np.float32)
    x16 = np.linspace(-1, 1, 4).astype(np.float16)
    x64 = np.linspace(0, 1, 3)
    xi = np.arange(5, dtype=np.int32)
    runs = [([x32, x16], {}, ["float32", "float32"]), ([x32, x16], {"cast_narrow": True}, ["float16", "float16"]),
            ([x16, x16], {}, ["float16", "float16"]), ([x64, x16, xi], {}, ["float64", "float16", "int32"]),
            ([x64, x32], {"cast_narrow": True}, ["float64", "float32"]), (inputs, params, [dtype] * len(inputs))]
    for arrays, extra, dtypes in runs:
        call = dict({"num_outputs": len(arrays)}, **extra)
        outputs = pmx.invoke(name, arrays, **call)
        assert [o.dtype.name for o in outputs] == dtypes, f"{name} {call}: {[o.dtype.name for o in outputs]}"
        for got, x in zip(outputs, arrays):
            np.testing.assert_allclose(got.astype(np.float64), x.astype(got.dtype).astype(np.float64), rtol=1e-3)


_case("amp_multicast", lambda *xs, num_outputs, cast_narrow=False: list(xs), shapes=((3, 4), (2,)),
      params={"num_outputs": 2}, check=_amp_multicast_check)


def _with_inf(rng, dtype):
    x = rng.uniform(-1, 1, (3, 4))
    x[1, 2] = np.inf
    return [x]


def _all_finite(*xs, init_output=True, num_arrays=1):
    return np.array([float(all(np.isfinite(x.astype(np.float64)).all() for x in xs))], dtype=np.float32)


_case("all_finite", _all_finite, make_inputs=_with_inf, dtypes=FLOATS, grad=False,
      check=sweep(_all_finite, [({}, lambda r, d: [r.uniform(-1, 1, (300, 400))]),
                                ({}, lambda r, d: [np.full((5,), np.nan)])]))
_case("multi_all_finite", _all_finite, shapes=((3, 4), (5,)), params={"num_arrays": 2}, dtypes=FLOATS, grad=False,
      check=sweep(_all_finite, [({"num_arrays": 2}, lambda r, d: [r.uniform(-1, 1, (4,)), np.array([1.0, -np.inf])])]))
_case("shape_array", lambda x: np.array(x.shape, dtype=np.int64), shapes=((3, 4, 2),), dtypes=ALL)
_case("size_array", lambda x: np.array([x.size], dtype=np.int64), shapes=((3, 4, 2),), dtypes=ALL)
