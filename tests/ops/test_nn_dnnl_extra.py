"""Checks of the GEMM- and convolution-based layers beyond one Case per operator: every dot/batch_dot
transpose combination and rank, FullyConnected without flatten, 1-d/2-d/3-d convolution and deconvolution with
groups, dilation, stride, padding, adj and target_shape, every pooling type and convention (global, 'same',
count_include_pad, channel-last layouts), BatchNorm on other axes and dtypes, LRN with even windows, and the
float16 paths. Gradients are checked against central finite differences in float64; float32 runs take the
oneDNN paths and are compared with the same NumPy references. Training-mode BatchNorm is covered in C++ by
core/ops/nn_dnnl_train_mode_test.cc (the C ABI's op calls run in predict mode)."""

import numpy as np
import pytest

import pmx_ctypes as pmx
from gradcheck import check_gradient as _gradient_check
from cases import linalg as la
from cases import nn_dnnl as ref


def _check_forward(op, oracle, inputs, params, dtypes=("float32", "float64"), rtol=1e-4, atol=1e-5):
    for dtype in dtypes:
        values = [np.asarray(x).astype(dtype) for x in inputs]
        got = pmx.invoke(op, values, **params)
        want = oracle(*values, **params)
        want = want if isinstance(want, list) else [want]
        tolerance = dict(rtol=rtol, atol=atol) if dtype == "float64" else dict(rtol=2e-3, atol=2e-3)
        if dtype == "float16":
            tolerance = dict(rtol=2e-2, atol=2e-2)
        for g, w in zip(got, want):
            assert g.shape == np.asarray(w).shape, f"{op} {params} {dtype}: {g.shape} vs {np.asarray(w).shape}"
            assert g.dtype == np.dtype(dtype)
            np.testing.assert_allclose(g.astype(np.float64), np.asarray(w, dtype=np.float64),
                                       err_msg=f"{op} {params} {dtype}", **tolerance)


def _uniform(rng, *shape):
    return rng.uniform(-1, 1, size=shape)


# ---- dot, batch_dot, FullyConnected -----------------------------------------------------------------------

DOT_SHAPES = [
    ((3,), (3,), False, False),
    ((3,), (3, 4), False, False),
    ((2, 3), (3,), False, False),
    ((2, 3), (3, 4), False, False),
    ((3, 2), (3, 4), True, False),
    ((2, 3), (4, 3), False, True),
    ((3, 2), (4, 3), True, True),
    ((2, 2, 3), (3, 2, 2), False, False),
    ((3, 2, 2), (2, 2, 3), True, True),
    ((3, 2, 2), (3, 2), True, False),
]


@pytest.mark.parametrize("lhs,rhs,ta,tb", DOT_SHAPES)
def test_dot_shapes_and_transposes(lhs, rhs, ta, tb):
    rng = np.random.default_rng(1)
    x, y = _uniform(rng, *lhs), _uniform(rng, *rhs)
    params = dict(transpose_a=ta, transpose_b=tb)
    _check_forward("dot", la.dot, [x, y], params, dtypes=("float32", "float64", "float16"))
    _gradient_check("dot", [x, y], params)


def test_dot_large_float32_matches_numpy():
    rng = np.random.default_rng(2)
    x, y = _uniform(rng, 130, 70).astype(np.float32), _uniform(rng, 70, 90).astype(np.float32)
    (got,) = pmx.invoke("dot", [x, y])
    np.testing.assert_allclose(got, x.astype(np.float64) @ y, rtol=1e-4, atol=1e-4)


def test_dot_errors_name_the_op():
    with pytest.raises(ValueError, match=r"^\[dot\] shapes \(2, 3\) and \(4, 5\)"):
        pmx.invoke("dot", [np.ones((2, 3), np.float32), np.ones((4, 5), np.float32)])
    with pytest.raises(TypeError, match=r"^\[dot\]"):
        pmx.invoke("dot", [np.ones((2, 3), np.int32), np.ones((3, 2), np.int32)])


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_batch_dot_four_dimensions(ta, tb):
    rng = np.random.default_rng(3)
    x = _uniform(rng, 2, 2, *((3, 2) if ta else (2, 3)))
    y = _uniform(rng, 2, 2, *((4, 3) if tb else (3, 4)))
    params = dict(transpose_a=ta, transpose_b=tb)
    _check_forward("batch_dot", la.batch_dot, [x, y], params, dtypes=("float32", "float64", "float16"))
    _gradient_check("batch_dot", [x, y], params)


def test_batch_dot_rejects_mismatched_batches():
    with pytest.raises(ValueError, match=r"^\[batch_dot\]"):
        pmx.invoke("batch_dot", [np.ones((2, 3, 4), np.float32), np.ones((3, 4, 5), np.float32)])


@pytest.mark.parametrize("flatten,no_bias", [(False, False), (True, True), (False, True)])
def test_fully_connected_modes(flatten, no_bias):
    rng = np.random.default_rng(4)
    x = _uniform(rng, 2, 3, 4)
    features = 12 if flatten else 4
    inputs = [x, _uniform(rng, 5, features)] + ([] if no_bias else [_uniform(rng, 5)])
    params = dict(num_hidden=5, flatten=flatten, no_bias=no_bias)
    _check_forward("FullyConnected", ref.fully_connected, inputs, params, dtypes=("float32", "float64", "float16"))
    _gradient_check("FullyConnected", inputs, params)


def test_fully_connected_checks_weight_shape():
    with pytest.raises(ValueError, match=r"^\[FullyConnected\] weight has shape \(5, 3\), expected \(5, 4\)"):
        pmx.invoke("FullyConnected", [np.ones((2, 4), np.float32), np.ones((5, 3), np.float32),
                                      np.ones(5, np.float32)], num_hidden=5)


# ---- Convolution and Deconvolution ------------------------------------------------------------------------

CONVOLUTIONS = [
    ((2, 3, 7), dict(kernel=(3,), num_filter=4)),
    ((2, 4, 9), dict(kernel=(3,), stride=(2,), dilate=(2,), pad=(2,), num_filter=2, num_group=2)),
    ((1, 2, 5, 6), dict(kernel=(3, 3), pad=(1, 1), num_filter=3)),
    ((2, 4, 6, 5), dict(kernel=(2, 3), stride=(2, 1), dilate=(1, 2), num_filter=4, num_group=4, no_bias=True)),
    ((1, 2, 4, 4, 3), dict(kernel=(2, 2, 2), stride=(1, 2, 1), pad=(1, 0, 1), num_filter=2)),
    ((1, 4, 3, 6, 4), dict(kernel=(1, 3, 3), dilate=(1, 2, 1), num_filter=2, num_group=2)),
]


def _conv_inputs(rng, shape, params, deconvolution=False):
    groups = params.get("num_group", 1)
    if deconvolution:
        weight = (shape[1], params["num_filter"] // groups) + tuple(params["kernel"])
        has_bias = not params.get("no_bias", True)
    else:
        weight = (params["num_filter"], shape[1] // groups) + tuple(params["kernel"])
        has_bias = not params.get("no_bias", False)
    inputs = [_uniform(rng, *shape), _uniform(rng, *weight)]
    if has_bias:
        inputs.append(_uniform(rng, params["num_filter"]))
    return inputs


@pytest.mark.parametrize("shape,params", CONVOLUTIONS)
def test_convolution_variants(shape, params):
    rng = np.random.default_rng(5)
    inputs = _conv_inputs(rng, shape, params)
    _check_forward("Convolution", ref.conv_forward, inputs, params, dtypes=("float32", "float64", "float16"))
    _gradient_check("Convolution", inputs, params)


@pytest.mark.parametrize("shape,params", CONVOLUTIONS[:4])
def test_convolution_helpers_match_their_references(shape, params):
    rng = np.random.default_rng(6)
    x, w = _conv_inputs(rng, shape, params)[:2]
    (y,) = pmx.invoke("Convolution", [x, w], **dict(params, no_bias=True))
    g = _uniform(rng, *y.shape)
    for dtype in ("float32", "float64"):
        (dx,) = pmx.invoke("_convolution_backward_data", [v.astype(dtype) for v in (g, w, x)], **params)
        (dw,) = pmx.invoke("_convolution_backward_weight", [v.astype(dtype) for v in (g, x)], **params)
        np.testing.assert_allclose(dx, ref.conv_backward_data(g, w, x, **params), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(dw, ref.conv_backward_weight(g, x, **params), rtol=1e-3, atol=1e-4)


def test_convolution_second_order_gradient_composes():
    # The helpers are differentiable, so gradients of gradients exist (Note [Convolution gradients]).
    rng = np.random.default_rng(7)
    params = dict(kernel=(2, 2), num_filter=2, pad=(1, 0))
    x, w = _uniform(rng, 1, 2, 3, 3), _uniform(rng, 2, 2, 2, 2)
    (y,) = pmx.invoke("Convolution", [x, w], **dict(params, no_bias=True))
    g = _uniform(rng, *y.shape)
    _gradient_check("_convolution_backward_data", [g, w, x], params, skip=(2,))
    _gradient_check("_convolution_backward_weight", [g, x], params)


DECONVOLUTIONS = [
    ((2, 3, 4), dict(kernel=(3,), stride=(2,), num_filter=2)),
    ((1, 4, 3, 3), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 0), num_filter=2, num_group=2,
                        no_bias=False)),
    ((1, 2, 3, 4), dict(kernel=(2, 3), stride=(2, 1), dilate=(2, 1), target_shape=(7, 5), num_filter=3)),
    ((1, 2, 2, 3, 2), dict(kernel=(2, 2, 2), stride=(2, 1, 2), pad=(0, 1, 0), num_filter=2, no_bias=False)),
    ((1, 2, 4), dict(kernel=(3,), stride=(1,), target_shape=(5,), num_filter=2)),
    ((1, 2, 3), dict(kernel=(2,), stride=(2,), adj=(1,), num_filter=2)),  # adj > pad: the loop fallback.
]


@pytest.mark.parametrize("shape,params", DECONVOLUTIONS)
def test_deconvolution_variants(shape, params):
    rng = np.random.default_rng(8)
    inputs = _conv_inputs(rng, shape, params, deconvolution=True)
    _check_forward("Deconvolution", ref.deconv_forward, inputs, params, dtypes=("float32", "float64", "float16"))
    _gradient_check("Deconvolution", inputs, params)


def test_deconvolution_target_shape_sets_the_output():
    x, w = np.ones((1, 2, 4, 4), np.float32), np.ones((2, 3, 3, 3), np.float32)
    (y,) = pmx.invoke("Deconvolution", [x, w], kernel=(3, 3), stride=(2, 2), num_filter=3, target_shape=(8, 9))
    assert y.shape == (1, 3, 8, 9)


def test_convolution_errors_name_the_op():
    with pytest.raises(ValueError, match=r"^\[Convolution\] data has shape \(2, 3, 5\)"):
        pmx.invoke("Convolution", [np.ones((2, 3, 5), np.float32), np.ones((4, 3, 2, 2), np.float32)],
                   kernel=(2, 2), num_filter=4, no_bias=True)
    with pytest.raises(ValueError, match=r"^\[Convolution\] data has 3 channels, expected a multiple of"):
        pmx.invoke("Convolution", [np.ones((1, 3, 5, 5), np.float32), np.ones((4, 1, 2, 2), np.float32)],
                   kernel=(2, 2), num_filter=4, num_group=2, no_bias=True)
    with pytest.raises(NotImplementedError, match=r"^\[Convolution\] layout NHWC"):
        pmx.invoke("Convolution", [np.ones((1, 5, 5, 3), np.float32), np.ones((4, 3, 2, 2), np.float32)],
                   kernel=(2, 2), num_filter=4, no_bias=True, layout="NHWC")


# ---- Pooling ----------------------------------------------------------------------------------------------

POOLINGS = [
    ((2, 3, 7), dict(kernel=(3,), stride=(2,), pool_type="max")),
    ((2, 3, 7), dict(kernel=(3,), stride=(2,), pooling_convention="same", pool_type="max")),
    ((2, 3, 7), dict(kernel=(2,), stride=(3,), pooling_convention="same", pool_type="avg")),
    ((1, 2, 5, 6), dict(kernel=(3, 2), stride=(2, 2), pad=(1, 1), pool_type="max", pooling_convention="full")),
    ((1, 2, 5, 6), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg")),
    ((1, 2, 5, 6), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False,
                        pooling_convention="full")),
    ((1, 2, 5, 6), dict(kernel=(2, 3), stride=(1, 2), pad=(0, 1), pool_type="sum")),
    ((1, 2, 5, 6), dict(kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2)),
    ((1, 2, 5, 6), dict(kernel=(2, 2), stride=(1, 1), pool_type="lp", p_value=3)),
    ((1, 2, 5, 6), dict(kernel=(2, 2), stride=(1, 1), pool_type="lp", p_value=1)),
    ((1, 2, 5, 6), dict(global_pool=True, pool_type="avg", kernel=(1, 1))),
    ((1, 2, 5, 6), dict(global_pool=True, pool_type="max")),
    ((1, 2, 3, 4, 5), dict(kernel=(2, 2, 3), stride=(1, 2, 2), pad=(1, 0, 1), pool_type="max")),
    ((1, 2, 3, 4, 5), dict(kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="avg", pooling_convention="full")),
    ((1, 5, 6, 2), dict(kernel=(3, 2), stride=(2, 1), pad=(1, 0), pool_type="max", layout="NHWC")),
    ((2, 7, 3), dict(kernel=(3,), stride=(2,), pool_type="avg", layout="NWC", count_include_pad=False, pad=(1,))),
]


@pytest.mark.parametrize("shape,params", POOLINGS)
def test_pooling_variants(shape, params):
    rng = np.random.default_rng(9)
    x = rng.uniform(0.2, 2.0, size=shape) if params["pool_type"] == "lp" else _uniform(rng, *shape)
    _check_forward("Pooling", ref.pooling, [x], params, dtypes=("float32", "float64", "float16"))
    _gradient_check("Pooling", [x], params)
    (y,) = pmx.invoke("Pooling", [x.astype(np.float32)], **params)
    g = _uniform(rng, *y.shape).astype(np.float32)
    (dx,) = pmx.invoke("_pooling_backward", [g, x.astype(np.float32), y], **params)
    np.testing.assert_allclose(dx, ref.pooling_backward(g, x.astype(np.float32), y, **params), rtol=1e-4, atol=1e-5)


def test_max_pooling_gradient_goes_to_the_first_maximum():
    x = np.array([[[1.0, 3.0, 3.0, 2.0]]], np.float32)
    (dx,) = pmx.gradient("Pooling", [x], [np.ones((1, 1, 1), np.float32)], kernel=(4,), pool_type="max")
    np.testing.assert_array_equal(dx, [[[0.0, 1.0, 0.0, 0.0]]])


def test_pooling_errors_name_the_op():
    with pytest.raises(ValueError, match=r"^\[Pooling\] pool_type lp needs p_value"):
        pmx.invoke("Pooling", [np.ones((1, 1, 4, 4), np.float32)], kernel=(2, 2), pool_type="lp")
    with pytest.raises(ValueError, match=r"^\[Pooling\] pooling_convention 'same' supports 1-d data only"):
        pmx.invoke("Pooling", [np.ones((1, 1, 4, 4), np.float32)], kernel=(2, 2), pooling_convention="same")
    with pytest.raises(ValueError, match=r"^\[Pooling\] kernel size 5 on axis 0 exceeds"):
        pmx.invoke("Pooling", [np.ones((1, 1, 4, 4), np.float32)], kernel=(5, 2))


# ---- BatchNorm, LRN ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis,fix_gamma", [((4, 3), 1, False), ((2, 3, 4), -1, True), ((2, 2, 3, 2, 2), 2, False)])
def test_batch_norm_inference_axes(shape, axis, fix_gamma):
    rng = np.random.default_rng(10)
    inputs = ref._batch_norm_inputs(shape, axis)(rng, "float64")
    params = dict(axis=axis, fix_gamma=fix_gamma, eps=1e-3)
    _check_forward("BatchNorm", ref.batch_norm, inputs, params)
    _gradient_check("BatchNorm", inputs, params)


def test_batch_norm_float16_data_keeps_float32_statistics():
    rng = np.random.default_rng(11)
    x, gamma, beta, mean, var = ref._batch_norm_inputs((2, 3, 4), 1)(rng, "float64")
    inputs = [x.astype(np.float16)] + [v.astype(np.float32) for v in (gamma, beta, mean, var)]
    out, got_mean, got_var = pmx.invoke("BatchNorm", inputs, fix_gamma=False, output_mean_var=True)
    assert out.dtype == np.float16 and got_mean.dtype == np.float32 and got_var.dtype == np.float32
    want = ref.batch_norm(*[v.astype(np.float64) for v in (x, gamma, beta, mean, var)], fix_gamma=False)
    np.testing.assert_allclose(out.astype(np.float64), want, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("train_mode", [0.0, 1.0])
def test_batch_norm_backward_helper_modes(train_mode):
    rng = np.random.default_rng(12)
    inputs = ref._batch_norm_backward_inputs((4, 3, 2), 1, bool(train_mode))(rng, "float64")
    for fix_gamma in (False, True):
        params = dict(axis=1, fix_gamma=fix_gamma, eps=1e-3)
        _check_forward("_batch_norm_backward", ref.batch_norm_backward, inputs, params)


@pytest.mark.parametrize("nsize", [1, 3, 4, 5])
def test_lrn_windows(nsize):
    rng = np.random.default_rng(13)
    x = _uniform(rng, 2, 6, 2, 3)
    params = dict(nsize=nsize, alpha=0.3, beta=0.6, knorm=1.5)
    _check_forward("LRN", ref.lrn, [x], params, dtypes=("float32", "float64", "float16"))
    _gradient_check("LRN", [x[:1, :, :1]], params)
    g = _uniform(rng, *x.shape)
    _check_forward("_lrn_backward", ref.lrn_backward, [g, x], params)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_empty_operands(dtype):
    # Empty contractions give zeros (plus the bias); empty batches give empty outputs.
    (z,) = pmx.invoke("dot", [np.ones((2, 0), dtype), np.ones((0, 3), dtype)])
    np.testing.assert_array_equal(z, np.zeros((2, 3)))
    (z,) = pmx.invoke("batch_dot", [np.ones((2, 2, 0), dtype), np.ones((2, 0, 3), dtype)])
    np.testing.assert_array_equal(z, np.zeros((2, 2, 3)))
    (z,) = pmx.invoke("FullyConnected", [np.ones((2, 0), dtype), np.ones((4, 0), dtype), np.full(4, 2, dtype)],
                      num_hidden=4)
    np.testing.assert_array_equal(z, np.full((2, 4), 2.0))
    (z,) = pmx.invoke("Convolution", [np.ones((0, 2, 4, 4), dtype), np.ones((3, 2, 3, 3), dtype)], kernel=(3, 3),
                      num_filter=3, no_bias=True)
    assert z.shape == (0, 3, 2, 2)
    (z,) = pmx.invoke("Pooling", [np.ones((0, 2, 4, 4), dtype)], kernel=(2, 2))
    assert z.shape == (0, 2, 3, 3)
