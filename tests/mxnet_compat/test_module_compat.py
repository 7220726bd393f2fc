"""MXNet 1.x's symbolic training API (mx.mod.Module, mx.model, mx.callback) against the real MXNet 1.9.1:
scripts/module_training_script.py, written for MXNet, runs as written under MXNet and under Polymix with only
its import line changed, both learning; and a Module checkpoint (prefix-symbol.json + prefix-%04d.params with
'arg:'/'aux:' keys) written by either one loads in the other's Module.load and predicts the same.

Polymix runs in a subprocess (module_polymix_side.py, or the ported script) through conftest's run_polymix and
run_script_both_ways."""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "scripts", "module_training_script.py")


def _check_learned(result, who):
    assert result["accuracy"] >= 0.9, "%s: validation accuracy %.3f" % (who, result["accuracy"])
    assert len(result["losses"]) == 5, "%s: fit logged %s" % (who, result["losses"])
    assert result["losses"][-1] < 0.6 * result["losses"][0], "%s: loss did not fall: %s" % (who, result["losses"])
    assert result["speed_lines"] == 10, "%s: %d Speedometer lines" % (who, result["speed_lines"])
    assert result["reload_same"], "%s: Module.load of the checkpoint predicts differently" % who
    assert result["params_same"], "%s: save_params / load_params changed the outputs" % who
    assert result["small_update_changed"] and result["small_outputs"] == [16, 3], who


def test_module_script_runs_with_only_the_import_line_changed(run_script_both_ways):
    theirs, ours = run_script_both_ways(SCRIPT, import_lines=1)
    _check_learned(theirs, "MXNet 1.9.1")
    _check_learned(ours, "Polymix")
    for key in ("checkpoint_keys", "symbol_arguments", "predict_shape", "small_metric", "files"):
        assert ours[key] == theirs[key], "%s: Polymix %s, MXNet %s" % (key, ours[key], theirs[key])


def _build_symbol(mx):
    """module_polymix_side.build_symbol, in MXNet."""
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def _data(workdir):
    rng = np.random.RandomState(3)
    centers = rng.normal(0, 2, size=(3, 5))
    labels = rng.randint(0, 3, size=100)
    features = (centers[labels] + rng.normal(0, 0.5, size=(100, 5))).astype(np.float32)
    np.savez(os.path.join(workdir, "train.npz"), x=features, y=labels.astype(np.float32))
    probe = rng.normal(0, 2, size=(13, 5)).astype(np.float32)
    np.save(os.path.join(workdir, "probe.npy"), probe)
    return features, labels.astype(np.float32), probe


def _predict(mx, mod, probe):
    return mod.predict(mx.io.NDArrayIter(probe, batch_size=len(probe))).asnumpy()


def test_mxnet_module_checkpoint_loads_in_polymix_and_predicts_the_same(mx, tmp_path, run_polymix):
    features, labels, probe = _data(tmp_path)
    mx.random.seed(5)
    mod = mx.mod.Module(_build_symbol(mx))
    # Two epochs, so the BatchNorm moving statistics (aux:) are far from their initial values.
    mod.fit(mx.io.NDArrayIter(features, labels, batch_size=20), num_epoch=2,
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9}, initializer=mx.init.Xavier())
    mod.save_checkpoint(str(tmp_path / "mxnet"), 3)
    # MXNet's training module cannot re-bind for an unlabelled batch of another size: an inference module over
    # its parameters (in memory, not the files) gives the reference.
    inference = mx.mod.Module(_build_symbol(mx))
    inference.bind(data_shapes=[("data", probe.shape)], label_shapes=[("softmax_label", probe.shape[:1])],
                  for_training=False)
    inference.set_params(*mod.get_params())
    expected = _predict(mx, inference, probe)
    run_polymix(os.path.join(HERE, "module_polymix_side.py"), tmp_path, "load")
    np.testing.assert_allclose(np.load(str(tmp_path / "polymix_on_mxnet.npy")), expected, rtol=1e-5, atol=1e-6)


def test_polymix_module_checkpoint_loads_in_mxnet_and_predicts_the_same(mx, tmp_path, run_polymix):
    _data(tmp_path)
    run_polymix(os.path.join(HERE, "module_polymix_side.py"), tmp_path, "make")
    probe = np.load(str(tmp_path / "probe.npy"))
    params = mx.nd.load(str(tmp_path / "polymix-0002.params"))
    assert sorted(params) == ["arg:bn1_beta", "arg:bn1_gamma", "arg:fc1_bias", "arg:fc1_weight", "arg:fc2_bias",
                              "arg:fc2_weight", "aux:bn1_moving_mean", "aux:bn1_moving_var"]
    assert np.abs(params["aux:bn1_moving_mean"].asnumpy()).max() > 0.01, "the moving mean was never updated"
    mod = mx.mod.Module.load(str(tmp_path / "polymix"), 2)
    mod.bind(data_shapes=[("data", probe.shape)], label_shapes=[("softmax_label", probe.shape[:1])],
                  for_training=False)
    np.testing.assert_allclose(_predict(mx, mod, probe), np.load(str(tmp_path / "polymix_made.npy")), rtol=1e-5,
                               atol=1e-6)
