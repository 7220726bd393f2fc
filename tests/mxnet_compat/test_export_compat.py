"""A model trained and exported by Polymix (examples/cpp/train_fashion_mnist: <prefix>-symbol.json and
<prefix>-0000.params) loads in the real MXNet 1.9.1 with mx.model.load_checkpoint and predicts what Polymix
predicted."""
import gzip
import os
import re
import subprocess

import numpy as np
import pytest

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PREDICTION = re.compile(r"image (\d+): predicted (.+?)\s+\(p = ([0-9.]+)\)")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    example = os.environ.get("POLYMIX_TRAIN_EXAMPLE")
    assert example and os.path.exists(example), "set POLYMIX_TRAIN_EXAMPLE to the built train_fashion_mnist " \
        "(tools/test_all does)"
    prefix = str(tmp_path_factory.mktemp("export") / "cnn")
    run = subprocess.run([example, "--epochs", "1", "--limit", "1024", "--batch-size", "64", "--out", prefix],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    predictions = [(int(i), CLASSES.index(name.strip()), float(p)) for i, name, p in PREDICTION.findall(run.stdout)]
    assert len(predictions) == 8, run.stdout
    return prefix, predictions


def test_mxnet_loads_the_exported_model_and_predicts_the_same(mx, exported):
    prefix, predictions = exported
    symbol, arg_params, aux_params = mx.model.load_checkpoint(prefix, 0)
    with gzip.open(os.path.join(FASHION_MNIST, "t10k-images-idx3-ubyte.gz")) as images:
        x = np.frombuffer(images.read()[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)[:8].astype(np.float32) / 255
    executor = symbol.simple_bind(mx.cpu(), data=(8, 1, 28, 28), softmax_label=(8,), grad_req="null")
    executor.copy_params_from(arg_params, aux_params)
    executor.forward(is_train=False, data=mx.nd.array(x))
    probabilities = executor.outputs[0].asnumpy()
    for index, label, p in predictions:
        assert int(np.argmax(probabilities[index])) == label
        assert abs(float(probabilities[index].max()) - p) <= 2e-4
