"""mx.random / mx.nd.random: seeding replays calls, MXNet's dispatch between _random_* (number parameters)
and _sample_* (NDArray parameters), shapes and rough distribution checks."""

import numpy as np
import pytest

import polymix as mx


def test_seed_replays_the_same_numbers():
    mx.random.seed(42)
    first = [mx.nd.random.uniform(shape=(50,)).asnumpy(), mx.nd.random.normal(shape=(3, 4)).asnumpy()]
    mx.random.seed(42)
    second = [mx.nd.random.uniform(shape=(50,)).asnumpy(), mx.nd.random.normal(shape=(3, 4)).asnumpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(mx.nd.random.uniform(shape=(50,)).asnumpy(), first[0])
    with pytest.raises(ValueError):
        mx.random.seed("not a number")


def test_number_parameters_draw_one_distribution():
    mx.random.seed(1)
    x = mx.nd.random.uniform(-2, 3, shape=(4000,)).asnumpy()
    assert x.dtype == np.float32 and x.min() >= -2 and x.max() < 3 and abs(x.mean() - 0.5) < 0.1
    y = mx.nd.random.normal(5, 0.5, shape=(2, 2000), dtype="float64")
    assert y.dtype is np.float64 and y.shape == (2, 2000) and abs(y.asnumpy().std() - 0.5) < 0.05
    assert mx.nd.random.uniform().shape == (1,)  # MXNet: one sample when no shape is given.
    assert mx.nd.random.randn(2, 3).shape == (2, 3)
    assert mx.random.uniform(shape=(2,)).shape == (2,)  # mx.random re-exports the samplers.
    ints = mx.nd.random.randint(0, 5, shape=(1000,)).asnumpy()
    assert set(np.unique(ints)) == {0, 1, 2, 3, 4}
    assert abs(mx.nd.random.exponential(2.0, shape=(4000,)).asnumpy().mean() - 2.0) < 0.2


def test_array_parameters_draw_per_element():
    low, high = mx.nd.array([0.0, 10.0]), mx.nd.array([1.0, 20.0])
    samples = mx.nd.random.uniform(low, high, shape=(500,)).asnumpy()
    assert samples.shape == (2, 500)
    assert samples[0].min() >= 0 and samples[0].max() < 1 and samples[1].min() >= 10 and samples[1].max() < 20
    with pytest.raises(TypeError):
        mx.nd.random.uniform(low, 1.0)


def test_like_samplers_and_shuffle():
    template = mx.nd.zeros((3, 4), dtype="float64")
    like = mx.nd.random.uniform_like(template, low=5, high=6)
    assert like.shape == (3, 4) and like.dtype is np.float64 and 5 <= like.asnumpy().min()
    data = mx.nd.arange(20)
    shuffled = mx.nd.random.shuffle(data).asnumpy()
    assert sorted(shuffled.tolist()) == list(range(20))
    probs = mx.nd.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(mx.nd.random.multinomial(probs).asnumpy(), [1, 0])
