"""gluon.Trainer against optimizer updates written out in NumPy (MXNet 1.9.1's SGD and Adam rules), several
devices, saved optimizer states, and gluon.utils (split_and_load, clip_global_norm)."""

import numpy as np
import pytest

import polymix as mx
from polymix import autograd, gluon
from polymix.gluon import nn

RNG = np.random.default_rng(29)


def _layer(ctx=None):
    layer = nn.Dense(3, in_units=4)
    layer.initialize(mx.init.Normal(0.5), ctx=ctx)
    return layer


def _backward(layer, x, ctx=None):
    """Gradients of sum(layer(x)^2) into the layer's parameters."""
    with autograd.record():
        loss = (layer(x.as_in_context(ctx or mx.cpu())) ** 2).sum()
    loss.backward()


def _numpy_params(layer):
    return {"weight": layer.weight.data().asnumpy().copy(), "bias": layer.bias.data().asnumpy().copy()}


def _numpy_grads(layer):
    return {"weight": layer.weight.grad().asnumpy().copy(), "bias": layer.bias.grad().asnumpy().copy()}


def test_sgd_with_momentum_and_weight_decay_matches_numpy():
    layer = _layer()
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    weights = _numpy_params(layer)
    momentum = {name: np.zeros_like(value) for name, value in weights.items()}
    x = mx.nd.array(RNG.normal(size=(8, 4)))
    for _ in range(3):
        _backward(layer, x)
        grads = _numpy_grads(layer)
        trainer.step(8)
        for name in weights:
            momentum[name] = 0.9 * momentum[name] - 0.1 * (grads[name] / 8 + 0.01 * weights[name])
            weights[name] = weights[name] + momentum[name]
        for name, value in _numpy_params(layer).items():
            np.testing.assert_allclose(value, weights[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_adam_matches_numpy_and_lr_mult_freezes_a_parameter():
    layer = _layer()
    layer.bias.lr_mult = 0.0
    trainer = gluon.Trainer(layer.collect_params(), "adam", {"learning_rate": 0.01})
    bias = layer.bias.data().asnumpy().copy()
    weight = layer.weight.data().asnumpy().copy()
    m, v = np.zeros_like(weight), np.zeros_like(weight)
    x = mx.nd.array(RNG.normal(size=(5, 4)))
    for t in range(1, 4):
        _backward(layer, x)
        grad = layer.weight.grad().asnumpy() / 5
        trainer.step(5)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        lr = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        weight = weight - lr * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(layer.weight.data().asnumpy(), weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.bias.data().asnumpy(), bias)


def test_learning_rate_property_and_optimizer_instances():
    layer = _layer()
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.5})
    assert trainer.learning_rate == 0.5
    trainer.set_learning_rate(0.25)
    assert trainer.learning_rate == 0.25 and trainer.optimizer.learning_rate == 0.25
    optimizer = mx.optimizer.SGD(learning_rate=0.3)
    assert gluon.Trainer(layer.collect_params(), optimizer).optimizer is optimizer
    with pytest.raises(ValueError, match="optimizer_params must be None"):
        gluon.Trainer(layer.collect_params(), optimizer, {"learning_rate": 1.0})
    with pytest.raises(ValueError, match="list or dict of Parameters"):
        gluon.Trainer("weights", "sgd")
    before = layer.weight.data().asnumpy().copy()
    _backward(layer, mx.nd.ones((2, 4)))
    grad = layer.weight.grad().asnumpy()
    trainer.allreduce_grads()
    trainer.update(2)
    np.testing.assert_allclose(layer.weight.data().asnumpy(), before - 0.25 * grad / 2, rtol=1e-5, atol=1e-6)


def test_saved_states_resume_training_exactly(tmp_path):
    x = mx.nd.array(RNG.normal(size=(6, 4)))
    reference = _layer()
    resumed = _layer()
    resumed.weight.set_data(reference.weight.data())
    resumed.bias.set_data(reference.bias.data())
    options = {"learning_rate": 0.05, "momentum": 0.8}
    reference_trainer = gluon.Trainer(reference.collect_params(), "sgd", options)
    first_trainer = gluon.Trainer(resumed.collect_params(), "sgd", options)
    for _ in range(2):
        for layer, trainer in ((reference, reference_trainer), (resumed, first_trainer)):
            _backward(layer, x)
            trainer.step(6)
    path = str(tmp_path / "trainer.states")
    first_trainer.save_states(path)
    second_trainer = gluon.Trainer(resumed.collect_params(), "sgd", {"learning_rate": 1.0})
    second_trainer.load_states(path)
    assert second_trainer.learning_rate == 0.05
    for layer, trainer in ((reference, reference_trainer), (resumed, second_trainer)):
        _backward(layer, x)
        trainer.step(6)
    np.testing.assert_allclose(resumed.weight.data().asnumpy(), reference.weight.data().asnumpy(), rtol=1e-6)


def test_several_devices_sum_gradients_and_stay_equal():
    devices = [mx.cpu(0), mx.cpu(1)]
    layer = _layer(ctx=devices)
    single = _layer()
    single.weight.set_data(layer.weight.data(devices[0]))
    single.bias.set_data(layer.bias.data(devices[0]))
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1})
    single_trainer = gluon.Trainer(single.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.nd.array(RNG.normal(size=(6, 4)))
    parts = gluon.utils.split_and_load(x, devices)
    assert [part.context for part in parts] == devices and [part.shape for part in parts] == [(3, 4), (3, 4)]
    with autograd.record():
        losses = [(layer(part) ** 2).sum() for part in parts]
    autograd.backward(losses)
    trainer.step(6)
    _backward(single, x)
    single_trainer.step(6)
    for copy in layer.weight.list_data():
        np.testing.assert_allclose(copy.asnumpy(), single.weight.data().asnumpy(), rtol=1e-5, atol=1e-6)


def test_split_data_and_clip_global_norm():
    x = mx.nd.array(np.arange(14).reshape(7, 2))
    pieces = gluon.utils.split_data(x, 3, even_split=False)
    assert [piece.shape[0] for piece in pieces] == [2, 2, 3]
    np.testing.assert_array_equal(np.concatenate([piece.asnumpy() for piece in pieces]), x.asnumpy())
    with pytest.raises(ValueError, match="cannot be evenly split"):
        gluon.utils.split_data(x, 3)
    columns = gluon.utils.split_data(mx.nd.ones((2, 6)), 2, batch_axis=1)
    assert [piece.shape for piece in columns] == [(2, 3), (2, 3)]
    arrays = [mx.nd.array(RNG.normal(size=(3, 2))), mx.nd.array(RNG.normal(size=(4,)))]
    values = [array.asnumpy() for array in arrays]
    norm = np.sqrt(sum((value ** 2).sum() for value in values))
    returned = gluon.utils.clip_global_norm(arrays, 1.0)
    assert abs(returned - norm) < 1e-5
    for array, value in zip(arrays, values):
        np.testing.assert_allclose(array.asnumpy(), value / (norm + 1e-8), rtol=1e-5)
    small = [mx.nd.array([0.1, 0.2])]
    gluon.utils.clip_global_norm(small, 10.0)
    np.testing.assert_allclose(small[0].asnumpy(), [0.1, 0.2], rtol=1e-6)


def test_stale_gradients_raise_or_are_skipped_as_in_mxnet():
    # Two Dense layers, only the first used: the second's gradient is stale after backward.
    used, unused = mx.gluon.nn.Dense(2, in_units=3), mx.gluon.nn.Dense(2, in_units=3)
    used.initialize(mx.init.One())
    unused.initialize(mx.init.One())
    params = used.collect_params()
    params.update(unused.collect_params())
    trainer = mx.gluon.Trainer(params, "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.1})
    x = mx.nd.ones((4, 3))
    with mx.autograd.record():
        loss = used(x).sum()
    loss.backward()
    assert used.weight.data()._fresh_grad and not unused.weight.data()._fresh_grad
    with pytest.raises(UserWarning, match="has not been updated by backward"):
        trainer.step(4)
    before_unused = unused.weight.data().asnumpy().copy()
    before_used = used.weight.data().asnumpy().copy()
    trainer.step(4, ignore_stale_grad=True)
    # The stale parameter is skipped entirely (no weight decay, no momentum); the fresh one moves.
    np.testing.assert_array_equal(unused.weight.data().asnumpy(), before_unused)
    assert not np.allclose(used.weight.data().asnumpy(), before_used)
    # The update consumed the fresh gradients: stepping again without a backward is stale for every parameter.
    assert not used.weight.data()._fresh_grad
    with pytest.raises(UserWarning):
        trainer.step(4)


def test_hybridized_backward_marks_gradients_fresh():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(3, in_units=2), mx.gluon.nn.Dense(1, in_units=3))
    net.initialize()
    net.hybridize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    for _ in range(2):
        with mx.autograd.record():
            loss = net(mx.nd.ones((5, 2))).sum()
        loss.backward()
        assert all(p.data()._fresh_grad for p in net.collect_params().values())
        trainer.step(5)
