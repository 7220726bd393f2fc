"""Stands in for tests/ops/pmx_ctypes.py so tests/ops's oracle table (cases/) runs through polymix's
generated Python functions: invoke(op, numpy inputs, **params) calls the function at op's MXNet place
(mx.nd.<op>, mx.nd.linalg.<name>, mx.nd._internal.<op>, ...) with NDArrays."""

import numpy as np

import polymix as mx

SUBMODULES = {"_contrib_": mx.nd.contrib, "_linalg_": mx.nd.linalg}


def function_for(op):
    """The generated mx.nd function of an op name, as MXNet places it."""
    for prefix, module in SUBMODULES.items():
        if op.startswith(prefix):
            return getattr(module, op[len(prefix):])
    if op.startswith("_random_") and op.endswith("_like"):
        return getattr(mx.nd.random, op[len("_random_"):])
    if op.startswith("_"):
        return getattr(mx.nd._internal, op)
    return getattr(mx.nd, op)


def _call(op, arrays, params):
    result = function_for(op)(*arrays, **params)
    return result if isinstance(result, list) else [result]


def invoke(op, inputs, **params):
    """The op's visible outputs as NumPy arrays."""
    arrays = [mx.nd.array(x, dtype=np.asarray(x).dtype) for x in inputs]
    return [out.asnumpy() for out in _call(op, arrays, params)]


def invoke_keep_inputs(op, inputs, **params):
    """(outputs, inputs read back after the call), for ops that update inputs in place."""
    arrays = [mx.nd.array(x, dtype=np.asarray(x).dtype) for x in inputs]
    outputs = [out.asnumpy() for out in _call(op, arrays, params)]
    return outputs, [a.asnumpy() for a in arrays]


def seed(value):
    """Seeds every generator (mx.random.seed)."""
    mx.random.seed(value)
