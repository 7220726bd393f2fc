"""mx.test_utils' symbolic checks: check_numeric_gradient, check_symbolic_forward and check_symbolic_backward
accept correct gradients and outputs and reject wrong ones, with NumPy computing the expected values."""

import numpy as np
import pytest

import polymix as mx
from polymix.test_utils import check_numeric_gradient, check_symbolic_backward, check_symbolic_forward


def _dense_tanh():
    data = mx.sym.var("data")
    return mx.sym.tanh(mx.sym.FullyConnected(data, num_hidden=3, name="fc"))


def _dense_location(rng):
    return {"data": rng.randn(2, 4), "fc_weight": rng.randn(3, 4) * 0.5, "fc_bias": rng.randn(3) * 0.1}


def test_check_numeric_gradient_accepts_a_correct_backward():
    rng = np.random.RandomState(0)
    check_numeric_gradient(_dense_tanh(), _dense_location(rng), numeric_eps=1e-3, rtol=1e-2, atol=1e-3)
    # A list in list_arguments() order and a subset of gradient nodes work too.
    location = _dense_location(rng)
    check_numeric_gradient(_dense_tanh(), [location[k] for k in ("data", "fc_weight", "fc_bias")],
                           grad_nodes=["fc_weight"], rtol=1e-2, atol=1e-3)


def test_check_numeric_gradient_rejects_a_wrong_backward():
    # d(x * stop_gradient(x))/dx is 2x numerically but x through backward: the check must fail on x.
    x = mx.sym.var("x")
    wrong = x * mx.sym.BlockGrad(x)
    with pytest.raises(AssertionError, match="NUMERICAL_x"):
        check_numeric_gradient(wrong, {"x": np.array([1.0, 2.0, -1.5])}, rtol=1e-2, atol=1e-3)


def test_check_numeric_gradient_with_auxiliary_states():
    rng = np.random.RandomState(1)
    data = mx.sym.var("data")
    net = mx.sym.BatchNorm(data, fix_gamma=False, name="bn")
    location = {"data": rng.randn(4, 3), "bn_gamma": rng.rand(3) + 0.5, "bn_beta": rng.randn(3)}
    aux = {"bn_moving_mean": np.zeros(3), "bn_moving_var": np.ones(3)}
    check_numeric_gradient(net, location, aux_states=aux, numeric_eps=1e-2, rtol=5e-2, atol=5e-2)


def test_check_numeric_gradient_bad_location_names_the_problem():
    with pytest.raises(ValueError, match="missing"):
        check_numeric_gradient(_dense_tanh(), {"data": np.ones((2, 4))})
    with pytest.raises(ValueError, match="expected 3 arrays"):
        check_numeric_gradient(_dense_tanh(), [np.ones((2, 4))])
    with pytest.raises(ValueError, match="not arguments"):
        check_numeric_gradient(_dense_tanh(), _dense_location(np.random.RandomState(0)), grad_nodes=["nope"])


def test_check_symbolic_forward_against_numpy():
    rng = np.random.RandomState(2)
    location = _dense_location(rng)
    expected = np.tanh(location["data"] @ location["fc_weight"].T + location["fc_bias"])
    outputs = check_symbolic_forward(_dense_tanh(), location, [expected], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError):
        check_symbolic_forward(_dense_tanh(), location, [expected + 0.1], rtol=1e-5, atol=1e-6)


def test_check_symbolic_backward_write_and_add():
    rng = np.random.RandomState(3)
    a, b = mx.sym.var("a"), mx.sym.var("b")
    product = a * b
    location = {"a": rng.randn(2, 3), "b": rng.randn(2, 3)}
    head = rng.randn(2, 3)
    expected = {"a": head * location["b"], "b": head * location["a"]}
    grads = check_symbolic_backward(product, location, [head], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["a"], expected["a"], rtol=1e-5, atol=1e-6)
    # 'add' starts from random gradients and expects the new ones added to them.
    check_symbolic_backward(product, location, [head], expected, rtol=1e-5, atol=1e-6, grad_req="add")
    with pytest.raises(AssertionError, match="BACKWARD_a"):
        check_symbolic_backward(product, location, [head], {"a": expected["b"]}, rtol=1e-5, atol=1e-6)
