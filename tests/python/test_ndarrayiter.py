"""mx.io.NDArrayIter: batching over three epochs for every last_batch_handle, naming of list and dict inputs,
padding beyond one epoch, shuffling, provide_data / provide_label, and the DataIter protocol (expected values
worked out by hand from MXNet 1.9.1's rules and checked against it)."""

import numpy as np
import pytest

import polymix as mx

X = np.arange(20).reshape(10, 2).astype(np.float32)
Y = np.arange(10)


def _epochs(iterator, count=3):
    """[(data rows' first column, labels, pad), ...] over `count` epochs."""
    seen = []
    for _ in range(count):
        for batch in iterator:
            seen.append((batch.data[0].asnumpy()[:, 0].tolist(), batch.label[0].asnumpy().tolist(), batch.pad))
        iterator.reset()
    return seen


def test_pad_fills_the_last_batch_from_the_start():
    epoch = [([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0), ([16, 18, 0, 2], [8, 9, 0, 1], 2)]
    assert _epochs(mx.io.NDArrayIter(X, Y, batch_size=4)) == epoch * 3


def test_discard_drops_the_last_batch():
    epoch = [([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0)]
    assert _epochs(mx.io.NDArrayIter(X, Y, batch_size=4, last_batch_handle="discard")) == epoch * 3


def test_roll_over_starts_the_next_epoch_with_the_leftovers():
    iterator = mx.io.NDArrayIter(X, Y, batch_size=4, last_batch_handle="roll_over")
    assert _epochs(iterator) == [
        ([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0),
        ([16, 18, 0, 2], [8, 9, 0, 1], 2), ([4, 6, 8, 10], [2, 3, 4, 5], 0), ([12, 14, 16, 18], [6, 7, 8, 9], 0),
        ([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0)]
    iterator.hard_reset()  # Drops the leftovers.
    assert iterator.next().label[0].asnumpy().tolist() == [0, 1, 2, 3]


def test_provide_data_and_dtypes():
    iterator = mx.io.NDArrayIter(X, Y, batch_size=4)
    assert [repr(desc) for desc in iterator.provide_data + iterator.provide_label] == [
        "DataDesc[data,(4, 2),<class 'numpy.float32'>,NCHW]",
        "DataDesc[softmax_label,(4,),<class 'numpy.float32'>,NCHW]"]
    desc = iterator.provide_data[0]
    assert desc.name == "data" and desc.shape == (4, 2) and desc == ("data", (4, 2))
    integers = mx.io.NDArrayIter(mx.nd.arange(10).astype("int32"), batch_size=5, label_name="y")
    assert integers.provide_data[0].dtype == np.int32 and integers.provide_label == []
    assert integers.next().label == []


def test_names_of_dict_and_list_inputs():
    by_name = mx.io.NDArrayIter({"b": X, "a": X * 2}, {"lab": Y}, batch_size=3)
    assert [desc.name for desc in by_name.provide_data] == ["a", "b"]  # Sorted by name, as MXNet.
    batch = by_name.next()
    assert batch.data[0].asnumpy()[:, 0].tolist() == [0, 4, 8] and by_name.provide_label[0].name == "lab"
    listed = mx.io.NDArrayIter([X, X + 1], None, batch_size=25)
    assert [desc.name for desc in listed.provide_data] == ["_0_data", "_1_data"]
    batch = listed.next()  # 25 > 10 examples: the data repeats, 15 of them padding.
    assert batch.data[1].shape == (25, 2) and batch.pad == 15
    np.testing.assert_array_equal(batch.data[1].asnumpy()[:, 0], (np.arange(25) % 10) * 2 + 1)


def test_shuffle_permutes_data_and_labels_together():
    np.random.seed(3)
    iterator = mx.io.NDArrayIter(X, Y, batch_size=5, shuffle=True)
    orders = []
    for _ in range(2):
        batches = list(iterator)
        rows = np.concatenate([batch.data[0].asnumpy() for batch in batches])
        labels = np.concatenate([batch.label[0].asnumpy() for batch in batches])
        np.testing.assert_array_equal(rows[:, 0], labels * 2)  # Examples stay with their labels.
        assert sorted(labels.tolist()) == list(range(10))
        orders.append(labels.tolist())
        iterator.reset()  # Shuffles again.
    assert orders[0] != list(range(10)) and orders[0] != orders[1]


def test_the_data_iter_protocol_and_errors():
    iterator = mx.io.NDArrayIter(mx.nd.array(X), mx.nd.array(Y), batch_size=5)
    batches = list(iterator)
    assert len(batches) == 2 and isinstance(batches[0], mx.io.DataBatch)
    assert "data shapes: [(5, 2)] label shapes: [(5,)]" in str(batches[0])
    with pytest.raises(StopIteration):
        iterator.next()
    resized = mx.io.ResizeIter(mx.io.NDArrayIter(X, Y, batch_size=4), 5)
    assert [batch.label[0].asnumpy()[0] for batch in resized] == [0, 4, 8, 0, 4]
    with pytest.raises(ValueError):
        mx.io.NDArrayIter(X, Y, last_batch_handle="wrap")
    with pytest.raises(ValueError):
        mx.io.NDArrayIter(X, Y[:5])
    with pytest.raises(TypeError):
        mx.io.NDArrayIter(42)
