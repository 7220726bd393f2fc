"""gluon.data: datasets, samplers, DataLoader batching (same-thread, worker threads and worker processes), the
MNIST/Fashion-MNIST readers on IDX files written here, and the vision transforms against NumPy."""

import gzip
import os
import random
import struct

import numpy as np
import pytest

import polymix as mx
from polymix import gluon
from polymix.gluon.data import vision
from polymix.gluon.data.vision import transforms

RNG = np.random.default_rng(31)


# ---- Datasets and samplers --------------------------------------------------------------------------------

def test_array_dataset_and_derived_datasets():
    data = np.arange(20).reshape(10, 2)
    labels = mx.nd.arange(10)
    dataset = gluon.data.ArrayDataset(data, labels)
    assert len(dataset) == 10
    sample, label = dataset[3]
    np.testing.assert_array_equal(sample, [6, 7])
    assert label == 3 and isinstance(label, np.floating)  # 1-D NDArrays are read as NumPy, as in MXNet.
    with pytest.raises(ValueError, match="same length"):
        gluon.data.ArrayDataset(data, np.arange(3))
    doubled = dataset.transform_first(lambda x: x * 2)
    np.testing.assert_array_equal(doubled[3][0], [12, 14])
    assert doubled[3][1] == 3
    eager = dataset.transform(lambda x, y: (x.sum(), y), lazy=False)
    assert isinstance(eager, gluon.data.SimpleDataset) and eager[4][0] == 17
    assert [int(item[1]) for item in dataset.filter(lambda item: item[1] % 3 == 0)] == [0, 3, 6, 9]
    shards = [dataset.shard(3, i) for i in range(3)]
    assert [len(shard) for shard in shards] == [4, 3, 3] and shards[1][0][1] == 4
    assert len(dataset.take(4)) == 4 and len(dataset.take(None)) == 10
    assert gluon.data.SimpleDataset([5, 6, 7])[1] == 6


def test_samplers():
    assert list(gluon.data.SequentialSampler(4)) == [0, 1, 2, 3]
    assert list(gluon.data.SequentialSampler(3, start=5)) == [5, 6, 7]
    shuffled = list(gluon.data.RandomSampler(50))
    assert sorted(shuffled) == list(range(50)) and shuffled != list(range(50))
    assert list(gluon.data.IntervalSampler(7, 3)) == [0, 3, 6, 1, 4, 2, 5]
    assert list(gluon.data.IntervalSampler(7, 3, rollover=False)) == [0, 3, 6]
    batches = gluon.data.BatchSampler(gluon.data.SequentialSampler(7), 3, "keep")
    assert list(batches) == [[0, 1, 2], [3, 4, 5], [6]] and len(batches) == 3
    batches = gluon.data.BatchSampler(gluon.data.SequentialSampler(7), 3, "discard")
    assert list(batches) == [[0, 1, 2], [3, 4, 5]] and len(batches) == 2
    batches = gluon.data.BatchSampler(gluon.data.SequentialSampler(7), 3, "rollover")
    assert list(batches) == [[0, 1, 2], [3, 4, 5]]
    assert list(batches) == [[6, 0, 1], [2, 3, 4]]  # The leftover 6 starts the next pass.
    with pytest.raises(ValueError, match="last_batch must be one of"):
        gluon.data.BatchSampler(gluon.data.SequentialSampler(7), 3, "other")


# ---- DataLoader -----------------------------------------------------------------------------------------------

def _dataset(count=10):
    images = mx.nd.array(RNG.normal(size=(count, 2, 3)))
    labels = np.arange(count).astype(np.int32)
    return gluon.data.ArrayDataset(images, labels), images.asnumpy(), labels


def test_data_loader_batches_in_order_with_mxnet_types():
    dataset, images, labels = _dataset()
    loader = gluon.data.DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    data, label = batches[0]
    assert isinstance(data, mx.nd.NDArray) and data.shape == (4, 2, 3)
    assert label.dtype == np.int32 and label.shape == (4,)
    np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in batches]), images)
    np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in batches]), labels)
    assert [b[0].shape[0] for b in gluon.data.DataLoader(dataset, 4, last_batch="discard")] == [4, 4]
    rollover = gluon.data.DataLoader(dataset, 4, last_batch="rollover")
    assert [b[0].shape[0] for b in rollover] == [4, 4] and len(list(rollover)) == 3


def test_data_loader_shuffles_samplers_and_custom_batchify():
    dataset, _, labels = _dataset(12)
    seen = np.concatenate([label.asnumpy() for _, label in gluon.data.DataLoader(dataset, 5, shuffle=True)])
    assert sorted(seen) == list(labels)
    sampler = gluon.data.BatchSampler(gluon.data.SequentialSampler(12, start=0), 6)
    loader = gluon.data.DataLoader(dataset, batch_sampler=sampler, batchify_fn=lambda samples: len(samples))
    assert list(loader) == [6, 6]
    with pytest.raises(ValueError, match="must not be specified if batch_sampler"):
        gluon.data.DataLoader(dataset, batch_size=3, batch_sampler=sampler)
    with pytest.raises(ValueError, match="batch_size must be specified"):
        gluon.data.DataLoader(dataset)
    with pytest.raises(ValueError, match="shuffle must not be specified"):
        gluon.data.DataLoader(dataset, 3, shuffle=True, sampler=gluon.data.SequentialSampler(12))


@pytest.mark.parametrize("thread_pool", [True, False])
def test_worker_loaders_give_the_same_batches(thread_pool):
    dataset, images, labels = _dataset(11)
    loader = gluon.data.DataLoader(dataset, batch_size=3, num_workers=2, thread_pool=thread_pool)
    for _ in range(2):  # The pool serves several passes.
        batches = list(loader)
        assert [b[0].shape[0] for b in batches] == [3, 3, 3, 2]
        np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in batches]), images)
        np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in batches]), labels)


# ---- MNIST / Fashion-MNIST ------------------------------------------------------------------------------

def _write_idx(folder, prefix, images, labels, compress):
    opener = gzip.open if compress else open
    suffix = ".gz" if compress else ""
    with opener(os.path.join(folder, "%s-labels-idx1-ubyte%s" % (prefix, suffix)), "wb") as stream:
        stream.write(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())
    with opener(os.path.join(folder, "%s-images-idx3-ubyte%s" % (prefix, suffix)), "wb") as stream:
        stream.write(struct.pack(">IIII", 2051, len(images), 28, 28) + images.astype(np.uint8).tobytes())


def test_mnist_reads_idx_files_compressed_or_not(tmp_path):
    train_images = RNG.integers(0, 256, size=(6, 28, 28))
    train_labels = RNG.integers(0, 10, size=6)
    test_images = RNG.integers(0, 256, size=(3, 28, 28))
    test_labels = RNG.integers(0, 10, size=3)
    _write_idx(str(tmp_path), "train", train_images, train_labels, compress=True)
    _write_idx(str(tmp_path), "t10k", test_images, test_labels, compress=False)
    train = vision.FashionMNIST(root=str(tmp_path), train=True)
    assert len(train) == 6
    image, label = train[2]
    assert image.shape == (28, 28, 1) and image.dtype == np.uint8 and label.dtype == np.int32
    np.testing.assert_array_equal(image.asnumpy()[:, :, 0], train_images[2])
    assert label == train_labels[2]
    test = vision.MNIST(root=str(tmp_path), train=False, transform=lambda x, y: (x.astype("float32") / 255, y + 1))
    image, label = test[1]
    np.testing.assert_allclose(image.asnumpy()[:, :, 0], test_images[1] / 255, rtol=1e-6)
    assert label == test_labels[1] + 1
    loader = gluon.data.DataLoader(train.transform_first(transforms.ToTensor()), batch_size=4)
    data, labels = next(iter(loader))
    assert data.shape == (4, 1, 28, 28) and data.dtype == np.float32
    np.testing.assert_allclose(data.asnumpy()[:, 0], train_images[:4] / 255, rtol=1e-6)
    np.testing.assert_array_equal(labels.asnumpy(), train_labels[:4])


@pytest.mark.skipif(not os.path.isdir(vision.DEBIAN_FASHION_MNIST), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_defaults_to_debians_files():
    test = vision.FashionMNIST(train=False)
    assert len(test) == 10000
    image, label = test[0]
    assert image.shape == (28, 28, 1) and 0 <= label < 10
    counts = np.bincount(test._label, minlength=10)
    assert list(counts) == [1000] * 10


# ---- Transforms ---------------------------------------------------------------------------------------------

def test_to_tensor_normalize_cast_and_compose():
    image = RNG.integers(0, 256, size=(4, 5, 3)).astype(np.uint8)
    tensor = transforms.ToTensor()(mx.nd.array(image, dtype="uint8"))
    assert tensor.dtype == np.float32 and tensor.shape == (3, 4, 5)
    np.testing.assert_allclose(tensor.asnumpy(), image.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    batch = transforms.ToTensor()(mx.nd.array(np.stack([image, image]), dtype="uint8"))
    assert batch.shape == (2, 3, 4, 5)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    normalized = transforms.Normalize(mean, std)(tensor).asnumpy()
    want = (image.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(normalized, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(transforms.Normalize(0.5, 0.25)(tensor).asnumpy(),
                               (image.transpose(2, 0, 1) / 255.0 - 0.5) / 0.25, rtol=1e-5, atol=1e-6)
    chain = transforms.Compose([transforms.Cast("float64"), transforms.ToTensor(), transforms.Normalize(0.5, 0.5),
                                lambda x: x * 2])
    out = chain(mx.nd.array(image, dtype="uint8"))
    np.testing.assert_allclose(out.asnumpy(), (image.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5 * 2, rtol=1e-5)


def test_resize_and_crops():
    image = np.arange(2 * 2 * 1, dtype=np.float32).reshape(2, 2, 1) * 10
    nearest = transforms.Resize(4, interpolation=0)(mx.nd.array(image)).asnumpy()
    np.testing.assert_array_equal(nearest[:, :, 0], np.repeat(np.repeat(image[:, :, 0], 2, 0), 2, 1))
    bilinear = transforms.Resize((4, 2))(mx.nd.array(image)).asnumpy()[:, :, 0]
    # Pixel centres: output column j samples input x = (j + 0.5) / 2 - 0.5, clamped to [0, 1].
    np.testing.assert_allclose(bilinear[0], [0, 2.5, 7.5, 10], rtol=1e-6)
    big = RNG.integers(0, 256, size=(10, 8, 3)).astype(np.uint8)
    kept = transforms.Resize(4, keep_ratio=True)(mx.nd.array(big, dtype="uint8"))
    assert kept.shape == (5, 4, 3) and kept.dtype == np.uint8
    center = transforms.CenterCrop((4, 6))(mx.nd.array(big, dtype="uint8")).asnumpy()
    np.testing.assert_array_equal(center, big[2:8, 2:6])
    random.seed(0)
    crop = transforms.RandomResizedCrop(5)(mx.nd.array(big, dtype="uint8"))
    assert crop.shape == (5, 5, 3) and crop.dtype == np.uint8


def test_random_flips_and_colour_changes_follow_python_random():
    image = RNG.uniform(0, 255, size=(3, 4, 3)).astype(np.float32)
    flips = set()
    for seed in range(8):
        random.seed(seed)
        out = transforms.RandomFlipLeftRight()(mx.nd.array(image)).asnumpy()
        assert np.array_equal(out, image) or np.array_equal(out, image[:, ::-1])
        flips.add(np.array_equal(out, image))
        random.seed(seed)
        out = transforms.RandomFlipTopBottom()(mx.nd.array(image)).asnumpy()
        assert np.array_equal(out, image) or np.array_equal(out, image[::-1])
    assert flips == {True, False}
    random.seed(3)
    factor = 1 + random.uniform(-0.4, 0.4)
    random.seed(3)
    np.testing.assert_allclose(transforms.RandomBrightness(0.4)(mx.nd.array(image)).asnumpy(), image * factor,
                               rtol=1e-5)
    gray = (image * [0.299, 0.587, 0.114]).sum(-1, keepdims=True)
    random.seed(3)
    np.testing.assert_allclose(transforms.RandomContrast(0.4)(mx.nd.array(image)).asnumpy(),
                               image * factor + gray.mean() * (1 - factor), rtol=1e-4)
    random.seed(3)
    np.testing.assert_allclose(transforms.RandomSaturation(0.4)(mx.nd.array(image)).asnumpy(),
                               image * factor + gray * (1 - factor), rtol=1e-4)
    random.seed(3)
    hue = transforms.RandomHue(0.0)(mx.nd.array(image)).asnumpy()
    np.testing.assert_allclose(hue, image, rtol=1e-2, atol=0.5)  # A zero rotation (YIQ round trip).
    jitter = transforms.RandomColorJitter(0.1, 0.1, 0.1, 0.1)(mx.nd.array(image.astype(np.uint8), dtype="uint8"))
    assert jitter.shape == image.shape and jitter.dtype == np.uint8
