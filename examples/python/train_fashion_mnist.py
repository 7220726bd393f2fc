"""The main job, in Python: a hybridized Gluon CNN trained on Fashion-MNIST, written as MXNet 1.x code with
`import polymix as mx`.

It reads Debian's dataset-fashion-mnist (gluon.data.vision.FashionMNIST's default root when installed), trains
conv-BN-relu-pool x2 + Dense layers with Dropout using Adam, prints a progress bar and per-epoch loss, accuracy
and throughput, exports the model in MXNet's format (<prefix>-symbol.json + <prefix>-0000.params), reloads it
with SymbolBlock.imports and prints predictions for a few test images with their true labels.

    bazel run --config=opt //examples/python:train_fashion_mnist -- [--epochs N] [--batch-size B] [--data DIR]
                                                                      [--out PREFIX] [--limit N] [--lr LR]
"""

import argparse
import os
import sys
import time

import numpy as np

import polymix as mx
from polymix import autograd, gluon
from polymix.gluon import nn
from polymix.gluon.data.vision import transforms

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
# Fashion-MNIST's pixel mean and standard deviation (of values scaled to [0, 1]).
MEAN, STD = 0.286, 0.353


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.002, help="Adam's learning rate")
    parser.add_argument("--data", default=None, help="folder with the IDX files (default: FashionMNIST's root)")
    parser.add_argument("--out", default=None, help="export prefix (default: $TEST_TMPDIR or /tmp, + "
                        "/polymix-fashion-mnist-gluon)")
    parser.add_argument("--limit", type=int, default=0,
                        help="use only the first N training and N test images (quick smoke runs)")
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    args = parser.parse_args(argv)
    if args.epochs <= 0 or args.batch_size <= 0:
        parser.error("--epochs and --batch-size must be positive, given %d and %d" % (args.epochs, args.batch_size))
    if args.out is None:
        args.out = os.path.join(os.environ.get("TEST_TMPDIR", "/tmp"), "polymix-fashion-mnist-gluon")
    return args


def build_network():
    """conv(32)-BN-relu-pool, conv(64)-BN-relu-pool, Dense(128)-relu, Dropout, Dense(10)."""
    net = nn.HybridSequential()
    with net.name_scope():
        for channels in (32, 64):
            net.add(nn.Conv2D(channels, kernel_size=3, padding=1, use_bias=False), nn.BatchNorm(),
                    nn.Activation("relu"), nn.MaxPool2D(pool_size=2, strides=2))
        net.add(nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dropout(0.25), nn.Dense(len(CLASSES)))
    return net


def load_data(args):
    """Training and test DataLoaders: uint8 HWC images become normalized float32 CHW tensors."""
    kwargs = {} if args.data is None else {"root": args.data}
    train_set = gluon.data.vision.FashionMNIST(train=True, **kwargs)
    test_set = gluon.data.vision.FashionMNIST(train=False, **kwargs)
    image, _ = train_set[0]
    print("Fashion-MNIST from %s: %d training and %d test images of %dx%d"
          % (train_set._root, len(train_set), len(test_set), image.shape[0], image.shape[1]))
    if args.limit:
        train_set = train_set.take(args.limit)
        test_set = test_set.take(args.limit)
    transformer = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    train_loader = gluon.data.DataLoader(train_set.transform_first(transformer), batch_size=args.batch_size,
                                         shuffle=True, num_workers=args.num_workers)
    test_loader = gluon.data.DataLoader(test_set.transform_first(transformer), batch_size=500,
                                        num_workers=args.num_workers)
    return train_loader, test_loader, len(train_set), test_set, transformer


def evaluate(net, loader):
    """Accuracy of `net` (in prediction mode) over a DataLoader."""
    metric = mx.metric.Accuracy()
    for data, label in loader:
        metric.update(labels=[label], preds=[net(data)])
    return metric.get()[1]


class ProgressBar:
    """One line rewritten in place: epoch, bar, images seen, running loss, accuracy and throughput."""

    def __init__(self, epoch, epochs, total, width=30):
        self.epoch, self.epochs, self.total, self.width = epoch, epochs, total, width
        self.start = time.time()
        self.last_draw = 0.0
        self.last_seen = -1
        self.interactive = sys.stdout.isatty()

    def update(self, seen, loss, accuracy, force=False):
        now = time.time()
        # Redraw at most 4 times a second on a terminal, every 10 seconds in a log.
        if seen == self.last_seen or (not force and now - self.last_draw < (0.25 if self.interactive else 10.0)):
            return
        self.last_draw, self.last_seen = now, seen
        done = int(self.width * seen / self.total)
        bar = "=" * done + (">" if done < self.width else "") + " " * max(0, self.width - done - 1)
        line = "epoch %d/%d [%s] %d/%d  loss %.4f  acc %.4f  %.0f img/s" % (
            self.epoch, self.epochs, bar, seen, self.total, loss, accuracy, seen / max(now - self.start, 1e-9))
        print(("\r" + line) if self.interactive else line, end="" if self.interactive else "\n", flush=True)

    def elapsed(self):
        return time.time() - self.start


def train(net, train_loader, train_size, test_loader, args):
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    test_accuracy = 0.0
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        if epoch == args.epochs and args.epochs > 2:
            trainer.set_learning_rate(trainer.learning_rate / 4)  # A short low-rate finish.
        metric = mx.metric.Accuracy()
        loss_sum, seen = 0.0, 0
        bar = ProgressBar(epoch, args.epochs, train_size)
        for data, label in train_loader:
            with autograd.record():
                output = net(data)
                loss = loss_fn(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            metric.update(labels=[label], preds=[output])
            loss_sum += loss.sum().asscalar()
            seen += data.shape[0]
            bar.update(seen, loss_sum / seen, metric.get()[1])
        bar.update(seen, loss_sum / seen, metric.get()[1], force=True)
        seconds = bar.elapsed()
        test_accuracy = evaluate(net, test_loader)
        print("%sepoch %d/%d: train loss %.4f, train acc %.4f, test acc %.4f, %.0f img/s, %.1f s"
              % ("\r" if bar.interactive else "", epoch, args.epochs, loss_sum / seen, metric.get()[1], test_accuracy,
                 seen / seconds, seconds) + (" " * 20 if bar.interactive else ""))
    print("Trained in %.1f s; test accuracy %.2f%%" % (time.time() - start, 100 * test_accuracy))
    return test_accuracy


def predict(original, test_set, transformer, args, test_accuracy, test_loader, shown=8):
    """Exports, reloads with SymbolBlock.imports, checks the reloaded model and prints some predictions."""
    symbol_file, params_file = original.export(args.out, epoch=0)
    print("Exported %s and %s" % (symbol_file, params_file))
    reloaded = gluon.SymbolBlock.imports(symbol_file, ["data"], params_file, ctx=mx.cpu())
    reloaded.hybridize()
    reloaded_accuracy = evaluate(reloaded, test_loader)
    print("Reloaded model: test accuracy %.2f%%" % (100 * reloaded_accuracy))
    images = mx.nd.stack(*[transformer(test_set[i][0]) for i in range(shown)])
    labels = [int(test_set[i][1]) for i in range(shown)]
    probabilities = mx.nd.softmax(reloaded(images)).asnumpy()
    expected = mx.nd.softmax(original(images)).asnumpy()
    print("Predictions of the reloaded model on the first %d test images:" % shown)
    for i, (row, label) in enumerate(zip(probabilities, labels)):
        guess = int(np.argmax(row))
        print("  image %d: predicted %-12s (p = %.4f), true %-12s %s"
              % (i, CLASSES[guess], row[guess], CLASSES[label], "ok" if guess == label else "WRONG"))
    if abs(reloaded_accuracy - test_accuracy) > 1e-6 or not np.allclose(probabilities, expected, atol=1e-5):
        print("error: the reloaded model does not predict what the trained one does", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mx.random.seed(42)
    np.random.seed(42)
    train_loader, test_loader, train_size, test_set, transformer = load_data(args)
    net = build_network()
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    net.hybridize(static_alloc=True, static_shape=True)
    test_accuracy = train(net, train_loader, train_size, test_loader, args)
    return predict(net, test_set, transformer, args, test_accuracy, test_loader)


if __name__ == "__main__":
    sys.exit(main())
