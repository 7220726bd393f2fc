"""mx.init: the statistics of every random initializer, MXNet's name-based dispatch, JSON round trips, Mixed,
custom initializers and seeding. mx.metric: every metric against values computed by hand, local and global
sums, composites, creation from names, configs and functions."""

import json
import math
import pickle

import numpy as np
import pytest

import polymix as mx


def _filled(init, name, shape, attrs=None):
    array = mx.nd.full(shape, 7.0)
    init(mx.init.InitDesc(name, attrs), array)
    return array.asnumpy()


# ---- Initializers --------------------------------------------------------------------------------------

def test_uniform_and_normal_statistics():
    values = _filled(mx.init.Uniform(0.1), "fc_weight", (200, 300))
    assert values.min() >= -0.1 and values.max() < 0.1 and values.max() > 0.099
    assert abs(values.mean()) < 2e-3 and values.std() == pytest.approx(0.1 / math.sqrt(3), rel=0.02)
    values = _filled(mx.init.Normal(0.5), "fc_weight", (200, 300))
    assert abs(values.mean()) < 0.01 and values.std() == pytest.approx(0.5, rel=0.02)
    assert _filled(mx.init.Uniform(), "w_weight", (100, 100)).max() < 0.07  # Default scale 0.07.


def test_xavier_and_msraprelu_scales():
    # (out, in, kh, kw): fan_in = 200 * 9, fan_out = 100 * 9.
    shape, fan_in, fan_out = (100, 200, 3, 3), 1800, 900
    values = _filled(mx.init.Xavier(), "conv_weight", shape)
    bound = math.sqrt(3 / ((fan_in + fan_out) / 2))
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    values = _filled(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2), "conv_weight", shape)
    assert values.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    values = _filled(mx.init.MSRAPrelu(factor_type="out", slope=0.5), "conv_weight", shape)
    assert values.std() == pytest.approx(math.sqrt(2 / (1 + 0.25) / fan_out), rel=0.02)
    with pytest.raises(ValueError):
        _filled(mx.init.Xavier(), "v_weight", (5,))  # Xavier needs 2 dimensions.


def test_orthogonal_rows_and_columns():
    wide = _filled(mx.init.Orthogonal(scale=2.0), "w_weight", (20, 50)).astype(np.float64)
    np.testing.assert_allclose(wide @ wide.T, 4 * np.eye(20), atol=1e-4)
    tall = _filled(mx.init.Orthogonal(rand_type="normal"), "w_weight", (50, 20)).astype(np.float64)
    np.testing.assert_allclose(tall.T @ tall, 1.414 ** 2 * np.eye(20), atol=1e-4)
    conv = _filled(mx.init.Orthogonal(scale=1.0), "c_weight", (4, 2, 3, 3)).reshape(4, 18).astype(np.float64)
    np.testing.assert_allclose(conv @ conv.T, np.eye(4), atol=1e-5)


def test_seeding_makes_draws_reproducible():
    draws = []
    for _ in range(2):
        mx.random.seed(42)
        draws.append(_filled(mx.init.Xavier(), "fc_weight", (8, 8)))
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], _filled(mx.init.Xavier(), "fc_weight", (8, 8)))


def test_name_dispatch_and_init_attribute():
    constant = mx.init.Constant(5)
    expected = {"fc_weight": 5, "fc_bias": 0, "bn_gamma": 1, "bn_beta": 0, "q_min": 0, "q_max": 1}
    for name, value in expected.items():
        np.testing.assert_array_equal(_filled(constant, name, (2, 3)), np.full((2, 3), value), err_msg=name)
    with pytest.raises(ValueError, match="Unknown initialization pattern for bn_moving_mean"):
        _filled(constant, "bn_moving_mean", (3,))
    # A variable's __init__ (JSON, a name or an initializer) wins over the name.
    np.testing.assert_array_equal(_filled(constant, "fc_bias", (3,), {"__init__": '["one", {}]'}), [1, 1, 1])
    np.testing.assert_array_equal(_filled(constant, "fc_weight", (3,), {"__init__": "zeros"}), [0, 0, 0])
    np.testing.assert_array_equal(_filled(constant, "fc_weight", (3,), {"__init__": mx.init.Constant(2)}), [2] * 3)
    np.testing.assert_array_equal(_filled(constant, "fc_weight", (3,), {"__init__": ""}), [5, 5, 5])
    bias = _filled(constant, "lstm_i2h_bias", (8,), {"__init__": mx.init.LSTMBias(2.0).dumps()})
    np.testing.assert_array_equal(bias, [0, 0, 2, 2, 0, 0, 0, 0])
    # MXNet's legacy init(str, array) path knows BatchNorm's statistics.
    legacy = mx.nd.full((3,), 7.0)
    with pytest.warns(DeprecationWarning):
        constant("bn_moving_var", legacy)
    np.testing.assert_array_equal(legacy.asnumpy(), [1, 1, 1])


def test_dumps_and_create_round_trip():
    assert mx.init.Normal(0.5).dumps() == '["normal", {"sigma": 0.5}]'
    assert mx.init.Xavier(factor_type="in", magnitude=2.34).dumps() == \
        '["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]'
    assert mx.init.MSRAPrelu().dumps() == '["msraprelu", {"factor_type": "avg", "slope": 0.25}]'
    for init in [mx.init.Uniform(0.3), mx.init.Xavier(rnd_type="gaussian"), mx.init.Orthogonal(2.0, "normal"),
                 mx.init.Constant(1.5), mx.init.Zero(), mx.init.One(), mx.init.MSRAPrelu(slope=0.1)]:
        created = mx.init.create(init.dumps())
        assert created == init and created.dumps() == init.dumps()
    assert isinstance(mx.init.create("ones"), mx.init.One) and isinstance(mx.init.create("XAVIER"), mx.init.Xavier)
    init = mx.init.Xavier()
    assert mx.init.create(init) is init
    with pytest.raises(ValueError, match="not registered"):
        mx.init.create("nope")
    restored = pickle.loads(pickle.dumps(mx.init.Uniform(0.2)))
    assert restored.scale == 0.2 and _filled(restored, "w_weight", (50,)).max() < 0.2


def test_mixed_and_load():
    mixed = mx.init.Mixed(["bias", ".*"], [mx.init.Zero(), mx.init.Constant(2)])
    bias, weight = mx.nd.ones((2,)), mx.nd.ones((2,))
    mixed("fc_bias", bias)
    mixed("fc_weight", weight)
    np.testing.assert_array_equal(bias.asnumpy(), [0, 0])
    np.testing.assert_array_equal(weight.asnumpy(), [2, 2])
    with pytest.raises(ValueError, match="did not match any pattern"):
        mx.init.Mixed(["bias"], [mx.init.Zero()])("fc_weight", weight)
    load = mx.init.Load({"arg:fc_weight": mx.nd.array([3.0, 4.0])}, default_init=mx.init.One())
    load("fc_weight", weight)
    other = mx.nd.zeros((2,))
    with pytest.warns(DeprecationWarning):
        load("other_weight", other)
    np.testing.assert_array_equal(weight.asnumpy(), [3, 4])
    np.testing.assert_array_equal(other.asnumpy(), [1, 1])


def test_a_registered_custom_initializer():
    @mx.init.register
    class HalfAndTwo(mx.init.Initializer):  # pylint: disable=unused-variable
        def __init__(self, half=0.5):
            super().__init__(half=half)
            self.half = half

        def _init_weight(self, _, arr):
            arr[:] = self.half

        def _init_bias(self, _, arr):
            arr[:] = 2

    init = mx.init.create("halfandtwo", half=0.25)
    np.testing.assert_array_equal(_filled(init, "fc_weight", (2,)), [0.25, 0.25])
    np.testing.assert_array_equal(_filled(init, "fc_bias", (2,)), [2, 2])
    by_json = _filled(mx.init.Zero(), "fc_weight", (2,), {"__init__": json.dumps(["halfandtwo", {"half": 3}])})
    np.testing.assert_array_equal(by_json, [3, 3])


# ---- Metrics -----------------------------------------------------------------------------------------

LABELS = [mx.nd.array([0, 1, 1, 2]), mx.nd.array([1, 1])]
PREDS = [mx.nd.array([[0.3, 0.6, 0.1], [0.1, 0.8, 0.15], [0.5, 0.2, 0.3], [0.1, 0.2, 0.7]]),
         mx.nd.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])]


def test_accuracy_and_top_k():
    accuracy = mx.metric.create("acc")
    accuracy.update(LABELS, PREDS)  # argmax: [1, 1, 0, 2] and [1, 0]: 3 of 6 right.
    assert accuracy.get() == ("accuracy", 0.5) and accuracy.num_inst == 6 and accuracy.sum_metric == 3
    accuracy.update([mx.nd.array([2, 0])], [mx.nd.array([2, 0])])  # Class indices compare directly.
    assert accuracy.get() == ("accuracy", 5 / 8)
    top2 = mx.metric.TopKAccuracy(top_k=2)
    top2.update(LABELS[:1], PREDS[:1])  # Top two: {1, 0}, {1, 2}, {0, 2}, {2, 1}: 3 of 4.
    assert top2.get() == ("top_k_accuracy_2", 0.75)
    with pytest.raises(ValueError):
        mx.metric.TopKAccuracy(top_k=1)
    with pytest.raises(ValueError, match="Shape of labels 2 does not match shape of predictions 1"):
        accuracy.update(LABELS, PREDS[:1])


def test_local_and_global_sums():
    accuracy = mx.metric.Accuracy()
    accuracy.update(LABELS[:1], PREDS[:1])  # 2 of 4.
    accuracy.reset_local()
    accuracy.update(LABELS[1:], PREDS[1:])  # 1 of 2.
    assert accuracy.get() == ("accuracy", 0.5) and accuracy.get_global() == ("accuracy", 0.5)
    accuracy.update(LABELS[:1], [mx.nd.array([[0, 1, 0]] * 4)])  # 2 of 4.
    assert accuracy.get() == ("accuracy", 0.5) and accuracy.get_global() == ("accuracy", 5 / 10)
    assert accuracy.get_name_value() == [("accuracy", 0.5)]
    accuracy.reset()
    assert math.isnan(accuracy.get()[1]) and math.isnan(accuracy.get_global()[1])


def test_cross_entropy_and_perplexity():
    probabilities = np.array([0.3, 0.8, 0.2, 0.7])  # Each sample's probability of its label.
    entropy = mx.metric.create("ce")
    entropy.update(LABELS[:1], PREDS[:1])
    assert entropy.get()[1] == pytest.approx(np.mean(-np.log(probabilities + 1e-12)), rel=1e-6)
    perplexity = mx.metric.Perplexity(ignore_label=None)
    perplexity.update(LABELS[:1], PREDS[:1])
    assert perplexity.get()[1] == pytest.approx(math.exp(np.mean(-np.log(probabilities))), rel=1e-6)
    ignoring = mx.metric.Perplexity(ignore_label=1)
    ignoring.update(LABELS[:1], PREDS[:1])  # Labels 0 and 2 only.
    assert ignoring.get()[1] == pytest.approx(math.exp(np.mean(-np.log([0.3, 0.7]))), rel=1e-6)
    assert ignoring.num_inst == 2


def test_f1_macro_and_micro():
    first = ([mx.nd.array([0, 1, 1, 0, 1])], [mx.nd.array([[.3, .7], [.6, .4], [.2, .8], [.9, .1], [.4, .6]])])
    second = ([mx.nd.array([1, 0, 0])], [mx.nd.array([[.3, .7], [.2, .8], [.1, .9]])])
    # first: tp 2, fp 1, fn 1 -> F1 2/3; second: tp 1, fp 2, fn 0 -> precision 1/3, recall 1, F1 1/2.
    macro = mx.metric.F1()
    micro = mx.metric.F1(average="micro")
    for labels, preds in (first, second):
        macro.update(labels, preds)
        micro.update(labels, preds)
    assert macro.get()[1] == pytest.approx((2 / 3 + 1 / 2) / 2) and macro.num_inst == 2
    assert micro.get()[1] == pytest.approx(0.6) and micro.num_inst == 8  # tp 3, fp 3, fn 1 over 8 samples.
    micro.reset_local()
    micro.update(*second)
    precision, recall = 4 / 9, 4 / 5  # Everything seen: tp 4, fp 5, fn 1.
    assert micro.get()[1] == pytest.approx(0.5)
    assert micro.get_global()[1] == pytest.approx(2 * precision * recall / (precision + recall))
    with pytest.raises(ValueError):
        macro.update([mx.nd.array([0, 1, 2])], [mx.nd.array([[.3, .7]] * 3)])  # Not binary.


def test_regression_metrics_and_loss():
    labels = [mx.nd.array([1.0, 2.0, 3.0]), mx.nd.array([[1.0, 2.0], [0.5, 0.5]])]
    preds = [mx.nd.array([1.5, 2.0, 2.0]), mx.nd.array([[0.0, 2.0], [1.0, 1.5]])]
    # Per pair: absolute errors mean 0.5 and 0.625, squared 5/12 and 0.5625.
    expected = {"mae": (0.5 + 0.625) / 2, "mse": (5 / 12 + 0.5625) / 2,
                "rmse": (math.sqrt(5 / 12) + math.sqrt(0.5625)) / 2}
    for name, value in expected.items():
        metric = mx.metric.create(name)
        metric.update(labels, preds)
        assert metric.get() == (name, pytest.approx(value, rel=1e-6)) and metric.num_inst == 2
    loss = mx.metric.Loss()
    loss.update(None, [mx.nd.array([1.0, 2.0]), mx.nd.array([[3.0], [5.0]])])
    loss.update(None, mx.nd.array([9.0]))
    assert loss.get() == ("loss", 4.0) and loss.num_inst == 5


def test_composite_config_and_custom_metrics():
    composite = mx.metric.create(["acc", "ce", mx.metric.MAE(name="m")])
    composite.update(LABELS[:1], PREDS[:1])
    names, values = composite.get()
    assert names == ["accuracy", "cross-entropy", "m"] and values[0] == 0.5
    assert isinstance(composite.get_metric(1), mx.metric.CrossEntropy)
    config = mx.metric.Accuracy(axis=1, name="acc1").get_config()
    assert config == {"axis": 1, "metric": "Accuracy", "name": "acc1", "output_names": None, "label_names": None}
    rebuilt = mx.metric.create(config)
    assert isinstance(rebuilt, mx.metric.Accuracy) and rebuilt.name == "acc1"

    def wrong(label, pred):
        return float(np.sum(label != pred.argmax(axis=1))), label.size

    custom = mx.metric.create(wrong)
    custom.update(LABELS, PREDS)
    assert custom.get() == ("wrong", 0.5)
    feval = mx.metric.np(lambda label, pred: float(np.abs(label - pred.argmax(axis=1)).sum()))
    feval.update(LABELS, PREDS)
    assert feval.name == "custom(<lambda>)" and feval.get()[1] == (2 + 1) / 2
    restored = pickle.loads(pickle.dumps(mx.metric.Accuracy()))
    restored.update(LABELS, PREDS)
    assert restored.get()[1] == 0.5
    with pytest.raises(ValueError, match="not registered"):
        mx.metric.create("nope")
