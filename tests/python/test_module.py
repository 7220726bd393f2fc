"""mx.mod.Module, mx.model and mx.callback (MXNet 1.x's symbolic training API) against NumPy: a softmax
regression trained with fit, one manual SGD step, predict/score, checkpoints, re-binding on a smaller batch,
input gradients, optimizer states, callbacks and error messages."""

import logging
import os

import numpy as np
import pytest

import polymix as mx

NUM_FEATURES, NUM_CLASSES = 4, 3


def _softmax_regression():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=NUM_CLASSES, name="fc")
    return mx.sym.SoftmaxOutput(fc, name="softmax")


def _mlp():
    data = mx.sym.var("data")
    hidden = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=16, name="fc1"), act_type="relu")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(hidden, num_hidden=NUM_CLASSES, name="fc2"), name="softmax")


def _separable(count, seed=0):
    """Three Gaussian blobs far apart: (features float32, labels float32)."""
    rng = np.random.RandomState(seed)
    centers = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]], dtype=np.float32)
    labels = rng.randint(0, NUM_CLASSES, size=count)
    features = centers[labels] + rng.normal(0, 0.5, size=(count, NUM_FEATURES)).astype(np.float32)
    return features.astype(np.float32), labels.astype(np.float32)


def _np_softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _known_params(rng):
    return {"fc_weight": rng.uniform(-1, 1, (NUM_CLASSES, NUM_FEATURES)).astype(np.float32),
            "fc_bias": rng.uniform(-1, 1, (NUM_CLASSES,)).astype(np.float32)}


def _bound_module(batch_size, params, for_training=True, **kwargs):
    mod = mx.mod.Module(_softmax_regression(), **kwargs)
    mod.bind(data_shapes=[("data", (batch_size, NUM_FEATURES))], label_shapes=[("softmax_label", (batch_size,))],
             for_training=for_training)
    mod.init_params(arg_params={name: mx.nd.array(value) for name, value in params.items()})
    return mod


def test_fit_learns_a_separable_problem_with_an_mlp(caplog):
    features, labels = _separable(300)
    train = mx.io.NDArrayIter(features, labels, batch_size=25, shuffle=True)
    mx.random.seed(1)
    np.random.seed(1)
    mod = mx.mod.Module(_mlp(), context=[mx.cpu()])
    with caplog.at_level(logging.INFO):
        mod.fit(train, eval_data=mx.io.NDArrayIter(features, labels, batch_size=50), eval_metric="acc",
                optimizer="sgd", optimizer_params={"learning_rate": 0.2, "momentum": 0.9},
                initializer=mx.init.Xavier(), num_epoch=4, kvstore="device")
    test_x, test_y = _separable(200, seed=5)
    (name, accuracy), = mod.score(mx.io.NDArrayIter(test_x, test_y, batch_size=50), "acc")
    assert name == "accuracy" and accuracy >= 0.97
    messages = [record.getMessage() for record in caplog.records]
    assert "Epoch[3] Validation-accuracy=" in "\n".join(messages)
    assert any(m.startswith("Epoch[0] Train-accuracy=") for m in messages)
    assert any(m.startswith("Epoch[0] Time cost=") for m in messages)


def test_one_manual_sgd_step_equals_numpy():
    rng = np.random.RandomState(3)
    params = _known_params(rng)
    batch_size, lr, wd = 6, 0.3, 0.1
    features = rng.normal(size=(batch_size, NUM_FEATURES)).astype(np.float32)
    labels = rng.randint(0, NUM_CLASSES, size=batch_size).astype(np.float32)
    mod = _bound_module(batch_size, params)
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", lr), ("wd", wd)))
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(features)], [mx.nd.array(labels)]))
    mod.update()

    probs = _np_softmax(features @ params["fc_weight"].T + params["fc_bias"])
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), probs, rtol=1e-5, atol=1e-6)
    # SoftmaxOutput's gradient is (p - onehot) per example; rescale_grad = 1 / batch_size; wd only on *_weight.
    d_logits = (probs - np.eye(NUM_CLASSES)[labels.astype(int)]) / batch_size
    expected_weight = params["fc_weight"] - lr * (d_logits.T @ features + wd * params["fc_weight"])
    expected_bias = params["fc_bias"] - lr * d_logits.sum(axis=0)
    arg_params, aux_params = mod.get_params()
    assert aux_params == {}
    np.testing.assert_allclose(arg_params["fc_weight"].asnumpy(), expected_weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arg_params["fc_bias"].asnumpy(), expected_bias, rtol=1e-5, atol=1e-6)


def test_fixed_params_stay_and_input_grads_equal_numpy():
    rng = np.random.RandomState(4)
    params = _known_params(rng)
    features = rng.normal(size=(5, NUM_FEATURES)).astype(np.float32)
    labels = rng.randint(0, NUM_CLASSES, size=5).astype(np.float32)
    mod = mx.mod.Module(_softmax_regression(), fixed_param_names=["fc_bias"])
    mod.bind(data_shapes=[mx.io.DataDesc("data", (5, NUM_FEATURES))], label_shapes=[("softmax_label", (5,))],
             inputs_need_grad=True)
    mod.init_params(arg_params={name: mx.nd.array(value) for name, value in params.items()})
    mod.init_optimizer(optimizer=mx.optimizer.SGD(learning_rate=0.5, rescale_grad=0.2))
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(features)], [mx.nd.array(labels)]))
    probs = _np_softmax(features @ params["fc_weight"].T + params["fc_bias"])
    d_logits = probs - np.eye(NUM_CLASSES)[labels.astype(int)]
    (input_grad,) = mod.get_input_grads()
    np.testing.assert_allclose(input_grad.asnumpy(), d_logits @ params["fc_weight"], rtol=1e-5, atol=1e-6)
    mod.update()
    arg_params, _ = mod.get_params()
    np.testing.assert_array_equal(arg_params["fc_bias"].asnumpy(), params["fc_bias"])
    np.testing.assert_allclose(arg_params["fc_weight"].asnumpy(),
                               params["fc_weight"] - 0.5 * 0.2 * d_logits.T @ features, rtol=1e-5, atol=1e-6)


def test_predict_and_score_shapes_and_values():
    rng = np.random.RandomState(5)
    params = _known_params(rng)
    features = rng.normal(size=(23, NUM_FEATURES)).astype(np.float32)
    labels = rng.randint(0, NUM_CLASSES, size=23).astype(np.float32)
    mod = _bound_module(8, params, for_training=False)
    expected = _np_softmax(features @ params["fc_weight"].T + params["fc_bias"])

    # 23 examples in batches of 8: the last batch is padded by 1 and predict drops the padding.
    predicted = mod.predict(mx.io.NDArrayIter(features, labels, batch_size=8))
    assert predicted.shape == (23, NUM_CLASSES)
    np.testing.assert_allclose(predicted.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    as_list = mod.predict(mx.io.NDArrayIter(features, labels, batch_size=8), always_output_list=True)
    assert isinstance(as_list, list) and len(as_list) == 1
    per_batch = mod.predict(mx.io.NDArrayIter(features, labels, batch_size=8), merge_batches=False)
    assert [outputs[0].shape for outputs in per_batch] == [(8, 3), (8, 3), (7, 3)]
    only_two = mod.predict(mx.io.NDArrayIter(features, labels, batch_size=8), num_batch=2)
    assert only_two.shape == (16, NUM_CLASSES)
    np.testing.assert_allclose(mod.predict(features[:8]).asnumpy(), expected[:8], rtol=1e-5, atol=1e-6)
    for outputs, nbatch, batch in mod.iter_predict(mx.io.NDArrayIter(features, labels, batch_size=8)):
        assert outputs[0].shape[0] == 8 - batch.pad
        np.testing.assert_allclose(outputs[0].asnumpy(), expected[nbatch * 8:nbatch * 8 + 8], rtol=1e-5, atol=1e-6)

    # score over 16 examples (no padding): accuracy and cross-entropy as NumPy computes them.
    result = dict(mod.score(mx.io.NDArrayIter(features[:16], labels[:16], batch_size=8), ["acc", "ce"]))
    truth = labels[:16].astype(int)
    assert result["accuracy"] == pytest.approx(np.mean(expected[:16].argmax(axis=1) == truth))
    assert result["cross-entropy"] == pytest.approx(-np.mean(np.log(expected[np.arange(16), truth])), rel=1e-5)
    assert mod.output_shapes == [("softmax_output", (8, NUM_CLASSES))]
    assert [tuple(desc) for desc in mod.data_shapes] == [("data", (8, NUM_FEATURES))]
    assert mod.label_shapes[0].name == "softmax_label"


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    features, labels = _separable(60)
    mod = mx.mod.Module(_mlp())
    prefix = str(tmp_path / "mlp")
    mod.fit(mx.io.NDArrayIter(features, labels, batch_size=20), num_epoch=2, optimizer_params={"learning_rate": 0.1},
            epoch_end_callback=mx.callback.do_checkpoint(prefix))
    assert os.path.exists(prefix + "-symbol.json")
    assert os.path.exists(prefix + "-0001.params") and os.path.exists(prefix + "-0002.params")
    mod.save_checkpoint(prefix, 7)
    expected = mod.predict(mx.io.NDArrayIter(features, labels, batch_size=20)).asnumpy()

    assert sorted(mx.nd.load(prefix + "-0007.params")) == ["arg:fc1_bias", "arg:fc1_weight", "arg:fc2_bias",
                                                            "arg:fc2_weight"]
    loaded = mx.mod.Module.load(prefix, 7)
    loaded.bind(data_shapes=[("data", (20, NUM_FEATURES))], for_training=False)
    np.testing.assert_array_equal(loaded.predict(mx.io.NDArrayIter(features, labels, batch_size=20)).asnumpy(),
                                  expected)
    symbol, arg_params, aux_params = mx.model.load_checkpoint(prefix, 7)
    assert symbol.list_arguments() == _mlp().list_arguments() and aux_params == {}
    for name, value in mod.get_params()[0].items():
        np.testing.assert_array_equal(arg_params[name].asnumpy(), value.asnumpy())
    # The same parameters through save_params / load_params into a fresh module.
    mod.save_params(str(tmp_path / "again.params"))
    fresh = mx.mod.Module(_mlp())
    fresh.bind(data_shapes=[("data", (20, NUM_FEATURES))], for_training=False)
    fresh.init_params()
    fresh.load_params(str(tmp_path / "again.params"))
    np.testing.assert_array_equal(fresh.predict(mx.io.NDArrayIter(features, labels, batch_size=20)).asnumpy(),
                                  expected)


def test_forward_rebinds_for_a_smaller_last_batch_and_keeps_sharing_params():
    rng = np.random.RandomState(6)
    params = _known_params(rng)
    mod = _bound_module(8, params)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    small = rng.normal(size=(3, NUM_FEATURES)).astype(np.float32)
    small_labels = rng.randint(0, NUM_CLASSES, size=3).astype(np.float32)
    mod.forward(mx.io.DataBatch([mx.nd.array(small)], [mx.nd.array(small_labels)]), is_train=True)
    assert mod.get_outputs()[0].shape == (3, NUM_CLASSES)
    assert [tuple(desc) for desc in mod.data_shapes] == [("data", (3, NUM_FEATURES))]
    assert mod.output_shapes == [("softmax_output", (3, NUM_CLASSES))]
    probs = _np_softmax(small @ params["fc_weight"].T + params["fc_bias"])
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), probs, rtol=1e-5, atol=1e-6)
    mod.backward()
    mod.update()
    d_logits = (probs - np.eye(NUM_CLASSES)[small_labels.astype(int)]) / 8  # rescale_grad from the bound batch
    updated = params["fc_weight"] - 0.1 * d_logits.T @ small
    # Back to the bound batch size: the update made on the small batch's executor is there.
    full = rng.normal(size=(8, NUM_FEATURES)).astype(np.float32)
    mod.forward(mx.io.DataBatch([mx.nd.array(full)], None), is_train=False)
    assert mod.get_outputs()[0].shape == (8, NUM_CLASSES)
    np.testing.assert_allclose(mod.get_params()[0]["fc_weight"].asnumpy(), updated, rtol=1e-5, atol=1e-6)
    expected = _np_softmax(full @ updated.T + mod.get_params()[0]["fc_bias"].asnumpy())
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), expected, rtol=1e-5, atol=1e-5)


def test_optimizer_states_round_trip(tmp_path):
    features, labels = _separable(40)
    batches = [mx.io.DataBatch([mx.nd.array(features[i:i + 10])], [mx.nd.array(labels[i:i + 10])])
               for i in range(0, 40, 10)]
    params = _known_params(np.random.RandomState(7))

    def trained(steps, module):
        for batch in steps:
            module.forward_backward(batch)
            module.update()
        return module

    straight = trained(batches, _with_momentum(params))
    first = trained(batches[:2], _with_momentum(params))
    first.save_checkpoint(str(tmp_path / "m"), 2, save_optimizer_states=True)
    resumed = mx.mod.Module.load(str(tmp_path / "m"), 2, load_optimizer_states=True)
    resumed.bind(data_shapes=[("data", (10, NUM_FEATURES))], label_shapes=[("softmax_label", (10,))])
    resumed.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    trained(batches[2:], resumed)
    for name, value in straight.get_params()[0].items():
        np.testing.assert_allclose(resumed.get_params()[0][name].asnumpy(), value.asnumpy(), rtol=1e-6, atol=1e-7)


def _with_momentum(params):
    mod = _bound_module(10, params)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    return mod


def test_callbacks_log_in_mxnet_formats(caplog):
    metric = mx.metric.Accuracy()
    metric.update([mx.nd.array([0, 1])], [mx.nd.array([[0.9, 0.1], [0.2, 0.8]])])
    speedometer = mx.callback.Speedometer(batch_size=4, frequent=2)
    with caplog.at_level(logging.INFO):
        for nbatch in range(5):
            speedometer(mx.model.BatchEndParam(epoch=1, nbatch=nbatch, eval_metric=metric, locals=None))
        mx.callback.log_train_metric(2)(mx.model.BatchEndParam(1, 4, metric, None))
        mx.callback.ProgressBar(total=4, length=8)(mx.model.BatchEndParam(0, 2, None, None))
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("Epoch[1] Batch [0-2]\tSpeed: ") and messages[0].endswith(
        " samples/sec\taccuracy=1.000000")
    assert messages[1].startswith("Epoch[1] Batch [2-4]\tSpeed: ")
    # auto_reset cleared the local sums after the first line: no examples since, NaN as in MXNet.
    assert messages[1].endswith("\taccuracy=nan")
    assert messages[2] == "Iter[1] Batch[4] Train-accuracy=nan"
    assert messages[3] == "[====----] 50%\r"


def test_errors_name_what_was_expected():
    symbol = _softmax_regression()
    with pytest.raises(ValueError, match=r"data_names=\['x'\].*'x' is not found"):
        mx.mod.Module(symbol, data_names=["x"])
    with pytest.warns(UserWarning, match="label_names"):
        mx.mod.Module(symbol, label_names=["lab"])
    with pytest.raises(NotImplementedError, match="more than one context"):
        mx.mod.Module(symbol, context=[mx.cpu(0), mx.cpu(1)])
    mod = mx.mod.Module(symbol)
    with pytest.raises(ValueError, match="don't match names specified by data_names"):
        mod.bind(data_shapes=[("x", (4, NUM_FEATURES))])
    with pytest.raises(ValueError, match="same batch size"):
        mod.bind(data_shapes=[("data", (4, NUM_FEATURES))], label_shapes=[("softmax_label", (5,))])
    with pytest.raises(RuntimeError, match="bind"):
        mod.predict(np.zeros((4, NUM_FEATURES), np.float32))
    mod = _bound_module(4, _known_params(np.random.RandomState(8)))
    with pytest.raises(ValueError, match=r"'fc_weight' the shape \(3, 5\).*bound with shape \(3, 4\)"):
        mod.forward(mx.io.DataBatch([mx.nd.zeros((4, 5))], [mx.nd.zeros((4,))]))
    with pytest.raises(ValueError, match="1 data inputs"):
        mod.forward(mx.io.DataBatch([mx.nd.zeros((4, 4)), mx.nd.zeros((4, 4))], None))
    with pytest.raises(ValueError, match="num_epoch"):
        mod.fit(mx.io.NDArrayIter(np.zeros((4, 4)), np.zeros(4), batch_size=4))
    with pytest.raises(NotImplementedError):
        mod.install_monitor(None)
    with pytest.warns(UserWarning, match="kvstore 'dist_sync' is ignored"):
        mod.init_optimizer(kvstore="dist_sync")
