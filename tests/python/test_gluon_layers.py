"""mx.gluon.nn layers and mx.gluon.loss against NumPy formulas written independently here (float64 inputs, so
that the comparisons are tight)."""

import math

import numpy as np
import pytest

import polymix as mx
from polymix import autograd
from polymix.gluon import loss as gloss
from polymix.gluon import nn

RNG = np.random.default_rng(17)


def _run(layer, *inputs, dtype="float64"):
    """The layer's output on NumPy inputs (parameters in `dtype`, initialized by the layer's own rules)."""
    layer.initialize(mx.init.Normal(0.5))
    layer.cast(dtype)
    arrays = [mx.nd.array(value, dtype=dtype) for value in inputs]
    return layer(*arrays).asnumpy()


def _params(layer):
    return {name: param.data().asnumpy() for name, param in layer._reg_params.items()}


# ---- NumPy references ---------------------------------------------------------------------------------------

def _conv2d(x, w, b, stride, pad, dilate, groups):
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (x.shape[2] - dilate[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilate[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, co, oh, ow))
    per_group = co // groups
    for o in range(co):
        g = o // per_group
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * cg:(g + 1) * cg, i * stride[0]:i * stride[0] + dilate[0] * (kh - 1) + 1:dilate[0],
                          j * stride[1]:j * stride[1] + dilate[1] * (kw - 1) + 1:dilate[1]]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


def _deconv2d(x, w, b, stride, pad, adj):
    n, ci, h, wd = x.shape
    _, co, kh, kw = w.shape
    full = np.zeros((n, co, (h - 1) * stride[0] + kh + adj[0], (wd - 1) * stride[1] + kw + adj[1]))
    for i in range(h):
        for j in range(wd):
            contribution = np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
            full[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw] += contribution
    out = full[:, :, pad[0]:full.shape[2] - pad[0], pad[1]:full.shape[3] - pad[1]]
    return out + b.reshape(1, -1, 1, 1)


def _pool2d(x, kernel, stride, pad, kind, ceil=False, include_pad=True):
    """MXNet's pooling: windows past the padded edge (ceil mode) are cut there; averages divide by the window's
    size within the padded input (count_include_pad) or by its number of real elements."""
    n, c, h, w = x.shape
    rounding = math.ceil if ceil else math.floor
    oh = int(rounding((h + 2 * pad[0] - kernel[0]) / stride[0])) + 1
    ow = int(rounding((w + 2 * pad[1] - kernel[1]) / stride[1])) + 1
    fill = -np.inf if kind == "max" else 0.0
    padded = np.full((n, c, h + 2 * pad[0] + kernel[0], w + 2 * pad[1] + kernel[1]), fill)
    padded[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    in_padded = np.zeros(padded.shape[2:])
    in_padded[:h + 2 * pad[0], :w + 2 * pad[1]] = 1
    real = np.zeros(padded.shape[2:])
    real[pad[0]:pad[0] + h, pad[1]:pad[1] + w] = 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride[0], i * stride[0] + kernel[0])
            cols = slice(j * stride[1], j * stride[1] + kernel[1])
            window = padded[:, :, rows, cols]
            if kind == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
            else:
                count = (in_padded if include_pad else real)[rows, cols].sum()
                out[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return out


# ---- Layers -------------------------------------------------------------------------------------------------

def test_dense_flattens_or_maps_the_last_axis():
    x = RNG.normal(size=(2, 3, 4))
    layer = nn.Dense(5)
    out = _run(layer, x)
    p = _params(layer)
    np.testing.assert_allclose(out, x.reshape(2, 12) @ p["weight"].T + p["bias"], rtol=1e-12)
    layer = nn.Dense(5, flatten=False, use_bias=False, activation="tanh")
    out = _run(layer, x)
    np.testing.assert_allclose(out, np.tanh(x @ _params(layer)["weight"].T), rtol=1e-12)
    assert layer.bias is None


@pytest.mark.parametrize("stride,pad,dilate,groups", [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (1, 1, 1, 2)])
def test_conv2d_matches_numpy(stride, pad, dilate, groups):
    x = RNG.normal(size=(2, 4, 7, 6))
    layer = nn.Conv2D(6, (3, 2), strides=stride, padding=pad, dilation=dilate, groups=groups)
    out = _run(layer, x)
    p = _params(layer)
    want = _conv2d(x, p["weight"], p["bias"], (stride,) * 2, (pad,) * 2, (dilate,) * 2, groups)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)


def test_conv1d_and_conv3d_shapes_and_values():
    x = RNG.normal(size=(2, 3, 9))
    layer = nn.Conv1D(4, 3, strides=2, padding=1, use_bias=False)
    out = _run(layer, x)
    want = _conv2d(x[:, :, None, :], _params(layer)["weight"][:, :, None, :], None, (1, 2), (0, 1), (1, 1), 1)
    np.testing.assert_allclose(out, want[:, :, 0, :], rtol=1e-10, atol=1e-12)
    layer = nn.Conv3D(2, 3, padding=1, in_channels=3)
    assert layer.weight.shape == (2, 3, 3, 3, 3)
    assert _run(layer, RNG.normal(size=(1, 3, 4, 5, 6))).shape == (1, 2, 4, 5, 6)


def test_conv2d_transpose_matches_numpy():
    x = RNG.normal(size=(2, 3, 4, 5))
    layer = nn.Conv2DTranspose(2, 3, strides=2, padding=1, output_padding=1)
    out = _run(layer, x)
    p = _params(layer)
    assert p["weight"].shape == (3, 2, 3, 3)
    np.testing.assert_allclose(out, _deconv2d(x, p["weight"], p["bias"], (2, 2), (1, 1), (1, 1)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_numpy(kind):
    x = RNG.normal(size=(2, 3, 7, 8))
    Pool = nn.MaxPool2D if kind == "max" else nn.AvgPool2D
    np.testing.assert_allclose(_run(Pool(), x), _pool2d(x, (2, 2), (2, 2), (0, 0), kind), rtol=1e-12)
    np.testing.assert_allclose(_run(Pool(3, 2, 1, ceil_mode=True), x),
                               _pool2d(x, (3, 3), (2, 2), (1, 1), kind, ceil=True), rtol=1e-12)
    if kind == "avg":
        np.testing.assert_allclose(_run(nn.AvgPool2D(3, 1, 1, count_include_pad=False), x),
                                   _pool2d(x, (3, 3), (1, 1), (1, 1), kind, include_pad=False), rtol=1e-12)
    Global = nn.GlobalMaxPool2D if kind == "max" else nn.GlobalAvgPool2D
    reduce = np.max if kind == "max" else np.mean
    np.testing.assert_allclose(_run(Global(), x), reduce(x, axis=(2, 3), keepdims=True), rtol=1e-12)
    x1 = RNG.normal(size=(2, 3, 9))
    Pool1 = nn.MaxPool1D if kind == "max" else nn.AvgPool1D
    np.testing.assert_allclose(_run(Pool1(3), x1), _pool2d(x1[:, :, None], (1, 3), (1, 3), (0, 0), kind)[:, :, 0],
                               rtol=1e-12)
    assert _run((nn.MaxPool3D if kind == "max" else nn.AvgPool3D)(), RNG.normal(size=(1, 2, 4, 4, 4))).shape == (
        1, 2, 2, 2, 2)


def test_batch_norm_training_and_inference():
    x = RNG.normal(2.0, 3.0, size=(6, 3, 2, 2))
    layer = nn.BatchNorm(momentum=0.8, epsilon=1e-3)
    layer.initialize(mx.init.Normal(0.5))
    layer.cast("float64")
    layer.gamma.set_data(mx.nd.array([1.0, 2.0, 0.5], dtype="float64"))
    layer.beta.set_data(mx.nd.array([0.0, 1.0, -1.0], dtype="float64"))
    with autograd.record():
        out = layer(mx.nd.array(x, dtype="float64")).asnumpy()
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, 1.0, -1.0])
    want = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3)
    np.testing.assert_allclose(out, want * gamma[None, :, None, None] + beta[None, :, None, None], rtol=1e-8)
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), 0.2 * mean, rtol=1e-8)
    np.testing.assert_allclose(layer.running_var.data().asnumpy(), 0.8 + 0.2 * var, rtol=1e-8)
    inference = layer(mx.nd.array(x, dtype="float64")).asnumpy()
    running_mean = layer.running_mean.data().asnumpy()
    running_var = layer.running_var.data().asnumpy()
    want = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + 1e-3)
    np.testing.assert_allclose(inference, want * gamma[None, :, None, None] + beta[None, :, None, None], rtol=1e-8)


def test_layer_instance_and_group_norm():
    x = RNG.normal(size=(2, 4, 3, 5))
    layer = nn.LayerNorm(epsilon=1e-5)
    out = _run(layer, x)
    p = _params(layer)
    normal = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, normal * p["gamma"] + p["beta"], rtol=1e-8)
    layer = nn.InstanceNorm(epsilon=1e-5, scale=True)
    out = _run(layer, x)
    p = _params(layer)
    normal = (x - x.mean((2, 3), keepdims=True)) / np.sqrt(x.var((2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, normal * p["gamma"][None, :, None, None] + p["beta"][None, :, None, None],
                               rtol=1e-8)
    layer = nn.GroupNorm(num_groups=2, epsilon=1e-5)
    out = _run(layer, x)
    p = _params(layer)
    grouped = x.reshape(2, 2, -1)
    normal = ((grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(grouped.var(-1, keepdims=True) + 1e-5))
    normal = normal.reshape(2, 2, 2, 3, 5) * p["gamma"][None, :, None, None, None] + \
        p["beta"][None, :, None, None, None]
    np.testing.assert_allclose(out, normal.reshape(x.shape), rtol=1e-8)


def test_embedding_flatten_and_lambdas():
    layer = nn.Embedding(10, 3)
    indices = np.array([[1, 4], [9, 0]])
    out = _run(layer, indices)
    np.testing.assert_array_equal(out, _params(layer)["weight"][indices])
    x = RNG.normal(size=(2, 3, 4))
    np.testing.assert_array_equal(_run(nn.Flatten(), x), x.reshape(2, 12))
    np.testing.assert_allclose(_run(nn.HybridLambda("tanh"), x), np.tanh(x), rtol=1e-12)
    np.testing.assert_allclose(_run(nn.HybridLambda(lambda F, v: F.exp(v) * 2), x), np.exp(x) * 2, rtol=1e-12)
    np.testing.assert_allclose(_run(nn.Lambda(lambda v: v + 1), x), x + 1, rtol=1e-12)


def _selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * (np.exp(x) - 1))


@pytest.mark.parametrize("layer,formula", [
    (lambda: nn.Activation("relu"), lambda x: np.maximum(x, 0)),
    (lambda: nn.Activation("sigmoid"), lambda x: 1 / (1 + np.exp(-x))),
    (lambda: nn.Activation("softrelu"), lambda x: np.log1p(np.exp(x))),
    (lambda: nn.Activation("softsign"), lambda x: x / (1 + np.abs(x))),
    (lambda: nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (lambda: nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
    (lambda: nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (lambda: nn.SELU(), _selu),
    (lambda: nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (lambda: nn.Swish(2.0), lambda x: x / (1 + np.exp(-2 * x))),
])
def test_activations_match_numpy(layer, formula):
    x = RNG.normal(size=(3, 4)) * 2
    block = layer()
    block.initialize()
    block.cast("float64")
    np.testing.assert_allclose(block(mx.nd.array(x, dtype="float64")).asnumpy(), formula(x), rtol=1e-6, atol=1e-9)


def test_dropout_scales_in_training_and_passes_through_otherwise():
    layer = nn.Dropout(0.25)
    x = mx.nd.ones((200, 50))
    np.testing.assert_array_equal(layer(x).asnumpy(), np.ones((200, 50)))
    with autograd.train_mode():
        out = layer(x).asnumpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02


# ---- Losses -------------------------------------------------------------------------------------------------

def _loss(block, *inputs):
    return block(*[None if value is None else mx.nd.array(value, dtype="float64") for value in inputs]).asnumpy()


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def test_regression_losses():
    pred = RNG.normal(size=(4, 3))
    label = RNG.normal(size=(4, 3))
    weight = RNG.uniform(size=(4, 1))
    np.testing.assert_allclose(_loss(gloss.L2Loss(), pred, label), 0.5 * ((label - pred) ** 2).mean(1), rtol=1e-12)
    np.testing.assert_allclose(_loss(gloss.L1Loss(weight=2.0), pred, label, weight),
                               2 * (np.abs(label - pred) * weight).mean(1), rtol=1e-12)
    error = np.abs(label - pred)
    huber = np.where(error > 0.5, error - 0.25, error ** 2)
    np.testing.assert_allclose(_loss(gloss.HuberLoss(rho=0.5), pred, label), huber.mean(1), rtol=1e-12)
    np.testing.assert_allclose(_loss(gloss.L2Loss(), pred, label.reshape(12)),
                               0.5 * ((label - pred) ** 2).mean(1), rtol=1e-12)


def test_classification_losses():
    pred = RNG.normal(size=(5, 4)) * 2
    sparse = np.array([0, 3, 1, 2, 3])
    logp = _log_softmax(pred)
    np.testing.assert_allclose(_loss(gloss.SoftmaxCrossEntropyLoss(), pred, sparse), -logp[range(5), sparse],
                               rtol=1e-10)
    dense = RNG.dirichlet(np.ones(4), size=5)
    np.testing.assert_allclose(_loss(gloss.SoftmaxCELoss(sparse_label=False), pred, dense),
                               -(logp * dense).sum(1), rtol=1e-10)
    np.testing.assert_allclose(_loss(gloss.SoftmaxCrossEntropyLoss(from_logits=True), logp, sparse),
                               -logp[range(5), sparse], rtol=1e-10)
    np.testing.assert_allclose(_loss(gloss.KLDivLoss(), logp, dense),
                               (dense * (np.log(dense + 1e-12) - logp)).mean(1), rtol=1e-10)
    np.testing.assert_allclose(_loss(gloss.KLDivLoss(from_logits=False), pred, dense),
                               (dense * (np.log(dense + 1e-12) - logp)).mean(1), rtol=1e-10)


def test_binary_losses():
    pred = RNG.normal(size=(4, 3)) * 3
    label01 = RNG.integers(0, 2, size=(4, 3)).astype(np.float64)
    signed = 2 * label01 - 1
    prob = 1 / (1 + np.exp(-pred))
    bce = -(label01 * np.log(prob) + (1 - label01) * np.log(1 - prob))
    np.testing.assert_allclose(_loss(gloss.SigmoidBinaryCrossEntropyLoss(), pred, label01), bce.mean(1), rtol=1e-9)
    np.testing.assert_allclose(_loss(gloss.SigmoidBCELoss(from_sigmoid=True), prob, label01), bce.mean(1),
                               rtol=1e-9)
    pos_weight = np.array([[2.0, 1.0, 0.5]])
    weighted = -(pos_weight * label01 * np.log(prob) + (1 - label01) * np.log(1 - prob))
    np.testing.assert_allclose(_loss(gloss.SigmoidBCELoss(), pred, label01, None, pos_weight), weighted.mean(1),
                               rtol=1e-9)
    np.testing.assert_allclose(_loss(gloss.HingeLoss(), pred, signed), np.maximum(0, 1 - pred * signed).mean(1),
                               rtol=1e-12)
    np.testing.assert_allclose(_loss(gloss.SquaredHingeLoss(margin=2), pred, signed),
                               (np.maximum(0, 2 - pred * signed) ** 2).mean(1), rtol=1e-12)
    np.testing.assert_allclose(_loss(gloss.LogisticLoss(), pred, signed), np.log1p(np.exp(-pred * signed)).mean(1),
                               rtol=1e-9)
    np.testing.assert_allclose(_loss(gloss.LogisticLoss(label_format="binary"), pred, label01),
                               np.log1p(np.exp(-pred * signed)).mean(1), rtol=1e-9)
    with pytest.raises(ValueError, match="label_format"):
        gloss.LogisticLoss(label_format="other")


def test_embedding_losses():
    pred, positive, negative = (RNG.normal(size=(4, 3)) for _ in range(3))
    triplet = np.maximum(((positive - pred) ** 2).sum(1) - ((negative - pred) ** 2).sum(1) + 1, 0)
    np.testing.assert_allclose(_loss(gloss.TripletLoss(), pred, positive, negative), triplet, rtol=1e-12)
    a, b = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    label = np.array([1, -1, 1, -1])
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    want = np.where(label == 1, 1 - cos, np.maximum(0, cos - 0.1))
    np.testing.assert_allclose(_loss(gloss.CosineEmbeddingLoss(margin=0.1), a, b, label).reshape(-1), want,
                               rtol=1e-9)


def test_poisson_nll_loss():
    pred = RNG.uniform(0.5, 2, size=(4, 3))
    # Positive counts: MXNet's Stirling term is NaN at 0 (0 * log 0), and so is this one.
    target = RNG.integers(1, 6, size=(4, 3)).astype(np.float64)
    np.testing.assert_allclose(_loss(gloss.PoissonNLLLoss(), pred, target), (np.exp(pred) - target * pred).mean(),
                               rtol=1e-12)
    plain = pred - target * np.log(pred + 1e-8)
    stirling = np.where(target > 1, target * np.log(target) - target + 0.5 * np.log(2 * np.pi * target), 0)
    np.testing.assert_allclose(_loss(gloss.PoissonNLLLoss(from_logits=False, compute_full=True), pred, target),
                               (plain + stirling).mean(), rtol=1e-10)


def test_loss_gradients_reach_the_prediction():
    pred = mx.nd.array(RNG.normal(size=(3, 4)), dtype="float64")
    label = mx.nd.array([1, 0, 3], dtype="float64")
    pred.attach_grad()
    with autograd.record():
        value = gloss.SoftmaxCrossEntropyLoss()(pred, label)
    value.backward()
    probabilities = np.exp(_log_softmax(pred.asnumpy()))
    probabilities[range(3), [1, 0, 3]] -= 1
    np.testing.assert_allclose(pred.grad.asnumpy(), probabilities, rtol=1e-10)
