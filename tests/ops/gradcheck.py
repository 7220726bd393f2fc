"""Central finite-difference gradient checks of composed operator gradients, shared by the op tests."""

import numpy as np

import pmx_ctypes as pmx


def check_gradient(op, inputs, params, rtol=1e-4, atol=1e-5, seed=0, skip=(), step=1e-6):
    """Checks op's composed gradient against central finite differences of sum(outputs * random heads).

    Inputs are taken in float64; inputs whose index is in `skip`, or that get no gradient, are not checked.
    """
    rng = np.random.default_rng(seed)
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    outputs = pmx.invoke(op, inputs, **params)
    heads = [rng.uniform(-1, 1, size=out.shape) for out in outputs]
    analytic = pmx.gradient(op, inputs, heads, **params)

    def objective(values):
        return sum(float((out * head).sum()) for out, head in zip(pmx.invoke(op, values, **params), heads))

    for index, (x, grad) in enumerate(zip(inputs, analytic)):
        if grad is None or index in skip:
            continue
        numeric = np.zeros_like(x)
        for position in np.ndindex(x.shape):
            plus = [v.copy() for v in inputs]
            minus = [v.copy() for v in inputs]
            plus[index][position] += step
            minus[index][position] -= step
            numeric[position] = (objective(plus) - objective(minus)) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol, err_msg=f"{op} {params} input {index}")
