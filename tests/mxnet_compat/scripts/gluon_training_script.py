"""An MXNet 1.x Gluon training script, written for MXNet: test_script_compat.py runs it under MXNet 1.9.1 as is
and under Polymix with only the import line changed. It trains a small hybridized CNN on synthetic 3-class
images with the everyday APIs (nd, autograd, gluon.nn/loss/data, Trainer with a scheduler, metric, init,
save/load_parameters, export and SymbolBlock.imports) and prints one RESULT line of JSON."""
import json
import os
import sys

import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, nd
from mxnet.gluon import nn


def make_data(rng, count):
    """Images (count, 1, 8, 8): class k has a bright 4x4 patch in corner k (0, 1, 2), plus noise."""
    labels = rng.randint(0, 3, size=count)
    images = rng.normal(0, 1.0, size=(count, 1, 8, 8)).astype(np.float32)
    for i, label in enumerate(labels):
        row, col = [(0, 0), (0, 4), (4, 0)][label]
        images[i, 0, row:row + 4, col:col + 4] += 1.0
    return images, labels.astype(np.float32)


def build_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(8, kernel_size=3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(pool_size=2), nn.Flatten(), nn.Dense(16, activation="relu"), nn.Dropout(0.1),
                nn.Dense(3))
    return net


def evaluate(net, loader):
    metric = mx.metric.Accuracy()
    for data, label in loader:
        metric.update([label], [net(data)])
    return metric.get()[1]


def main(workdir):
    mx.random.seed(7)
    rng = np.random.RandomState(7)
    train_x, train_y = make_data(rng, 600)
    test_x, test_y = make_data(rng, 200)
    train = gluon.data.DataLoader(gluon.data.ArrayDataset(nd.array(train_x), nd.array(train_y)), batch_size=50,
                                  shuffle=True, last_batch="discard")
    test = gluon.data.DataLoader(gluon.data.ArrayDataset(nd.array(test_x), nd.array(test_y)), batch_size=100)

    net = build_net()
    net.initialize(mx.init.Xavier(magnitude=2.24), ctx=mx.cpu())
    net.hybridize()
    schedule = mx.lr_scheduler.FactorScheduler(step=20, factor=0.7, base_lr=0.1)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-4, "lr_scheduler": schedule})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for epoch in range(4):
        metric = mx.metric.Accuracy()
        total = 0.0
        for data, label in train:
            with autograd.record():
                output = net(data)
                loss = loss_fn(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            metric.update([label], [output])
            total += loss.mean().asscalar()
        losses.append(total / len(train))
        print("epoch %d: loss %.4f, train accuracy %.3f" % (epoch, losses[-1], metric.get()[1]))
    accuracy = evaluate(net, test)

    params_file = os.path.join(workdir, "net.params")
    net.save_parameters(params_file)
    reloaded = build_net()
    reloaded.load_parameters(params_file, ctx=mx.cpu())
    same_after_reload = bool(evaluate(reloaded, test) == accuracy)

    prefix = os.path.join(workdir, "net")
    net.export(prefix, epoch=3)
    imported = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0003.params", ctx=mx.cpu())
    probe = nd.array(test_x[:5])
    exported_matches = bool(np.allclose(imported(probe).asnumpy(), net(probe).asnumpy(), atol=1e-5))

    print("RESULT " + json.dumps({"accuracy": float(accuracy), "losses": losses, "reload_same": same_after_reload,
                                  "export_same": exported_matches}))


if __name__ == "__main__":
    main(sys.argv[1])
