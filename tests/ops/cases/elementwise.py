"""Oracles for the elementwise families: unary.cc, scalar.cc, binary.cc, broadcast.cc, and reduce.cc's
_sum_to_like."""

import math

import numpy as np

from cases.common import ALL, NUMERIC, Case, keep_dtype, python_mod, vectorize

CASES = {}



def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


def _erfinv(y):
    low, high = np.full_like(y, -6.0, dtype=np.float64), np.full_like(y, 6.0, dtype=np.float64)
    erf = vectorize(math.erf)
    for _ in range(80):
        mid = (low + high) / 2
        too_big = erf(mid) > y
        high = np.where(too_big, mid, high)
        low = np.where(too_big, low, mid)
    return (low + high) / 2


def _digamma(x):
    x, h = np.asarray(x, dtype=np.float64), 1e-5
    lgamma = vectorize(math.lgamma)
    return (lgamma(x + h) - lgamma(x - h)) / (2 * h)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _same(dtype_of):
    return lambda result: result.astype(dtype_of.dtype)


# ---- unary ----------------------------------------------------------------------------------------
_case("exp", np.exp)
_case("expm1", np.expm1)
_case("log", np.log, domain=(0.1, 3.0))
_case("log10", np.log10, domain=(0.1, 3.0))
_case("log2", np.log2, domain=(0.1, 3.0))
_case("log1p", np.log1p, domain=(-0.5, 3.0))
_case("sqrt", np.sqrt, domain=(0.1, 3.0))
_case("rsqrt", lambda x: 1 / np.sqrt(x), domain=(0.1, 3.0))
_case("cbrt", np.cbrt, domain=(0.1, 3.0))
_case("rcbrt", lambda x: 1 / np.cbrt(x), domain=(0.1, 3.0))
_case("reciprocal", lambda x: 1 / x, avoid_zero=True)
_case("sin", np.sin)
_case("cos", np.cos)
_case("tan", np.tan, domain=(-1.2, 1.2))
_case("arcsin", np.arcsin, domain=(-0.9, 0.9))
_case("arccos", np.arccos, domain=(-0.9, 0.9))
_case("arctan", np.arctan)
_case("sinh", np.sinh)
_case("cosh", np.cosh)
_case("tanh", np.tanh)
_case("arcsinh", np.arcsinh)
_case("arccosh", np.arccosh, domain=(1.1, 3.0))
_case("arctanh", np.arctanh, domain=(-0.9, 0.9))
_case("sigmoid", lambda x: 1 / (1 + np.exp(-x)))
_case("softsign", lambda x: x / (1 + np.abs(x)))
_case("erf", keep_dtype(vectorize(math.erf)))
_case("erfinv", keep_dtype(_erfinv), domain=(-0.9, 0.9), rtol=1e-4)
_case("gamma", keep_dtype(vectorize(math.gamma)), domain=(0.5, 3.0))
_case("gammaln", keep_dtype(vectorize(math.lgamma)), domain=(0.5, 3.0))
_case("_digamma", keep_dtype(_digamma), domain=(0.5, 3.0), grad=False, rtol=1e-4, atol=1e-5)
_case("degrees", np.degrees)
_case("radians", np.radians)
_case("abs", np.abs, dtypes=NUMERIC, avoid_zero=True)
_case("negative", np.negative, dtypes=NUMERIC)
_case("square", np.square, dtypes=NUMERIC)
_case("sign", np.sign, dtypes=NUMERIC, avoid_zero=True)
_case("relu", lambda x: np.maximum(x, 0).astype(x.dtype), dtypes=NUMERIC, avoid_zero=True)
_case("floor", keep_dtype(np.floor), dtypes=NUMERIC)
_case("ceil", keep_dtype(np.ceil), dtypes=NUMERIC)
_case("round", keep_dtype(_round_half_away), dtypes=NUMERIC)
_case("rint", keep_dtype(np.rint), dtypes=NUMERIC)
_case("fix", keep_dtype(np.fix), dtypes=NUMERIC)
_case("trunc", keep_dtype(np.trunc), dtypes=NUMERIC)
_case("logical_not", lambda x: (x == 0).astype(x.dtype), dtypes=ALL, grad=False)
_case("hard_sigmoid", lambda x, alpha=0.2, beta=0.5: np.clip(alpha * x + beta, 0, 1),
      params={"alpha": 0.3, "beta": 0.4}, domain=(-4.0, 4.0))
_case("clip", keep_dtype(lambda x, a_min, a_max: np.clip(x, a_min, a_max)), params={"a_min": -0.5, "a_max": 1.0},
      dtypes=NUMERIC)
_case("_copy", lambda x: x.copy(), dtypes=ALL)
# BlockGrad is the identity whose gradient is zero by definition; test_ops.py checks that directly.
_case("BlockGrad", lambda x: x.copy(), dtypes=ALL, grad=False)
_case("zeros_like", np.zeros_like, dtypes=ALL)
_case("ones_like", np.ones_like, dtypes=ALL)

# ---- scalar ---------------------------------------------------------------------------------------
def _scalar(name, oracle, scalar=1.5, **kwargs):
    kwargs.setdefault("dtypes", NUMERIC)
    _case(name, lambda x, scalar, is_int=True: oracle(x, np.asarray(scalar).astype(x.dtype)).astype(x.dtype),
          params={"scalar": scalar}, **kwargs)


_scalar("_plus_scalar", np.add)
_scalar("_minus_scalar", np.subtract)
_scalar("_rminus_scalar", lambda x, s: s - x)
_scalar("_mul_scalar", np.multiply)
_scalar("_div_scalar", np.divide, scalar=2.0, dtypes=("float32", "float64"))
_scalar("_rdiv_scalar", lambda x, s: s / x, avoid_zero=True, dtypes=("float32", "float64"))
_scalar("_mod_scalar", python_mod, dtypes=("float32", "float64"))
_scalar("_rmod_scalar", lambda x, s: python_mod(s, x), scalar=2.5, avoid_zero=True, dtypes=("float32", "float64"))
_scalar("_power_scalar", np.power, scalar=2.5, domain=(0.1, 2.0), dtypes=("float32", "float64"))
_scalar("_rpower_scalar", lambda x, s: np.power(s, x), scalar=2.0, dtypes=("float32", "float64"))
_scalar("_maximum_scalar", np.maximum, scalar=0.3)
_scalar("_minimum_scalar", np.minimum, scalar=0.3)
_scalar("_hypot_scalar", np.hypot, dtypes=("float32", "float64"))
for _name, _fn in [("_equal_scalar", np.equal), ("_not_equal_scalar", np.not_equal), ("_greater_scalar", np.greater),
                   ("_greater_equal_scalar", np.greater_equal), ("_lesser_scalar", np.less),
                   ("_lesser_equal_scalar", np.less_equal),
                   ("_logical_and_scalar", lambda x, s: np.logical_and(x != 0, s != 0)),
                   ("_logical_or_scalar", lambda x, s: np.logical_or(x != 0, s != 0)),
                   ("_logical_xor_scalar", lambda x, s: np.logical_xor(x != 0, s != 0))]:
    _scalar(_name, _fn, scalar=1.0, grad=False)
_case("smooth_l1", lambda x, scalar: np.where(np.abs(x) < 1 / scalar ** 2, 0.5 * (scalar * x) ** 2,
                                              np.abs(x) - 0.5 / scalar ** 2),
      params={"scalar": 1.5})

# ---- binary (same shape) and broadcast ----------------------------------------------------------------
_BINARY = {
    "add": (np.add, NUMERIC, {}), "sub": (np.subtract, NUMERIC, {}), "mul": (np.multiply, NUMERIC, {}),
    "div": (np.divide, ("float32", "float64"), {"avoid_zero": True}),
    "mod": (python_mod, ("float32", "float64"), {"avoid_zero": True}),
    "power": (np.power, ("float32", "float64"), {"domain": (0.5, 2.0)}),
    "maximum": (np.maximum, NUMERIC, {}), "minimum": (np.minimum, NUMERIC, {}),
    "hypot": (np.hypot, ("float32", "float64"), {}),
}
_ELEMWISE_NAMES = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul", "div": "elemwise_div",
                   "mod": "_mod", "power": "_power", "maximum": "_maximum", "minimum": "_minimum",
                   "hypot": "_hypot"}
for _suffix, (_fn, _dtypes, _extra) in _BINARY.items():
    _case(_ELEMWISE_NAMES[_suffix], lambda a, b, f=_fn: f(a, b).astype(a.dtype), shapes=((3, 4), (3, 4)),
          dtypes=_dtypes, **_extra)
    _case("broadcast_" + _suffix, lambda a, b, f=_fn: f(a, b).astype(a.dtype), shapes=((3, 1, 4), (1, 5, 4)),
          dtypes=_dtypes, **_extra)

_COMPARISONS = {"equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
                "greater_equal": np.greater_equal, "lesser": np.less, "lesser_equal": np.less_equal,
                "logical_and": lambda a, b: np.logical_and(a != 0, b != 0),
                "logical_or": lambda a, b: np.logical_or(a != 0, b != 0),
                "logical_xor": lambda a, b: np.logical_xor(a != 0, b != 0)}
for _suffix, _fn in _COMPARISONS.items():
    _case("_" + _suffix, lambda a, b, f=_fn: f(a, b).astype(a.dtype), shapes=((3, 4), (3, 4)), dtypes=ALL,
          grad=False)
    _case("broadcast_" + _suffix, lambda a, b, f=_fn: f(a, b).astype(a.dtype), shapes=((3, 1), (1, 4)),
          dtypes=ALL, grad=False)

_case("add_n", lambda *xs, num_args: sum(xs).astype(xs[0].dtype), shapes=((3, 4),) * 3, params={"num_args": 3},
      dtypes=NUMERIC)
_case("broadcast_to", lambda x, shape: np.broadcast_to(x, (2, 3, 4)).copy(), shapes=((3, 1),),
      params={"shape": (2, 0, 4)}, dtypes=ALL)
_case("broadcast_like", lambda a, b: np.broadcast_to(a, b.shape).copy(), shapes=((1, 4), (3, 4)), dtypes=ALL)
_case("broadcast_axis", lambda x, axis, size: np.broadcast_to(x, (3, 5, 4)).copy(), shapes=((3, 1, 4),),
      params={"axis": (1,), "size": (5,)}, dtypes=ALL)
_case("_sum_to_like", lambda a, b: a.sum(axis=0, keepdims=True).astype(a.dtype), shapes=((3, 4), (1, 4)),
      dtypes=NUMERIC)
