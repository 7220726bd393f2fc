"""Checks of the nn layer families that one Case per operator cannot make: every act_type, masked and
dtype-changing softmax, the loss heads' gradients (loss gradients, not derivatives of their forward), Dropout
while dropping, and the other modes. Training mode (is_train) is not reachable through the C ABI's op calls;
core/ops/nn_train_mode_test.cc covers it in C++."""

import numpy as np
import pytest

import pmx_ctypes as pmx
from gradcheck import check_gradient as _gradient_check
from cases import nn_layers as ref


def _away_from_zero(rng, shape, low=-2.0, high=2.0):
    x = rng.uniform(low, high, size=shape)
    return np.where(np.abs(x) < 0.2, np.copysign(0.2, x) + x, x)


# ---- activation.cc --------------------------------------------------------------------------------------

@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
def test_activation_every_type(act_type):
    rng = np.random.default_rng(1)
    x = _away_from_zero(rng, (3, 5), -3, 3)
    for dtype in ("float32", "float64"):
        (got,) = pmx.invoke("Activation", [x.astype(dtype)], act_type=act_type)
        np.testing.assert_allclose(got, ref.activation(x.astype(dtype), act_type), rtol=1e-5, atol=1e-6)
    _gradient_check("Activation", [x], {"act_type": act_type})


def test_activation_softrelu_large_inputs_do_not_overflow():
    (got,) = pmx.invoke("Activation", [np.array([30.0, 100.0, -100.0], np.float32)], act_type="softrelu")
    np.testing.assert_allclose(got, [30.0, 100.0, 0.0], atol=1e-6)


def test_activation_requires_act_type():
    with pytest.raises(ValueError, match=r"^\[Activation\] required parameter 'act_type'"):
        pmx.invoke("Activation", [np.ones(3, np.float32)])


@pytest.mark.parametrize("params", [{"act_type": "leaky", "slope": 0.1}, {"act_type": "elu", "slope": 0.7},
                                    {"act_type": "selu"}, {"act_type": "gelu"},
                                    {"act_type": "rrelu", "lower_bound": 0.1, "upper_bound": 0.3}])
def test_leaky_relu_every_type(params):
    rng = np.random.default_rng(2)
    x = _away_from_zero(rng, (2, 3, 4))
    for dtype in ("float32", "float64"):
        outputs = pmx.invoke("LeakyReLU", [x.astype(dtype)], **params)
        np.testing.assert_allclose(outputs[0], ref.leaky_relu(x.astype(dtype), **params), rtol=1e-5, atol=1e-6)
        if params["act_type"] == "rrelu":  # As MXNet 1.9.1, rrelu also shows its slopes (the mask).
            assert len(outputs) == 2
            np.testing.assert_allclose(outputs[1], np.full(x.shape, 0.2), rtol=1e-6)
        else:
            assert len(outputs) == 1
    # In predict mode rrelu uses the mean slope, so finite differences apply to every type here.
    _gradient_check("LeakyReLU", [x], params)


@pytest.mark.parametrize("gamma_shape", [(3,), (1,), (2, 3, 4)])
def test_prelu_gamma_shapes(gamma_shape):
    rng = np.random.default_rng(3)
    x = _away_from_zero(rng, (2, 3, 4))
    gamma = rng.uniform(0.1, 0.5, size=gamma_shape)
    (got,) = pmx.invoke("LeakyReLU", [x, gamma], act_type="prelu")
    np.testing.assert_allclose(got, ref.leaky_relu(x, gamma, act_type="prelu"), rtol=1e-12)
    _gradient_check("LeakyReLU", [x, gamma], {"act_type": "prelu"})


def test_prelu_bad_gamma_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^\[LeakyReLU\] .*gamma has shape \(5,\)"):
        pmx.invoke("LeakyReLU", [np.ones((2, 3), np.float32), np.ones(5, np.float32)], act_type="prelu")


# ---- softmax.cc -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("op,kind", [("softmax", "softmax"), ("log_softmax", "log_softmax"), ("softmin", "softmin")])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_with_length(op, kind, axis):
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, size=(4, 5))
    length = np.array([1, 3, 5, 2] if axis == -1 else [1, 4, 2, 3, 4], dtype=np.int32)
    params = {"axis": axis, "use_length": True, "temperature": 1.5}
    (got,) = pmx.invoke(op, [x, length], **params)
    want = ref.softmax(x, axis, 1.5, length, kind)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # The length input gets no gradient; the data gradient follows finite differences (masked positions: 0).
    rng_heads = np.random.default_rng(0)
    heads = [rng_heads.uniform(-1, 1, size=x.shape)]
    grads = pmx.gradient(op, [x, length], heads, **params)
    assert grads[1] is None
    step = 1e-6
    numeric = np.zeros_like(x)
    for position in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[position] += step
        minus[position] -= step
        numeric[position] = ((pmx.invoke(op, [plus, length], **params)[0] * heads[0]).sum() -
                             (pmx.invoke(op, [minus, length], **params)[0] * heads[0]).sum()) / (2 * step)
    np.testing.assert_allclose(grads[0], numeric, rtol=1e-4, atol=1e-6)


def test_softmax_length_shape_is_checked():
    with pytest.raises(ValueError, match=r"^\[softmax\] length has shape \(3,\), expected \(2,\)"):
        pmx.invoke("softmax", [np.ones((2, 3), np.float32), np.ones(3, np.int32)], use_length=True)


def test_softmax_dtype_parameter():
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, size=(3, 4)).astype(np.float16)
    (got,) = pmx.invoke("softmax", [x], dtype="float32")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref.softmax(x.astype(np.float32)), rtol=1e-6)
    head = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    (grad,) = pmx.gradient("softmax", [x], [head], dtype="float32")
    assert grad.dtype == np.float16
    y = got.astype(np.float64)
    want = y * (head - (head * y).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(grad.astype(np.float64), want, atol=2e-3)
    with pytest.raises(TypeError, match=r"^\[softmax\]"):
        pmx.invoke("softmax", [np.ones(3, np.float32)], dtype="int32")


def test_softmax_activation_instance_mode():
    # MXNet flattens the data to 2-D (everything but the last axis, the last axis): a softmax over the last axis.
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(2, 3, 2))
    (got,) = pmx.invoke("SoftmaxActivation", [x])
    np.testing.assert_allclose(got, ref.softmax(x), rtol=1e-12)
    _gradient_check("SoftmaxActivation", [x], {"mode": "instance"})


# ---- loss_outputs.cc ------------------------------------------------------------------------------------

def _check_loss_gradient(op, inputs, params, want, out_grad=False):
    """The gradient of a loss head: independent of the head gradient unless out_grad, and equal to `want`."""
    rng = np.random.default_rng(9)
    outputs = pmx.invoke(op, inputs, **params)
    heads = [rng.uniform(0.5, 1.5, size=out.shape) for out in outputs]
    grads = pmx.gradient(op, inputs, heads, **params)
    expected = want * heads[0] if out_grad else want
    np.testing.assert_allclose(grads[0], expected, rtol=1e-10, atol=1e-12, err_msg=f"{op} {params}")
    assert all(g is None for g in grads[1:]), f"{op}: labels get no gradient"


@pytest.mark.parametrize("params", [
    {},
    {"grad_scale": 3.0, "normalization": "batch"},
    {"use_ignore": True, "ignore_label": 2, "normalization": "valid"},
    {"smooth_alpha": 0.2, "out_grad": True},
])
def test_softmax_output_gradient(params):
    rng = np.random.default_rng(10)
    x = rng.uniform(-2, 2, size=(5, 4))
    label = np.array([0, 2, 3, 2, 1], dtype=np.float64)
    (out,) = pmx.invoke("SoftmaxOutput", [x, label], **params)
    np.testing.assert_allclose(out, ref.softmax(x), rtol=1e-12)
    _check_loss_gradient("SoftmaxOutput", [x, label], params, ref.softmax_output_grad(out, label, **params),
                         params.get("out_grad", False))


@pytest.mark.parametrize("label_shape", [(2, 6), (2, 2, 3), (2, 1, 2, 3)])
@pytest.mark.parametrize("normalization", ["null", "batch", "valid"])
def test_softmax_output_multi_output(label_shape, normalization):
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, size=(2, 4, 2, 3))
    label = rng.integers(0, 4, size=label_shape).astype(np.float64)
    params = {"multi_output": True, "normalization": normalization, "use_ignore": True, "ignore_label": 0}
    (out,) = pmx.invoke("SoftmaxOutput", [x, label], **params)
    np.testing.assert_allclose(out, np.moveaxis(ref.softmax(np.moveaxis(x, 1, -1)), -1, 1), rtol=1e-12)
    _check_loss_gradient("SoftmaxOutput", [x, label], params, ref.softmax_output_grad(out, label, **params))


def test_softmax_output_preserve_shape_and_probability_labels():
    rng = np.random.default_rng(12)
    x = rng.uniform(-2, 2, size=(2, 3, 4))
    label = rng.integers(0, 4, size=(2, 3)).astype(np.float64)
    (out,) = pmx.invoke("SoftmaxOutput", [x, label], preserve_shape=True)
    np.testing.assert_allclose(out, ref.softmax(x), rtol=1e-12)
    _check_loss_gradient("SoftmaxOutput", [x, label], {"preserve_shape": True},
                         ref.softmax_output_grad(out, label, preserve_shape=True))
    target = ref.softmax(rng.uniform(-2, 2, size=(3, 4)))
    x2 = rng.uniform(-2, 2, size=(3, 4))
    (out2,) = pmx.invoke("Softmax", [x2, target], grad_scale=0.5)
    _check_loss_gradient("Softmax", [x2, target], {"grad_scale": 0.5}, (out2 - target) * 0.5)


def test_softmax_output_bad_label_shape():
    with pytest.raises(ValueError, match=r"^\[SoftmaxOutput\] label has shape \(3,\), expected \(2,\)"):
        pmx.invoke("SoftmaxOutput", [np.ones((2, 3), np.float32), np.ones(3, np.float32)])


@pytest.mark.parametrize("op", ["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"])
def test_regression_output_gradients(op):
    rng = np.random.default_rng(13)
    x = rng.uniform(-2, 2, size=(3, 4))
    label = rng.uniform(-1, 1, size=(3, 4))
    (out,) = pmx.invoke(op, [x, label], grad_scale=2.0)
    diff = out - label
    want = (np.sign(diff) if op == "MAERegressionOutput" else diff) * 2.0 / 4
    _check_loss_gradient(op, [x, label], {"grad_scale": 2.0}, want)
    # A (N, 1) output takes a (N,) label.
    x1, label1 = rng.uniform(-2, 2, size=(3, 1)), rng.uniform(-1, 1, size=(3,))
    (out1,) = pmx.invoke(op, [x1, label1])
    diff1 = out1 - label1[:, None]
    _check_loss_gradient(op, [x1, label1], {}, np.sign(diff1) if op == "MAERegressionOutput" else diff1)


@pytest.mark.parametrize("normalization", ["null", "batch", "valid"])
def test_make_loss_gradient(normalization):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.5]])
    params = {"grad_scale": 2.0, "normalization": normalization, "valid_thresh": 0.1}
    (out,) = pmx.invoke("MakeLoss", [x], **params)
    np.testing.assert_array_equal(out, x)
    scale = {"null": 2.0, "batch": 2.0 / 2, "valid": 2.0 / 3}[normalization]
    _check_loss_gradient("MakeLoss", [x], params, np.full_like(x, scale))
    _check_loss_gradient("make_loss", [x], params, np.full_like(x, scale))


@pytest.mark.parametrize("use_linear", [False, True])
def test_svm_output_gradient(use_linear):
    rng = np.random.default_rng(14)
    x = rng.uniform(-2, 2, size=(4, 5))
    label = np.array([0, 4, 2, 2], dtype=np.float64)
    params = {"margin": 0.7, "regularization_coefficient": 0.5, "use_linear": use_linear}
    _check_loss_gradient("SVMOutput", [x, label], params, ref.svm_output_grad(x, label, **params))


def test_identity_attach_kl_sparse_reg_gradient():
    rng = np.random.default_rng(21)
    x, average = rng.uniform(0, 1, (3, 4)), rng.uniform(0.2, 0.8, (4,))
    params = {"sparseness_target": 0.2, "penalty": 0.01}
    head = rng.uniform(-1, 1, (3, 4))
    grads = pmx.gradient("IdentityAttachKLSparseReg", [x, average], [head], **params)
    want = head + 0.01 * (-0.2 / average + 0.8 / (1 - average))
    np.testing.assert_allclose(grads[0], want, rtol=1e-12)
    assert grads[1] is None


# ---- normalization.cc -----------------------------------------------------------------------------------

def test_layer_norm_default_axis():
    rng = np.random.default_rng(15)
    x, gamma, beta = rng.uniform(-2, 2, (3, 4)), rng.uniform(0.5, 1.5, (4,)), rng.uniform(-1, 1, (4,))
    (out,) = pmx.invoke("LayerNorm", [x, gamma, beta])
    np.testing.assert_allclose(out, ref.layer_norm(x, gamma, beta)[0], rtol=1e-10)
    _gradient_check("LayerNorm", [x, gamma, beta], {})


def test_instance_norm_4d():
    rng = np.random.default_rng(16)
    x, gamma, beta = rng.uniform(-2, 2, (2, 2, 2, 3)), rng.uniform(0.5, 1.5, (2,)), rng.uniform(-1, 1, (2,))
    (out,) = pmx.invoke("InstanceNorm", [x, gamma, beta])
    np.testing.assert_allclose(out, ref.instance_norm(x, gamma, beta), rtol=1e-10)
    _gradient_check("InstanceNorm", [x, gamma, beta], {})


def test_group_norm_errors_and_plain_output():
    rng = np.random.default_rng(17)
    x, gamma, beta = rng.uniform(-2, 2, (2, 6, 2)), rng.uniform(0.5, 1.5, (3,)), rng.uniform(-1, 1, (3,))
    outputs = pmx.invoke("GroupNorm", [x, gamma, beta], num_groups=3)
    assert len(outputs) == 1
    np.testing.assert_allclose(outputs[0], ref.group_norm(x, gamma, beta, 3)[0], rtol=1e-10)
    _gradient_check("GroupNorm", [x, gamma, beta], {"num_groups": 3})
    with pytest.raises(ValueError, match=r"^\[GroupNorm\] data has shape \(2, 6, 2\).*num_groups=4"):
        pmx.invoke("GroupNorm", [x, np.ones(4), np.ones(4)], num_groups=4)


@pytest.mark.parametrize("mode", ["instance", "spatial"])
def test_l2_normalization_modes(mode):
    rng = np.random.default_rng(18)
    x = _away_from_zero(rng, (2, 3, 2, 2))
    (out,) = pmx.invoke("L2Normalization", [x], mode=mode)
    np.testing.assert_allclose(out, ref.l2_normalization(x, mode=mode), rtol=1e-10)
    _gradient_check("L2Normalization", [x], {"mode": mode})


# ---- dropout_embedding.cc -------------------------------------------------------------------------------

def test_dropout_always_drops_p_and_scales_the_rest():
    p = 0.4
    x = np.random.default_rng(19).uniform(1, 2, size=(200, 50)).astype(np.float32)
    (out,) = pmx.invoke("Dropout", [x], p=p, mode="always")
    dropped = out == 0
    assert abs(dropped.mean() - p) < 0.03, dropped.mean()
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-6)
    # The gradient is head * mask of the same forward call: 0 or head / (1 - p).
    head = np.ones_like(x)
    (grad,) = pmx.gradient("Dropout", [x], [head], p=p, mode="always")
    assert np.all(np.isclose(grad, 0) | np.isclose(grad, 1 / (1 - p)))
    assert abs((grad == 0).mean() - p) < 0.03


def test_dropout_axes_share_one_draw():
    x = np.ones((60, 40), np.float32)
    (out,) = pmx.invoke("Dropout", [x], p=0.5, mode="always", axes=(1,))
    rows = out.min(axis=1) == out.max(axis=1)
    assert rows.all(), "every row is dropped or kept as a whole"
    assert 0.3 < (out[:, 0] == 0).mean() < 0.7


def test_dropout_predict_mode_and_edge_probabilities():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(pmx.invoke("Dropout", [x], p=0.5)[0], x)  # mode training, not training: identity
    np.testing.assert_array_equal(pmx.invoke("Dropout", [x], p=0.0, mode="always")[0], x)
    np.testing.assert_array_equal(pmx.invoke("Dropout", [x], p=1.0, mode="always")[0], np.zeros_like(x))
    with pytest.raises(ValueError, match=r"^\[Dropout\] p is 1.5"):
        pmx.invoke("Dropout", [x], p=1.5)


def test_dropout_follows_the_seed():
    x = np.ones((20, 20), np.float32)
    pmx.seed(42)
    first = pmx.invoke("Dropout", [x], p=0.5, mode="always")[0]
    second = pmx.invoke("Dropout", [x], p=0.5, mode="always")[0]
    pmx.seed(42)
    again = pmx.invoke("Dropout", [x], p=0.5, mode="always")[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


def test_embedding_clips_indices_and_accumulates_repeated_rows():
    weight = np.arange(12, dtype=np.float32).reshape(4, 3)
    data = np.array([[-1, 0], [3, 7]], dtype=np.int32)
    (out,) = pmx.invoke("Embedding", [data, weight], input_dim=4, output_dim=3)
    np.testing.assert_array_equal(out, weight[[[0, 0], [3, 3]]])
    head = np.ones((2, 2, 3), np.float32)
    grads = pmx.gradient("Embedding", [data, weight], [head], input_dim=4, output_dim=3)
    assert grads[0] is None
    np.testing.assert_array_equal(grads[1], [[2, 2, 2], [0, 0, 0], [0, 0, 0], [2, 2, 2]])
    with pytest.raises(ValueError, match=r"^\[Embedding\] weight has shape \(4, 3\), expected \(5, 3\)"):
        pmx.invoke("Embedding", [data, weight], input_dim=5, output_dim=3)


# ---- upsampling.cc --------------------------------------------------------------------------------------

def test_upsampling_sum_mode_and_single_input():
    rng = np.random.default_rng(20)
    a, b = rng.uniform(-1, 1, (1, 2, 2, 2)), rng.uniform(-1, 1, (1, 2, 4, 4))
    params = {"scale": 2, "sample_type": "nearest", "num_args": 2, "multi_input_mode": "sum"}
    (out,) = pmx.invoke("UpSampling", [a, b], **params)
    np.testing.assert_allclose(out, ref.upsampling(a, b, **params), rtol=1e-12)
    _gradient_check("UpSampling", [a, b], params)
    (single,) = pmx.invoke("UpSampling", [a], scale=3, sample_type="nearest", num_args=1)
    np.testing.assert_array_equal(single, a.repeat(3, axis=2).repeat(3, axis=3))


@pytest.mark.parametrize("scale", [2, 3])
def test_upsampling_bilinear(scale):
    rng = np.random.default_rng(22)
    kernel = 2 * scale - scale % 2
    data, weight = rng.uniform(-1, 1, (2, 2, 2, 3)), rng.uniform(-1, 1, (2, 1, kernel, kernel))
    params = {"scale": scale, "sample_type": "bilinear", "num_args": 2, "num_filter": 2}
    (out,) = pmx.invoke("UpSampling", [data, weight], **params)
    np.testing.assert_allclose(out, ref.bilinear_upsampling(data, weight, scale), rtol=1e-12, atol=1e-12)
    _gradient_check("UpSampling", [data, weight], params)
    with pytest.raises(ValueError, match=r"^\[UpSampling\] weight has shape"):
        pmx.invoke("UpSampling", [data, weight[:, :, :-1]], **params)

