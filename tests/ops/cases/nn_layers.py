"""Oracles for the neural-network layers that are not GEMM/convolution based: core/ops/nn/activation.cc,
softmax.cc, normalization.cc, loss_outputs.cc, dropout_embedding.cc, upsampling.cc and their gradient helpers
in nn/grad_helpers.cc.

Loss heads (SoftmaxOutput, the regression outputs, MakeLoss, SVMOutput) define their gradient as the loss
gradient, not the derivative of their forward output, so their Cases set grad=False; test_nn_layers_extra.py
checks those gradients against the loss formulas, and covers the modes one Case cannot (every act_type,
training-mode Dropout, masked softmax, ...)."""

import math

import numpy as np

from cases.common import Case, vectorize

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


# ---- NumPy references shared with test_nn_layers_extra.py -------------------------------------------------

_erf = vectorize(math.erf)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def activation(x, act_type):
    x64 = x.astype(np.float64)
    result = {
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
        "softrelu": lambda v: np.where(v > 20, v, np.log1p(np.exp(np.minimum(v, 20)))),
        "softsign": lambda v: v / (1 + np.abs(v)),
    }[act_type](x64)
    return result.astype(x.dtype)


def leaky_relu(x, gamma=None, act_type="leaky", slope=0.25, lower_bound=0.125, upper_bound=0.334):
    v = x.astype(np.float64)
    if act_type == "leaky":
        out = np.where(v > 0, v, slope * v)
    elif act_type == "elu":
        out = np.where(v > 0, v, slope * np.expm1(v))
    elif act_type == "selu":
        out = SELU_LAMBDA * np.where(v > 0, v, SELU_ALPHA * np.expm1(v))
    elif act_type == "gelu":
        out = 0.5 * v * (1 + _erf(v / math.sqrt(2)))
    elif act_type == "prelu":
        g = gamma.astype(np.float64)
        if g.shape != v.shape and g.size > 1:
            g = g.reshape((1, -1) + (1,) * (v.ndim - 2))
        out = np.where(v > 0, v, g * v)
    else:  # rrelu in predict mode: the mean slope.
        out = np.where(v > 0, v, (lower_bound + upper_bound) / 2 * v)
    return out.astype(x.dtype)


def softmax(x, axis=-1, temperature=None, length=None, kind="softmax", dtype=None):
    t = 1.0 if temperature is None else temperature
    v = np.moveaxis(x.astype(np.float64), axis, -1)
    if kind == "softmin":
        v = -v
    valid = np.ones(v.shape, dtype=bool)
    if length is not None:
        valid = np.arange(v.shape[-1]) < length.astype(np.int64)[..., None]
    shifted = np.where(valid, v / t, -np.inf)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    out = shifted - log_sum if kind == "log_softmax" else np.exp(shifted - log_sum)
    out = np.where(valid, out, 0.0)
    return np.moveaxis(out, -1, axis).astype(dtype or x.dtype)


def _rows_softmax(x, rows):
    return softmax(x.reshape(rows, -1), axis=-1).reshape(x.shape)


def softmax_output_grad(out, label, grad_scale=1.0, ignore_label=-1.0, multi_output=False, use_ignore=False,
                        preserve_shape=False, normalization="null", out_grad=False, smooth_alpha=0.0):
    out = out.astype(np.float64)
    if label.shape == out.shape:
        return (out - label) * grad_scale
    if multi_output:
        n, k = out.shape[0], out.shape[1]
        y = out.reshape(n, k, -1)
        labels = label.reshape(n, -1).astype(np.int64)
    elif preserve_shape:
        k = out.shape[-1]
        y = out.reshape(-1, k, 1)
        labels = label.reshape(-1, 1).astype(np.int64)
    else:
        n = out.shape[0]
        y = out.reshape(n, -1, 1)
        k = y.shape[1]
        labels = label.reshape(-1)[:n].reshape(n, 1).astype(np.int64)
    target = np.where(np.arange(k)[None, :, None] == labels[:, None, :], 1 - smooth_alpha,
                      smooth_alpha / (k - 1) if k > 1 else 0.0)
    grad = y - target
    if use_ignore:
        grad = np.where((labels == int(ignore_label))[:, None, :], 0.0, grad)
    if normalization == "batch":
        normalizer = out.shape[0] if multi_output else label.size
    elif normalization == "valid":
        normalizer = max(int((label.astype(np.int64) != int(ignore_label)).sum()), 1)
    else:
        normalizer = 1
    if multi_output and normalization != "valid":
        normalizer *= y.shape[2]
    return (grad * grad_scale / normalizer).reshape(out.shape)


def svm_output_grad(out, label, margin=1.0, regularization_coefficient=1.0, use_linear=False):
    k = out.shape[-1]
    y = out.reshape(-1, k).astype(np.float64)
    target = np.arange(k)[None, :] == label.reshape(-1, 1).astype(np.int64)
    slack = np.where(target, margin - y, margin + y)
    magnitude = np.where(slack > 0, 1.0 if use_linear else 2 * slack, 0.0)
    return (magnitude * np.where(target, -regularization_coefficient, regularization_coefficient)).reshape(out.shape)


def normalize(x, gamma, beta, axes, eps, gamma_shape):
    v = x.astype(np.float64)
    mean = v.mean(axis=axes, keepdims=True)
    var = ((v - mean) ** 2).mean(axis=axes, keepdims=True)
    std = np.sqrt(var + eps)
    out = (v - mean) / std * gamma.reshape(gamma_shape) + beta.reshape(gamma_shape)
    return out, mean, std


def layer_norm(x, gamma, beta, axis=-1, eps=1e-5, output_mean_var=False):
    axis = axis % x.ndim
    shape = [1] * x.ndim
    shape[axis] = -1
    out, mean, std = normalize(x, gamma, beta, (axis,), eps, shape)
    results = [out, mean, std] if output_mean_var else [out]
    return [r.astype(x.dtype) for r in results]


def instance_norm(x, gamma, beta, eps=1e-3):
    shape = [1, -1] + [1] * (x.ndim - 2)
    out, _, _ = normalize(x, gamma, beta, tuple(range(2, x.ndim)), eps, shape)
    return out.astype(x.dtype)


def group_norm(x, gamma, beta, num_groups=1, eps=1e-5, output_mean_var=False):
    n = x.shape[0]
    grouped = x.reshape(n, num_groups, -1)
    out, mean, std = normalize(grouped, gamma, beta, (2,), eps, (1, -1, 1))
    results = [out.reshape(x.shape), mean.reshape(n, num_groups), std.reshape(n, num_groups)]
    return [r.astype(x.dtype) for r in (results if output_mean_var else results[:1])]


def l2_normalization(x, eps=1e-10, mode="instance"):
    v = x.astype(np.float64)
    axes = {"instance": tuple(range(1, x.ndim)), "channel": (1,), "spatial": tuple(range(2, x.ndim))}[mode]
    return (v / np.sqrt((v * v).sum(axis=axes, keepdims=True) + eps)).astype(x.dtype)


def embedding(data, weight, input_dim, output_dim, dtype="float32", sparse_grad=False):
    index = np.clip(data.astype(np.int64), 0, input_dim - 1)
    return weight[index]


def embedding_grad(data, grad, input_dim, output_dim, dtype="float32", sparse_grad=False):
    index = np.clip(data.astype(np.int64), 0, input_dim - 1).reshape(-1)
    result = np.zeros((input_dim, output_dim), dtype=np.float64)
    np.add.at(result, index, grad.reshape(-1, output_dim).astype(np.float64))
    return result.astype(grad.dtype)


def upsampling(*inputs, scale, sample_type="nearest", num_args=1, multi_input_mode="concat", **_):
    height = inputs[0].shape[2] * scale
    parts = []
    for x in inputs:
        s = height // x.shape[2]
        parts.append(x.repeat(s, axis=2).repeat(s, axis=3))
    return np.concatenate(parts, axis=1) if multi_input_mode == "concat" else sum(parts).astype(inputs[0].dtype)


def _upsampling_grad(grad, *inputs, index, num_args, scale, multi_input_mode="concat"):
    first = sum(x.shape[1] for x in inputs[:index]) if multi_input_mode == "concat" else 0
    x = inputs[index]
    s = grad.shape[2] // x.shape[2]
    g = grad[:, first:first + x.shape[1]].astype(np.float64)
    n, c, h, w = x.shape
    return g.reshape(n, c, h, s, w, s).sum(axis=(3, 5)).astype(grad.dtype)


def _bilinear_taps(shape, scale):
    """(input index, tap index, output index) triples of bilinear UpSampling on one (H, W) plane."""
    height, width = shape
    kernel, pad = 2 * scale - scale % 2, scale // 2
    triples = []
    for iy in range(height):
        for ix in range(width):
            for ky in range(kernel):
                for kx in range(kernel):
                    oy, ox = iy * scale - pad + ky, ix * scale - pad + kx
                    if 0 <= oy < height * scale and 0 <= ox < width * scale:
                        triples.append(((iy, ix), (ky, kx), (oy, ox)))
    return triples


def bilinear_upsampling(data, weight, scale, **_):
    n, c, h, w = data.shape
    out = np.zeros((n, c, h * scale, w * scale))
    for (i, t, o) in _bilinear_taps((h, w), scale):
        out[:, :, o[0], o[1]] += data[:, :, i[0], i[1]] * weight[:, 0, t[0], t[1]]
    return out.astype(data.dtype)


def _bilinear_data_grad(grad, weight, scale):
    n, c, h, w = grad.shape[0], grad.shape[1], grad.shape[2] // scale, grad.shape[3] // scale
    out = np.zeros((n, c, h, w))
    for (i, t, o) in _bilinear_taps((h, w), scale):
        out[:, :, i[0], i[1]] += grad[:, :, o[0], o[1]] * weight[:, 0, t[0], t[1]]
    return out.astype(grad.dtype)


def _bilinear_weight_grad(grad, data, scale):
    kernel = 2 * scale - scale % 2
    out = np.zeros((data.shape[1], 1, kernel, kernel))
    for (i, t, o) in _bilinear_taps(data.shape[2:], scale):
        out[:, 0, t[0], t[1]] += (data[:, :, i[0], i[1]] * grad[:, :, o[0], o[1]]).sum(axis=0)
    return out.astype(grad.dtype)


def _labels(rows, classes):
    return lambda rng, dtype: rng.integers(0, classes, size=rows)


def _probabilities_and_labels(shape, label_shape, classes):
    def make(rng, dtype):
        logits = rng.uniform(-2, 2, size=shape)
        return [_rows_softmax(logits, shape[0]) if len(shape) == 2 else logits,
                rng.integers(0, classes, size=label_shape)]
    return make


# ---- activation.cc --------------------------------------------------------------------------------------
_case("Activation", activation, params={"act_type": "softrelu"}, domain=(-3.0, 3.0))
_case("LeakyReLU", leaky_relu, params={"act_type": "leaky", "slope": 0.3}, avoid_zero=True)

# ---- softmax.cc -----------------------------------------------------------------------------------------
_case("softmax", lambda x, axis, temperature: softmax(x, axis, temperature), shapes=((2, 4, 3),),
      params={"axis": 1, "temperature": 2.0})
_case("log_softmax", lambda x: softmax(x, kind="log_softmax"))
_case("softmin", lambda x, axis: softmax(x, axis, kind="softmin"), params={"axis": 0})
_case("SoftmaxActivation", lambda x, mode: np.moveaxis(softmax(np.moveaxis(x, 1, -1)), -1, 1),
      shapes=((2, 3, 2, 2),), params={"mode": "channel"})
_case("_nn_length_mask",
      lambda x, length, axis: (np.arange(x.shape[1])[None, :] < length[:, None]).astype(x.dtype),
      params={"axis": 1}, make_inputs=lambda rng, dtype: [rng.uniform(-1, 1, (3, 4)), [0, 2, 4]])

# ---- loss_outputs.cc ------------------------------------------------------------------------------------
_case("SoftmaxOutput", lambda x, label: _rows_softmax(x, x.shape[0]), grad=False,
      make_inputs=lambda rng, dtype: [rng.uniform(-2, 2, (4, 5)), rng.integers(0, 5, 4)])
_case("_nn_softmax_output_grad",
      lambda out, label, **p: softmax_output_grad(out, label, **p).astype(out.dtype),
      params={"use_ignore": True, "ignore_label": 1, "normalization": "valid", "smooth_alpha": 0.1,
              "grad_scale": 2.0},
      make_inputs=_probabilities_and_labels((4, 5), (4,), 5))
_case("softmax_cross_entropy",
      lambda x, label: np.array([-np.log(_rows_softmax(x, x.shape[0])[np.arange(x.shape[0]),
                                                                        label.astype(np.int64)]).sum()],
                                dtype=x.dtype),
      make_inputs=lambda rng, dtype: [rng.uniform(-2, 2, (4, 5)), rng.integers(0, 5, 4)])
_case("LinearRegressionOutput", lambda x, label: x.copy(), shapes=((3, 4), (3, 4)), grad=False)
_case("LogisticRegressionOutput", lambda x, label: (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype),
      shapes=((3, 4), (3, 4)), grad=False)
_case("MAERegressionOutput", lambda x, label: x.copy(), shapes=((3, 1), (3,)), grad=False)
_case("MakeLoss", lambda x: x.copy(), grad=False)
_case("SVMOutput", lambda x, label: x.copy(), grad=False,
      make_inputs=lambda rng, dtype: [rng.uniform(-2, 2, (4, 5)), rng.integers(0, 5, 4)])
_case("_nn_svm_output_grad", lambda out, label, **p: svm_output_grad(out, label, **p).astype(out.dtype),
      params={"margin": 0.5, "regularization_coefficient": 1.5},
      make_inputs=lambda rng, dtype: [rng.uniform(-2, 2, (4, 5)), rng.integers(0, 5, 4)])

# Identity forward; the KL penalty gradient is checked in test_nn_layers_extra.py.
_case("IdentityAttachKLSparseReg", lambda x, moving_avg: x.copy(), grad=False,
      make_inputs=lambda rng, dtype: [rng.uniform(-1, 1, (3, 4)), rng.uniform(0.2, 0.8, (4,))])

# ---- normalization.cc -----------------------------------------------------------------------------------
_case("LayerNorm", layer_norm, shapes=((2, 3, 4), (3,), (3,)), params={"axis": 1, "output_mean_var": True})
_case("InstanceNorm", instance_norm, shapes=((2, 3, 4), (3,), (3,)), params={"eps": 0.01})
_case("GroupNorm", group_norm, shapes=((2, 4, 3), (2,), (2,)), params={"num_groups": 2, "output_mean_var": True})
_case("L2Normalization", l2_normalization, shapes=((2, 3, 4),), params={"mode": "channel"}, avoid_zero=True)

# ---- dropout_embedding.cc, upsampling.cc ----------------------------------------------------------------
# Predict mode (the harness' default): the identity. test_nn_layers_extra.py covers dropping.
_case("Dropout", lambda x, p: x.copy(), params={"p": 0.3})
_case("Embedding", lambda data, weight, **p: embedding(data, weight, **p), params={"input_dim": 5, "output_dim": 4},
      make_inputs=lambda rng, dtype: [rng.integers(0, 5, (2, 3)), rng.uniform(-1, 1, (5, 4))])
_case("_nn_embedding_grad", embedding_grad, params={"input_dim": 5, "output_dim": 4},
      make_inputs=lambda rng, dtype: [[[0, 3, 3], [4, 0, 3]], rng.uniform(-1, 1, (2, 3, 4))])
_case("UpSampling", upsampling, shapes=((1, 2, 2, 2), (1, 3, 1, 1)),
      params={"scale": 2, "sample_type": "nearest", "num_args": 2})
_case("_nn_upsampling_grad", _upsampling_grad, shapes=((1, 5, 4, 4), (1, 2, 2, 2), (1, 3, 1, 1)),
      params={"index": 1, "num_args": 3, "scale": 2})

_case("_nn_upsampling_bilinear_data_grad", _bilinear_data_grad, shapes=((1, 2, 4, 6), (2, 1, 4, 4)),
      params={"scale": 2})
_case("_nn_upsampling_bilinear_weight_grad", _bilinear_weight_grad, shapes=((2, 2, 6, 3), (2, 2, 2, 1)),
      params={"scale": 3})

# ---- grad_helpers.cc ------------------------------------------------------------------------------------
_case("_nn_sum_keepdims", lambda x, axis, exclude: x.sum(axis=(0, 2), keepdims=True), shapes=((2, 3, 4),),
      params={"axis": (1,), "exclude": True})
_case("_nn_reshape_like", lambda x, like: x.reshape(like.shape), shapes=((2, 6), (3, 4)))
_case("_nn_axis_vector", lambda v, like, axis: v.reshape(1, -1, 1), shapes=((3,), (2, 3, 4)), params={"axis": 1})
_case("_nn_group_channels", lambda x, num_groups: x.reshape(2, 2, 6), shapes=((2, 4, 3),), params={"num_groups": 2})
_case("_nn_cast_like", lambda x, like: x.astype(like.dtype), shapes=((3, 4), (3, 4)))
