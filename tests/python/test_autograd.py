"""mx.autograd against central finite differences (float64), and MXNet's recording/training scopes."""

import numpy as np
import pytest

import polymix as mx
from polymix import autograd

RNG = np.random.default_rng(11)


def _finite_differences(function, values, eps=1e-6):
    """d function(*values) / d values[i], by central differences, for every input."""
    grads = []
    for index, value in enumerate(values):
        grad = np.zeros_like(value)
        for position in np.ndindex(value.shape):
            shifted = [v.copy() for v in values]
            shifted[index][position] += eps
            up = function(*shifted)
            shifted[index][position] -= 2 * eps
            down = function(*shifted)
            grad[position] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def _check(build, *values):
    """Records build(*NDArrays) (a scalar NDArray), runs backward, compares every input's grad."""
    def evaluate(*arrays):
        return build(*[mx.nd.array(a, dtype="float64") for a in arrays]).asscalar()

    arrays = [mx.nd.array(v, dtype="float64") for v in values]
    for array in arrays:
        array.attach_grad()
    with autograd.record():
        result = build(*arrays)
    result.backward()
    for array, want in zip(arrays, _finite_differences(evaluate, values)):
        np.testing.assert_allclose(array.grad.asnumpy(), want, rtol=1e-5, atol=1e-7)


def test_broadcasting_arithmetic_and_unary_ops():
    x, y = RNG.uniform(-1, 1, (3, 4)), RNG.uniform(0.5, 1.5, (4,))
    _check(lambda a, b: (mx.nd.sin(a) * b + a ** 2 / (1 + b * b) - 3 / (a + 5) + 2 ** a).sum(), x, y)


def test_indexing_and_reshape_are_recorded():
    x = RNG.uniform(-1, 1, (4, 6))
    _check(lambda a: ((a[1:3].reshape(-1) * 2) ** 2).sum() + a[0, 1].sum() * 3 + a[:, ::2].sum()
           + (a[3] * a[2]).sum() + a.T[1].sum() + a[[0, 2]].exp().sum(), x)


def test_a_small_network():
    x, w, b = RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, (4, 3)), RNG.uniform(-1, 1, (4,))
    label = np.eye(4)[[0, 1, 2, 3, 1]]
    one_hot = mx.nd.array(label, dtype="float64")
    _check(lambda a, weight, bias: -(mx.nd.log_softmax(mx.nd.tanh(mx.nd.FullyConnected(
        a, weight, bias, num_hidden=4))) * one_hot).sum(), x, w, b)


def test_head_gradient_grad_req_add_and_mark_variables():
    x = mx.nd.array([1.0, 2.0, 3.0])
    x.attach_grad(grad_req="add")
    for _ in range(2):
        with autograd.record():
            y = x * x
        y.backward(mx.nd.array([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * np.array([2.0, 40.0, 600.0]))
    z = mx.nd.array([1.0, -1.0])
    buffer = mx.nd.zeros((2,))
    autograd.mark_variables([z], [buffer])
    with autograd.record():
        w = (z * 3).sum()
    autograd.backward([w])
    np.testing.assert_allclose(buffer.asnumpy(), [3, 3])


def test_higher_order_gradients_and_retain_graph_default():
    x = mx.nd.array([0.5, -1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x ** 3
        dy = autograd.grad(y, x, create_graph=True)  # retain_graph defaults to create_graph.
    np.testing.assert_allclose(dy.asnumpy(), 3 * x.asnumpy() ** 2, rtol=1e-6)
    dy.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy(), rtol=1e-6)
    with autograd.record():
        z = (x * x).sum()
    first = autograd.grad([z], [x])  # No create_graph: the graph is freed afterwards.
    np.testing.assert_allclose(first[0].asnumpy(), 2 * x.asnumpy())
    with pytest.raises(ValueError):
        autograd.grad([z], [x])


def test_detach_and_pause_stop_gradients():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x.detach()
        with autograd.pause():
            constant = x * 10
            assert not autograd.is_recording()
        total = (y + constant).sum()
    total.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), x.asnumpy())


def test_recording_and_training_scopes():
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.predict_mode():
            assert autograd.is_recording() and not autograd.is_training()
        with autograd.pause(train_mode=True):
            assert not autograd.is_recording() and autograd.is_training()
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()
    with autograd.train_mode():
        assert autograd.is_training() and not autograd.is_recording()
    assert autograd.set_recording(True) is False
    assert autograd.set_recording(False) is True
    assert not autograd.is_recording() and not autograd.is_training()


def test_dropout_follows_the_training_mode():
    mx.random.seed(0)
    x = mx.nd.ones((1000,))
    inference = mx.nd.Dropout(x, p=0.5)
    np.testing.assert_array_equal(inference.asnumpy(), np.ones(1000))
    with autograd.train_mode():
        training = mx.nd.Dropout(x, p=0.5).asnumpy()
    assert set(np.unique(training)) <= {0.0, 2.0} and 300 < (training == 0).sum() < 700


def test_inplace_write_to_a_recorded_array_is_an_error():
    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with pytest.raises(ValueError):
            y += 1
