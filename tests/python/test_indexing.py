"""x[key] and x[key] = value against NumPy, with MXNet 1.x's differences: an all-integer key keeps one axis
(x[1, 2] has shape (1,), a 1-d x[0] too), and x[i], x[a:b] are views sharing memory."""

import numpy as np
import pytest

import polymix as mx

A = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)


def _mxnet_result(key):
    """NumPy's result of A[key], with MXNet's rule that a scalar result keeps one axis."""
    result = np.asarray(A[key])
    return result.reshape(1) if result.ndim == 0 else result


BASIC_KEYS = [
    1, -1, slice(1, 3), slice(None, None, 2), slice(None, None, -1), slice(-2, None), slice(5, 1),
    (1, 2), (1, 2, 3), (-1, -2, -3), (slice(None), 1), (1, slice(1, 3)), (slice(0, 3, 2), slice(None), 4),
    (Ellipsis, 1), (1, Ellipsis), (1, Ellipsis, 2), (None,), (slice(1, 3), None, slice(None, None, 2)),
    (Ellipsis, None), (slice(None), slice(None), slice(None, None, -2)), (),
]

ADVANCED_KEYS = [
    [0, 2], [2, 0, 2], np.array([1, -1]), ([0, 2], [1, 3]), (slice(1, 3), [0, 3]), ([0, 2], slice(None), [1, 4]),
    (1, [0, 3], [2, 4]), ([[0, 1], [2, 2]],), (np.array([True, False, True]),), (Ellipsis, [0, 4]),
]


@pytest.mark.parametrize("key", BASIC_KEYS + ADVANCED_KEYS, ids=[repr(k) for k in BASIC_KEYS + ADVANCED_KEYS])
def test_getitem_matches_numpy(key):
    result = mx.nd.array(A)[key]
    want = _mxnet_result(key)
    assert result.shape == want.shape, (key, result.shape, want.shape)
    np.testing.assert_array_equal(result.asnumpy(), want)


def test_getitem_with_ndarray_indices():
    x = mx.nd.array(A)
    np.testing.assert_array_equal(x[mx.nd.array([2, 0])].asnumpy(), A[[2, 0]])  # float indices, as MXNet allows
    np.testing.assert_array_equal(x[mx.nd.array([1, 2], dtype="int64"), 0].asnumpy(), A[[1, 2], 0])
    np.testing.assert_array_equal(x[:, mx.nd.array([3], dtype="int32")].asnumpy(), A[:, [3]])


def test_one_dimensional_integer_index_keeps_an_axis():
    x = mx.nd.array([1, 2, 3])
    assert x[0].shape == (1,) and x[-1].asscalar() == 3
    assert x[1:2].shape == (1,)


def test_views_share_memory():
    x = mx.nd.array(A)
    row, rows, element = x[1], x[1:3], x[2, 3, 4]
    assert row.shape == (4, 5) and rows.shape == (2, 4, 5)
    for view in (row, rows, element):
        assert view.handle.shares_memory_with(x.handle)
    x[:] = 0
    assert row.asnumpy().sum() == 0 and rows.asnumpy().sum() == 0 and element.asscalar() == 0
    row[:] = 7  # Writes through a view reach the base.
    assert (x.asnumpy()[1] == 7).all()


@pytest.mark.parametrize("key", [
    0, -1, slice(None), slice(1, 3), slice(None, None, 2), (1, 2), (1, 2, 3), (slice(None), 1),
    (slice(0, 2), slice(1, 4, 2), -1), Ellipsis, (Ellipsis, 0), [0, 2], ([0, 2], [1, 3]), (slice(None), [0, 3]),
], ids=repr)
def test_setitem_matches_numpy(key):
    for value_kind in ("scalar", "array", "ndarray", "broadcast"):
        want = A.copy()
        x = mx.nd.array(A)
        shape = np.asarray(want[key]).shape
        if value_kind == "scalar":
            value = -3.5
        elif value_kind == "broadcast":
            value = np.arange(shape[-1], dtype=np.float32) - 100 if shape else -100.0
        else:
            value = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 50
        want[key] = value
        x[key] = mx.nd.array(value) if value_kind == "ndarray" else value
        np.testing.assert_array_equal(x.asnumpy(), want, err_msg="%r %s" % (key, value_kind))


def test_setitem_converts_dtypes_and_lists():
    x = mx.nd.zeros((2, 3), dtype="int32")
    x[0] = [1.9, 2.2, 3.7]
    x[1, 1:] = mx.nd.array([5.5, 6.5])
    np.testing.assert_array_equal(x.asnumpy(), [[1, 2, 3], [0, 5, 6]])
    y = mx.nd.zeros((2, 2))
    y[:] = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(y.asnumpy(), [[1, 2], [3, 4]])


def test_index_errors():
    x = mx.nd.array(A)
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError):
        x[[0, 5]]
    with pytest.raises(IndexError):
        x[1, 7] = 1
    with pytest.raises(ValueError):
        x[::0]
    with pytest.raises(IndexError):
        x["a"]
