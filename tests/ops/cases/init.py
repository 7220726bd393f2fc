"""Oracles for init.cc: creation ops without array inputs (the input dtype loop is irrelevant for them)."""

import numpy as np

from cases.common import Case
from cases.sweep import sweep

CASES = {}


def _case(name, oracle, params, variants=()):
    assert name not in CASES, name
    CASES[name] = Case(oracle, shapes=(), params=params, dtypes=("float32",), grad=False,
                       check=sweep(oracle, list(variants)))


def _filled(value):
    return lambda shape=(), dtype="float32", ctx="", **rest: np.full(shape, rest.get("value", value), dtype=dtype)


_case("_zeros", _filled(0), {"shape": (2, 3), "dtype": "int32"},
      [{"shape": (0, 4)}, {"shape": (300, 500), "dtype": "float64"}, {"dtype": "uint8", "ctx": "cpu(0)"}])
_case("_ones", _filled(1), {"shape": (4,), "dtype": "float64"}, [{"shape": (2, 2, 2), "dtype": "bool"}])
_case("_full", _filled(None), {"shape": (2, 2), "value": 2.5},
      [{"value": -3, "dtype": "int64"}, {"value": 0.1, "dtype": "float16", "shape": (5,)}])

_FLAGS = {0: "float32", 1: "float64", 2: "float16", 3: "uint8", 4: "int32", 5: "int8", 6: "int64"}
_case("_zeros_without_dtype", lambda shape=(), dtype=-1, ctx="": np.zeros(shape, _FLAGS.get(dtype, "float32")),
      {"shape": (3,), "dtype": 1}, [{"dtype": -1, "shape": (2, 2)}, {"dtype": 4}])


def _arange(start, stop=None, step=1.0, repeat=1, infer_range=False, ctx="", dtype="float32"):
    if stop is None:
        start, stop = 0, start
    return np.repeat(np.arange(start, stop, step, dtype=np.float64), repeat).astype(dtype)


_case("_arange", _arange, {"start": 2, "stop": 11, "step": 1.5, "repeat": 2},
      [{"stop": None, "start": 5, "step": 1, "repeat": 1}, {"start": 10, "stop": 0, "step": -3, "repeat": 1},
       {"start": 0, "stop": 7, "step": 1, "repeat": 3, "dtype": "int32"}, {"start": 3, "stop": 3, "repeat": 1}])
_case("_eye", lambda N, M=0, k=0, ctx="", dtype="float32": np.eye(N, M or N, k, dtype=dtype),
      {"N": 3, "M": 4, "k": 1}, [{"M": 0, "k": 0}, {"k": -2, "dtype": "int32"}, {"N": 2, "M": 5, "k": 7}])
_case("_linspace", lambda start, stop, num, endpoint=True, ctx="", dtype="float32":
      np.linspace(start, stop, num, endpoint=endpoint).astype(dtype),
      {"start": 0, "stop": 1, "num": 5},
      [{"endpoint": False}, {"num": 1}, {"num": 0}, {"start": -2, "stop": 8, "num": 6, "dtype": "float64"}])
