"""Parameter sweeps for the reduce, sort, init and cast families: a Case.check that compares an op with its
NumPy oracle for the case's own parameters and for further variants (other axes, keepdims, exclude,
larger inputs that take the threaded paths)."""

import numpy as np

import pmx_ctypes as pmx

CASES = {}  # This module only provides helpers.


def as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def compare(label, actual, expected, dtype, rtol, atol):
    """Asserts that the op's outputs match the oracle's in count, shape, dtype and value."""
    assert len(actual) == len(expected), f"{label}: {len(actual)} outputs, expected {len(expected)}"
    if dtype == "float32":
        rtol, atol = max(rtol, 1e-3), max(atol, 1e-4)
    for index, (got, want) in enumerate(zip(actual, expected)):
        want = np.asarray(want)
        assert got.shape == want.shape, f"{label} output {index}: shape {got.shape}, expected {want.shape}"
        assert got.dtype == want.dtype, f"{label} output {index}: dtype {got.dtype}, expected {want.dtype}"
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                   err_msg=f"{label} output {index}")


def sweep(oracle, variants=(), rtol=1e-5, atol=1e-6):
    """A Case.check running the case's parameters, then each variant: a dict of parameter overrides, or a
    pair (overrides, make_inputs(rng, dtype) -> list of inputs)."""

    def check(name, inputs, dtype, params):
        runs = [({}, None)] + [v if isinstance(v, tuple) else (v, None) for v in variants]
        rng = np.random.default_rng(7)
        for overrides, make in runs:
            call = dict(params, **overrides)
            args = inputs if make is None else [np.asarray(x, dtype=dtype) for x in make(rng, dtype)]
            label = f"{name} {dtype} {call} shapes {[a.shape for a in args]}"
            compare(label, pmx.invoke(name, args, **call), as_list(oracle(*args, **call)), dtype, rtol, atol)

    return check
