"""Core errors arrive as mx.base.MXNetError subclasses that also subclass the matching builtin."""

import numpy as np
import pytest

import polymix as mx
from polymix import _core

KINDS = {1: RuntimeError, 2: ValueError, 3: TypeError, 4: IndexError, 5: NotImplementedError, 6: MemoryError}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_error_kind_maps_to_mxnet_error_and_the_builtin(kind):
    with pytest.raises(mx.base.MXNetError) as caught:
        _core._raise_error(kind, "[op] what was expected, what was given")
    assert isinstance(caught.value, KINDS[kind])
    assert str(caught.value) == "[op] what was expected, what was given"


def test_a_shape_error_is_caught_both_ways():
    a, b = mx.nd.ones((2, 3)), mx.nd.ones((4, 5))
    with pytest.raises(mx.base.MXNetError):
        (a + b).wait_to_read()
    try:
        (a + b).wait_to_read()
    except ValueError as error:  # The same error, caught as the builtin.
        assert "broadcast_add" in str(error)
    else:
        raise AssertionError("no error")


def test_errors_of_operator_calls_name_the_operator():
    x = mx.nd.ones((2, 3))
    with pytest.raises(ValueError, match="unknown_param"):
        mx.nd.sum(x, unknown_param=1)
    with pytest.raises(ValueError, match="num_hidden"):
        mx.nd.FullyConnected(x, mx.nd.ones((4, 3)), mx.nd.ones((4,)))  # num_hidden is required.
    with pytest.raises(ValueError, match="FullyConnected"):
        mx.nd.FullyConnected(x, mx.nd.ones((4, 5)), mx.nd.ones((4,)), num_hidden=4)
    with pytest.raises(ValueError, match="complex64"):  # A bad parameter value.
        mx.nd.zeros((2,), dtype="complex64")
    with pytest.raises(TypeError, match="complex64"):  # A dtype Polymix does not have.
        mx.nd.array([1, 2], dtype="complex64")
    with pytest.raises(TypeError):
        mx.nd.relu([1, 2, 3])  # Not an NDArray.
    with pytest.raises(ValueError, match="unknown operator|no operator"):
        _core.get_op("NoSuchOperator")


def test_out_of_range_and_unsupported_devices():
    with pytest.raises(IndexError):
        mx.nd.ones((2, 2))[5]
    if mx.context.num_gpus() == 0:
        with pytest.raises(NotImplementedError):
            mx.nd.zeros((2,), ctx=mx.gpu(0)).wait_to_read()
        with pytest.raises(mx.base.MXNetError):
            mx.nd.array(np.ones(3), ctx=mx.gpu(0))


def test_an_asynchronous_error_does_not_break_later_work():
    with pytest.raises(ValueError):
        (mx.nd.ones((2, 3)) + mx.nd.ones((3, 2))).wait_to_read()
    good = mx.nd.ones((2, 2)) * 3
    np.testing.assert_array_equal(good.asnumpy(), np.full((2, 2), 3))
