"""The Case type and helpers shared by every family's oracle table in this folder."""

import math

import numpy as np

class Case:
    """How to test one operator."""

    def __init__(self, oracle, shapes=((3, 4),), params=None, domain=(-2.0, 2.0), dtypes=("float32", "float64"),
                 grad=True, rtol=1e-5, atol=1e-6, avoid_zero=False, make_inputs=None, check=None):
        self.oracle = oracle            # f(*numpy_inputs, **params) -> output or list of outputs
        self.shapes = shapes            # one shape per input
        self.params = params or {}      # MXNet-style parameters
        self.domain = domain            # inputs drawn uniformly from this interval
        self.dtypes = dtypes            # dtypes the forward pass is checked in
        self.grad = grad                # whether to check the gradient by finite differences
        self.rtol, self.atol = rtol, atol
        self.avoid_zero = avoid_zero    # push values away from 0 (|x| >= 0.25) for 1/x-like ops
        self.make_inputs = make_inputs  # optional f(rng, dtype) -> list of inputs, overriding the above
        # Optional f(name, inputs, dtype, params) that runs and checks the op itself, replacing the oracle
        # comparison (random ops, ops that update inputs in place); oracle is then unused.
        self.check = check

    def inputs(self, rng, dtype):
        if self.make_inputs is not None:
            return [np.asarray(x, dtype=dtype) for x in self.make_inputs(rng, dtype)]
        arrays = []
        for shape in self.shapes:
            low, high = self.domain
            x = rng.uniform(low, high, size=shape)
            if self.avoid_zero:
                x = np.where(np.abs(x) < 0.25, np.copysign(0.25, x) + x, x)
            if np.dtype(dtype).kind in "iu":
                x = np.round(x * 3)
            arrays.append(x.astype(dtype))
        return arrays


NUMERIC = ("float32", "float64", "int32")
ALL = ("float32", "float64", "int32", "uint8")
FLOATS = ("float32", "float64")


def vectorize(function):
    """A float64 NumPy ufunc-like wrapper of a scalar math function."""
    return np.vectorize(function, otypes=[np.float64])


def keep_dtype(function):
    """The oracle `function`, with its result cast to the first input's dtype (as the op returns)."""
    return lambda *xs, **params: np.asarray(function(*xs, **params)).astype(xs[0].dtype)


def python_mod(a, b):
    """a mod b with the divisor's sign (Python's and MXNet's convention); 0 where b == 0."""
    return np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b)))
