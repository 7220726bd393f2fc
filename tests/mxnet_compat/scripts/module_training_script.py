"""An MXNet 1.x symbolic training script (the Module API), written for MXNet: test_module_compat.py runs it under
MXNet 1.9.1 as is and under Polymix with only the import line changed. It builds an MLP with BatchNorm from
mx.sym, trains it with Module.fit (NDArrayIter, Xavier, SGD with momentum and a schedule, a composite metric,
Speedometer, do_checkpoint, eval_data), then uses the checkpoint (mx.model.load_checkpoint, Module.load),
predict, score, a manual forward/backward/update loop with a smaller batch, and save/load_params; it prints one
RESULT line of JSON."""
import json
import logging
import os
import re
import sys

import numpy as np
import mxnet as mx


class TrainLines(logging.Handler):
    """Collects fit's 'Epoch[%d] Train-cross-entropy=%f' log lines."""

    def __init__(self):
        super().__init__()
        self.losses = []
        self.speed_lines = 0

    def emit(self, record):
        message = record.getMessage()
        found = re.match(r"Epoch\[(\d+)\] Train-cross-entropy=([0-9.]+)$", message)
        if found:
            self.losses.append(float(found.group(2)))
        if re.match(r"Epoch\[\d+\] Batch \[\d+-\d+\]\tSpeed: [0-9.]+ samples/sec\taccuracy=[0-9.]+\t"
                    r"cross-entropy=[0-9.]+$", message):
            self.speed_lines += 1


def make_data(rng, directions, count):
    """Points in 6 dimensions: the class (0, 1, 2) is which of three directions the point leans to."""
    labels = rng.randint(0, 3, size=count)
    points = directions[labels] + rng.normal(0, 0.8, size=(count, 6))
    return points.astype(np.float32), labels.astype(np.float32)


def build_symbol():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=32, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def main(workdir):
    mx.random.seed(11)
    np.random.seed(11)
    rng = np.random.RandomState(11)
    directions = rng.normal(0, 1, size=(3, 6))
    train_x, train_y = make_data(rng, directions, 600)
    test_x, test_y = make_data(rng, directions, 150)
    train_iter = mx.io.NDArrayIter(train_x, train_y, batch_size=40, shuffle=True)
    val_iter = mx.io.NDArrayIter(test_x, test_y, batch_size=50)

    lines = TrainLines()
    logging.getLogger().addHandler(lines)
    logging.getLogger().setLevel(logging.INFO)

    prefix = os.path.join(workdir, "mlp")
    mod = mx.mod.Module(build_symbol(), context=mx.cpu(), data_names=["data"], label_names=["softmax_label"])
    mod.fit(train_iter, eval_data=val_iter, eval_metric=mx.metric.create(["acc", "ce"]),
            optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-4,
                              "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=30, factor=0.8)},
            initializer=mx.init.Xavier(magnitude=2.0), num_epoch=5, kvstore="local",
            batch_end_callback=mx.callback.Speedometer(40, 5),
            epoch_end_callback=mx.callback.do_checkpoint(prefix))
    accuracy = dict(mod.score(val_iter, "acc"))["accuracy"]
    predictions = mod.predict(val_iter).asnumpy()

    symbol, arg_params, aux_params = mx.model.load_checkpoint(prefix, 5)
    checkpoint_keys = sorted(arg_params) + sorted("aux:" + name for name in aux_params)
    loaded = mx.mod.Module.load(prefix, 5)
    loaded.bind(data_shapes=val_iter.provide_data, label_shapes=val_iter.provide_label, for_training=False)
    reload_same = bool(np.allclose(loaded.predict(val_iter).asnumpy(), predictions, atol=1e-5))

    # A manual loop: forward/backward/update on a smaller batch, then metrics by hand.
    small = mx.io.DataBatch(data=[mx.nd.array(train_x[:16])], label=[mx.nd.array(train_y[:16])])
    before = mod.get_params()[0]["fc2_weight"].asnumpy().copy()
    mod.forward(small, is_train=True)
    mod.backward()
    mod.update()
    small_outputs = mod.get_outputs()[0].shape
    changed = bool(np.abs(mod.get_params()[0]["fc2_weight"].asnumpy() - before).max() > 0)
    metric = mx.metric.Accuracy()
    mod.update_metric(metric, small.label)

    params_file = os.path.join(workdir, "mlp.params")
    mod.save_params(params_file)
    other = mx.mod.Module(build_symbol())
    other.bind(data_shapes=[("data", (50, 6))], label_shapes=[("softmax_label", (50,))], for_training=False)
    other.init_params()
    other.load_params(params_file)
    probe = mx.io.DataBatch([mx.nd.array(test_x[:50])], [mx.nd.array(test_y[:50])])
    mod.forward(probe, is_train=False)
    other.forward(probe, is_train=False)
    params_same = bool(np.allclose(mod.get_outputs()[0].asnumpy(), other.get_outputs()[0].asnumpy(), atol=1e-6))

    print("RESULT " + json.dumps({
        "accuracy": float(accuracy), "losses": lines.losses, "speed_lines": lines.speed_lines,
        "reload_same": reload_same, "checkpoint_keys": checkpoint_keys,
        "symbol_arguments": symbol.list_arguments(), "predict_shape": list(predictions.shape),
        "small_outputs": list(small_outputs), "small_update_changed": changed,
        "small_metric": metric.get()[0], "params_same": params_same,
        "files": sorted(os.listdir(workdir))}))


if __name__ == "__main__":
    main(sys.argv[1])
