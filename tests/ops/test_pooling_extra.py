"""Checks of Pooling's gradient loops (_pooling_backward, core/ops/nn/pooling.cc) beyond the one Case per
operator: ties inside windows (the gradient goes to the first maximum only), overlapping windows (stride <
kernel) that accumulate, padding and windows clipped by the 'full' convention or lying wholly in padding, the
2x2/stride-2 fast path on even and odd extents, 1-d/2-d/3-d data in channel-first and channel-last layouts,
every pooling type, and float16 (accumulated in float). The NumPy oracle is cases/nn_dnnl.py's, which follows
MXNet's CPU kernels. The accumulating write mode (kAdd) and bfloat16, which the C ABI cannot request, are
checked in core/ops/pooling_test.cc."""

import numpy as np
import pytest

import pmx_ctypes as pmx
from cases import nn_dnnl as ref

MAX_POOLINGS = [
    # The 2x2/stride-2 path: even extents, odd extents under 'valid' (a last row and column in no window) and
    # under 'full' (clipped last windows).
    ((2, 3, 6, 8), dict(kernel=(2, 2), stride=(2, 2))),
    ((2, 3, 7, 5), dict(kernel=(2, 2), stride=(2, 2))),
    ((2, 3, 7, 5), dict(kernel=(2, 2), stride=(2, 2), pooling_convention="full")),
    # Overlapping windows, with and without padding (windows reaching into the padding).
    ((2, 2, 6, 7), dict(kernel=(3, 3), stride=(1, 1))),
    ((2, 2, 6, 7), dict(kernel=(3, 2), stride=(2, 1), pad=(1, 1))),
    ((1, 2, 5, 5), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full")),
    # Kernel 1 with padding: the corner windows lie wholly in padding and route nothing.
    ((1, 2, 3, 3), dict(kernel=(1, 1), pad=(1, 1))),
    ((2, 3, 9), dict(kernel=(3,), stride=(2,), pad=(1,))),
    ((2, 3, 7), dict(kernel=(2,), stride=(3,), pooling_convention="same")),
    ((1, 2, 4, 5, 6), dict(kernel=(2, 3, 2), stride=(1, 2, 2), pad=(1, 1, 0))),
    ((1, 2, 4, 4, 4), dict(kernel=(2, 2, 2), stride=(2, 2, 2))),
    ((2, 6, 7, 3), dict(kernel=(2, 2), stride=(2, 2), layout="NHWC")),
    ((2, 6, 7, 3), dict(kernel=(3, 3), stride=(1, 2), pad=(1, 1), layout="NHWC")),
    ((2, 9, 3), dict(kernel=(3,), stride=(2,), pad=(1,), layout="NWC")),
    ((1, 4, 5, 4, 2), dict(kernel=(2, 2, 2), stride=(1, 2, 1), layout="NDHWC")),
    ((1, 2, 5, 6), dict(global_pool=True)),
]


def _tied(rng, shape):
    """Values from {-1, 0, 1, 2}: most windows hold several equal maxima."""
    return rng.integers(-1, 3, size=shape).astype(np.float64)


def _backward(x, params, dtype, rng):
    x = x.astype(dtype)
    (y,) = pmx.invoke("Pooling", [x], **params)
    g = rng.uniform(-1, 1, size=y.shape).astype(dtype)
    (dx,) = pmx.invoke("_pooling_backward", [g, x, y], **params)
    return dx, ref.pooling_backward(g, x, y, **params)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,params", MAX_POOLINGS)
def test_max_pooling_gradient_with_ties(shape, params, dtype):
    rng = np.random.default_rng(5)
    dx, want = _backward(_tied(rng, shape), dict(params, pool_type="max"), dtype, rng)
    assert dx.dtype == np.dtype(dtype) and dx.shape == shape
    tolerance = 2e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(dx.astype(np.float64), want.astype(np.float64), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,params", MAX_POOLINGS)
def test_max_pooling_gradient_without_ties(shape, params, dtype):
    rng = np.random.default_rng(6)
    dx, want = _backward(rng.uniform(-2, 2, size=shape), dict(params, pool_type="max"), dtype, rng)
    tolerance = 2e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(dx.astype(np.float64), want.astype(np.float64), rtol=tolerance, atol=tolerance)


def test_each_tied_window_routes_its_gradient_once():
    # 2x2 windows of equal values: only the top-left element of each window receives the gradient.
    x = np.ones((1, 1, 4, 4), np.float32)
    g = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    (y,) = pmx.invoke("Pooling", [x], kernel=(2, 2), stride=(2, 2))
    (dx,) = pmx.invoke("_pooling_backward", [g, x, y], kernel=(2, 2), stride=(2, 2))
    want = np.zeros((4, 4), np.float32)
    want[0::2, 0::2] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(dx[0, 0], want)


def test_overlapping_windows_accumulate_on_a_shared_maximum():
    # The three windows holding the 9 at index 3 all route their gradients (2 + 3 + 4) to it.
    x = np.array([[[0, 1, 2, 9, 2, 1, 0]]], np.float64)
    g = np.array([[[1, 2, 3, 4, 5]]], np.float64)
    (y,) = pmx.invoke("Pooling", [x], kernel=(3,), stride=(1,))
    (dx,) = pmx.invoke("_pooling_backward", [g, x, y], kernel=(3,), stride=(1,))
    np.testing.assert_array_equal(dx, [[[0, 0, 1, 9, 5, 0, 0]]])


OTHER_POOLINGS = [
    ((2, 3, 7, 5), dict(kernel=(3, 2), stride=(2, 1), pad=(1, 1), pool_type="avg", pooling_convention="full")),
    ((2, 3, 7, 5), dict(kernel=(3, 3), stride=(1, 2), pad=(1, 1), pool_type="avg", count_include_pad=False)),
    ((2, 5, 4, 3), dict(kernel=(2, 2), stride=(1, 1), pad=(1, 0), pool_type="sum", layout="NHWC")),
    ((2, 3, 8), dict(kernel=(3,), stride=(2,), pool_type="lp", p_value=2)),
    ((1, 2, 3, 4, 5), dict(kernel=(2, 2, 2), stride=(1, 1, 2), pool_type="lp", p_value=3)),
    ((2, 3, 6, 6), dict(kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=1, layout="NHWC")),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,params", OTHER_POOLINGS)
def test_avg_sum_lp_gradients(shape, params, dtype):
    rng = np.random.default_rng(7)
    dx, want = _backward(rng.uniform(0.2, 2.0, size=shape), params, dtype, rng)
    tolerance = dict(rtol=2e-2, atol=2e-2) if dtype == "float16" else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx.astype(np.float64), want.astype(np.float64), **tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,params", MAX_POOLINGS[:6] + OTHER_POOLINGS)
def test_forward_loops(shape, params, dtype):
    # Channel-last layouts, float16 and float64 always run the loops; float32 channel-first mostly oneDNN.
    rng = np.random.default_rng(8)
    x = rng.uniform(0.2, 2.0, size=shape).astype(dtype)
    (y,) = pmx.invoke("Pooling", [x], **params)
    tolerance = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.astype(np.float64), ref.pooling(x, **params).astype(np.float64), **tolerance)
