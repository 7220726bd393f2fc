"""Oracles for the GEMM- and convolution-based layers: core/ops/nn/fully_connected.cc, convolution.cc,
deconvolution.cc, pooling.cc, batch_norm.cc and lrn.cc, with their gradient helpers.

The references below are plain NumPy (tap-by-tap slicing and einsum over small shapes); the helpers that are
gradients (_convolution_backward_data, ...) are checked against the vector-Jacobian product of the forward
reference, built column by column (the forward is linear in the differentiated input). One Case per operator
covers one parameter setting; test_nn_dnnl_extra.py sweeps the rest (1-d/2-d/3-d, groups, dilation,
stride, padding, pooling conventions, global pooling, count_include_pad, float16), and
core/ops/nn_dnnl_train_mode_test.cc covers BatchNorm in training mode."""

import itertools

import numpy as np

from cases.common import Case

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


def _tuple(value, count, default):
    if value is None or value == () or value == []:
        return (default,) * count
    return tuple(value)


def _conv_settings(kernel, stride=None, dilate=None, pad=None):
    n = len(kernel)
    return tuple(kernel), _tuple(stride, n, 1), _tuple(dilate, n, 1), _tuple(pad, n, 0)


# ---- FullyConnected ----------------------------------------------------------------------------------------

def fully_connected(x, w, b=None, num_hidden=None, no_bias=False, flatten=True):
    x64 = x.astype(np.float64)
    x2 = x64.reshape(x.shape[0], -1) if flatten else x64.reshape(-1, x.shape[-1])
    out = x2 @ w.astype(np.float64).T
    if b is not None and not no_bias:
        out = out + b.astype(np.float64)
    shape = (x.shape[0], num_hidden) if flatten else x.shape[:-1] + (num_hidden,)
    return out.reshape(shape).astype(x.dtype)


# ---- Convolution and deconvolution -------------------------------------------------------------------------

def conv_forward(x, w, b=None, kernel=(), stride=None, dilate=None, pad=None, num_filter=None, num_group=1,
                 no_bias=False, pad_right=None, **unused):
    """Convolution of (N, C, *spatial) x with (F, C/groups, *kernel) w; pad_right overrides the far-side
    padding (negative values drop trailing input)."""
    kernel, stride, dilate, pad = _conv_settings(kernel, stride, dilate, pad)
    pad_right = pad if pad_right is None else tuple(pad_right)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    widths = [(0, 0), (0, 0)] + [(p, max(r, 0)) for p, r in zip(pad, pad_right)]
    xp = np.pad(x64, widths)
    crop = tuple(slice(None, xp.shape[2 + d] + min(pad_right[d], 0)) for d in range(len(kernel)))
    xp = xp[(slice(None), slice(None)) + crop]
    spans = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilate)]
    out_sizes = [(xp.shape[2 + d] - spans[d]) // stride[d] + 1 for d in range(len(kernel))]
    n, c = x.shape[:2]
    f = w.shape[0]
    cg, fg = c // num_group, f // num_group
    out = np.zeros((n, f) + tuple(out_sizes))
    for g in range(num_group):
        for taps in itertools.product(*[range(k) for k in kernel]):
            window = tuple(slice(t * dl, t * dl + s * (o - 1) + 1, s)
                           for t, dl, s, o in zip(taps, dilate, stride, out_sizes))
            xs = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + window]
            ws = w64[(slice(g * fg, (g + 1) * fg), slice(None)) + taps]
            out[:, g * fg:(g + 1) * fg] += np.einsum("nc...,fc->nf...", xs, ws)
    if b is not None and not no_bias:
        out += b.astype(np.float64).reshape((1, f) + (1,) * len(kernel))
    return out.astype(x.dtype)


def deconv_forward(x, w, b=None, kernel=(), stride=None, dilate=None, pad=None, adj=None, target_shape=None,
                   num_filter=None, num_group=1, no_bias=True, **unused):
    """Transposed convolution by scattering every input position through every tap."""
    kernel, stride, dilate, pad = _conv_settings(kernel, stride, dilate, pad)
    adj = _tuple(adj, len(kernel), 0)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    n, c = x.shape[:2]
    fg = w.shape[1]
    f = fg * num_group
    cg = c // num_group
    ins = x.shape[2:]
    full = [s * (i - 1) + dl * (k - 1) + 1 for s, i, dl, k in zip(stride, ins, dilate, kernel)]
    if target_shape and any(target_shape):
        adj = tuple((fl - t) % 2 for fl, t in zip(full, target_shape))
        pad = tuple((fl - t + 1) // 2 for fl, t in zip(full, target_shape))
    outs = [fl - 2 * p + a for fl, p, a in zip(full, pad, adj)]
    big = np.zeros((n, f) + tuple(max(fl, p + o) for fl, p, o in zip(full, pad, outs)))
    for g in range(num_group):
        for taps in itertools.product(*[range(k) for k in kernel]):
            window = tuple(slice(t * dl, t * dl + s * (i - 1) + 1, s) for t, dl, s, i in zip(taps, dilate, stride, ins))
            contribution = np.einsum("nc...,cf->nf...", x64[:, g * cg:(g + 1) * cg],
                                     w64[(slice(g * cg, (g + 1) * cg), slice(None)) + taps])
            big[(slice(None), slice(g * fg, (g + 1) * fg)) + window] += contribution
    out = big[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(pad, outs))]
    if b is not None and not no_bias:
        out = out + b.astype(np.float64).reshape((1, f) + (1,) * len(kernel))
    return out.astype(x.dtype)


def linear_vjp(function, shape, head):
    """The vector-Jacobian product head^T J of a linear `function` of one array of `shape`."""
    result = np.zeros(shape)
    for index in np.ndindex(*shape):
        basis = np.zeros(shape)
        basis[index] = 1.0
        result[index] = float((function(basis) * head).sum())
    return result


def conv_backward_data(g, w, x, **params):
    params = dict(params, no_bias=True)
    return linear_vjp(lambda v: conv_forward(v, w.astype(np.float64), **params), x.shape,
                      g.astype(np.float64)).astype(g.dtype)


def conv_backward_weight(g, x, **params):
    params = dict(params, no_bias=True)
    shape = (params["num_filter"], x.shape[1] // params.get("num_group", 1)) + tuple(params["kernel"])
    return linear_vjp(lambda v: conv_forward(x.astype(np.float64), v, **params), shape,
                      g.astype(np.float64)).astype(g.dtype)


def deconv_backward_data(g, w, x, **params):
    params = dict(params, no_bias=True)
    return linear_vjp(lambda v: deconv_forward(v, w.astype(np.float64), **params), x.shape,
                      g.astype(np.float64)).astype(g.dtype)


def deconv_backward_weight(g, x, **params):
    params = dict(params, no_bias=True)
    shape = (x.shape[1], params["num_filter"] // params.get("num_group", 1)) + tuple(params["kernel"])
    return linear_vjp(lambda v: deconv_forward(x.astype(np.float64), v, **params), shape,
                      g.astype(np.float64)).astype(g.dtype)


_case("FullyConnected", fully_connected, shapes=((2, 3, 2), (4, 6), (4,)), params=dict(num_hidden=4))

_CONV = dict(kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1), num_filter=4, num_group=2)
_case("Convolution", conv_forward, shapes=((2, 4, 5, 4), (4, 2, 3, 2), (4,)), params=_CONV)
_case("_convolution_backward_data", conv_backward_data, shapes=((2, 4, 3, 4), (4, 2, 3, 2), (2, 4, 5, 4)),
      params=_CONV)
_case("_convolution_backward_weight", conv_backward_weight, shapes=((2, 4, 3, 4), (2, 4, 5, 4)), params=_CONV)

_DECONV = dict(kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 0), adj=(1, 0), num_filter=4, num_group=2,
               no_bias=False)
_case("Deconvolution", deconv_forward, shapes=((2, 4, 3, 3), (4, 2, 3, 2), (4,)), params=_DECONV)
_case("_deconvolution_backward_data", deconv_backward_data, shapes=((2, 4, 6, 5), (4, 2, 3, 2), (2, 4, 3, 3)),
      params=_DECONV)
_case("_deconvolution_backward_weight", deconv_backward_weight, shapes=((2, 4, 6, 5), (2, 4, 3, 3)),
      params=_DECONV)


# ---- Pooling ----------------------------------------------------------------------------------------------

def _pool_plan(x, kernel=(), global_pool=False, pooling_convention="valid", stride=(), pad=(), **unused):
    """Per-axis (input extent, output extent, kernel, stride, pad) of MXNet's Pooling."""
    ins = x.shape[2:]
    n = len(ins)
    if global_pool:
        kernel, stride, pad = tuple(ins), (1,) * n, (0,) * n
    stride, pad = _tuple(stride, n, 1), _tuple(pad, n, 0)
    outs = []
    for i, k, s, p in zip(ins, kernel, stride, pad):
        if global_pool:
            outs.append(1)
        elif pooling_convention == "valid":
            outs.append((i + 2 * p - k) // s + 1)
        elif pooling_convention == "full":
            outs.append(-(-(i + 2 * p - k) // s) + 1)
        else:
            outs.append(-(-(i + 2 * p) // s))
    return ins, tuple(outs), tuple(kernel), stride, pad


def _pool_windows(x, params):
    """Yields (output index, window slices, divisor) following Note [MXNet pooling windows] in pooling.cc."""
    ins, outs, kernel, stride, pad = _pool_plan(x, **params)
    include = params.get("count_include_pad")
    include = True if include is None else include
    for o in np.ndindex(*outs):
        slices, padded, inside = [], 1, 1
        for d in range(len(ins)):
            begin = o[d] * stride[d] - pad[d]
            stop = min(begin + kernel[d], ins[d] + pad[d])
            padded *= stop - begin
            lo, hi = max(begin, 0), min(stop, ins[d])
            inside *= max(hi - lo, 0)
            slices.append(slice(lo, hi))
        yield o, tuple(slices), padded if include else inside


def _channels_first(x, layout):
    return np.moveaxis(x, -1, 1) if layout and layout.endswith("C") else x


def _channels_back(x, layout):
    return np.moveaxis(x, 1, -1) if layout and layout.endswith("C") else x


def pooling(x, pool_type="max", p_value=None, layout=None, **params):
    v = _channels_first(x.astype(np.float64), layout)
    _, outs, _, _, _ = _pool_plan(v, **params)
    out = np.zeros(v.shape[:2] + outs)
    axes = tuple(range(2, v.ndim))
    for o, window, divisor in _pool_windows(v, params):
        w = v[(slice(None), slice(None)) + window]
        if pool_type == "max":
            value = w.max(axis=axes) if w.size else np.finfo(x.dtype).min
        elif pool_type == "avg":
            value = w.sum(axis=axes) / divisor
        elif pool_type == "sum":
            value = w.sum(axis=axes)
        else:
            value = (w ** p_value).sum(axis=axes) ** (1.0 / p_value) if p_value > 1 else w.sum(axis=axes)
        out[(slice(None), slice(None)) + o] = value
    return _channels_back(out, layout).astype(x.dtype)


def pooling_backward(g, x, y, pool_type="max", p_value=None, layout=None, **params):
    v = _channels_first(x.astype(np.float64), layout)
    gv = _channels_first(g.astype(np.float64), layout)
    yv = _channels_first(y.astype(np.float64), layout)
    dx = np.zeros(v.shape)
    for o, window, divisor in _pool_windows(v, params):
        for n, c in np.ndindex(*v.shape[:2]):
            w = v[(n, c) + window]
            grad = gv[(n, c) + o]
            target = dx[(n, c) + window]
            if pool_type == "max":
                if w.size:
                    flat = np.flatnonzero(w == yv[(n, c) + o])
                    if flat.size:
                        target[np.unravel_index(flat[0], w.shape)] += grad
            elif pool_type == "avg":
                target += grad / divisor
            elif pool_type == "sum" or p_value == 1:
                target += grad
            else:
                target += grad * (w / yv[(n, c) + o]) ** (p_value - 1)
    return _channels_back(dx, layout).astype(x.dtype)


def _pooling_backward_inputs(shape, params):
    def make(rng, dtype):
        x = rng.uniform(-2, 2, size=shape).astype(dtype)
        y = pooling(x, **params)
        return [rng.uniform(-1, 1, size=y.shape), x, y]
    return make


_POOL = dict(kernel=(3, 2), stride=(2, 1), pad=(1, 1), pool_type="avg", pooling_convention="full")
_case("Pooling", pooling, shapes=((2, 2, 5, 4),), params=_POOL)
_MAX_POOL = dict(kernel=(2, 2), stride=(2, 1), pad=(1, 0), pool_type="max")
_case("_pooling_backward", pooling_backward, make_inputs=_pooling_backward_inputs((2, 2, 5, 4), _MAX_POOL),
      params=_MAX_POOL, grad=False)


# ---- BatchNorm ----------------------------------------------------------------------------------------------

def _channel(v, x, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.astype(np.float64).reshape(shape)


def batch_norm(x, gamma, beta, moving_mean, moving_var, eps=1e-3, fix_gamma=True, output_mean_var=False, axis=1,
               **unused):
    """Inference mode (what the C ABI runs): the moving statistics normalize."""
    invstd = 1.0 / np.sqrt(moving_var.astype(np.float64) + eps)
    scale = np.ones_like(invstd) if fix_gamma else gamma.astype(np.float64)
    out = (x - _channel(moving_mean, x, axis)) * _channel(invstd * scale, x, axis) + _channel(beta, x, axis)
    if output_mean_var:
        return [out.astype(x.dtype), moving_mean, invstd.astype(moving_var.dtype)]
    return out.astype(x.dtype)


def batch_norm_training(x, gamma, beta, eps=1e-3, fix_gamma=True, axis=1):
    """Training-mode output, batch mean and inverse std (for the extra tests)."""
    axes = tuple(d for d in range(x.ndim) if d != axis % x.ndim)
    v = x.astype(np.float64)
    mean = v.mean(axis=axes)
    invstd = 1.0 / np.sqrt(v.var(axis=axes) + eps)
    scale = np.ones_like(invstd) if fix_gamma else gamma.astype(np.float64)
    out = (v - _channel(mean, x, axis)) * _channel(invstd * scale, x, axis) + _channel(beta, x, axis)
    return out, mean, invstd


def batch_norm_backward(g, x, gamma, mean, invstd, train_mode, eps=1e-3, fix_gamma=True, axis=1, **unused):
    axes = tuple(d for d in range(x.ndim) if d != axis % x.ndim)
    count = x.size / x.shape[axis]
    gv, xv = g.astype(np.float64), x.astype(np.float64)
    w = np.ones(gamma.shape) if fix_gamma else gamma.astype(np.float64)
    centered = xv - _channel(mean, x, axis)
    sum_g = gv.sum(axis=axes)
    dot = (centered * gv).sum(axis=axes)
    s = invstd.astype(np.float64)
    if train_mode[0]:
        dx = (gv - _channel(sum_g / count, x, axis) - centered * _channel(dot * s * s / count, x, axis)) \
            * _channel(w * s, x, axis)
    else:
        dx = gv * _channel(w * s, x, axis)
    dgamma = np.zeros_like(s) if fix_gamma else dot * s
    return [dx.astype(x.dtype), dgamma.astype(gamma.dtype), sum_g.astype(gamma.dtype)]


def _batch_norm_inputs(shape, axis):
    def make(rng, dtype):
        channels = shape[axis]
        return [rng.uniform(-2, 2, size=shape), rng.uniform(0.5, 1.5, size=channels),
                rng.uniform(-1, 1, size=channels), rng.uniform(-0.5, 0.5, size=channels),
                rng.uniform(0.5, 2.0, size=channels)]
    return make


def _batch_norm_backward_inputs(shape, axis, train_mode):
    def make(rng, dtype):
        x = rng.uniform(-2, 2, size=shape)
        _, mean, invstd = batch_norm_training(x, None, np.zeros(shape[axis]), eps=1e-3, axis=axis)
        return [rng.uniform(-1, 1, size=shape), x, rng.uniform(0.5, 1.5, size=shape[axis]), mean, invstd,
                [float(train_mode)]]
    return make


_BN = dict(eps=1e-3, fix_gamma=False, output_mean_var=True, axis=1)
_case("BatchNorm", batch_norm, make_inputs=_batch_norm_inputs((2, 3, 2, 2), 1), params=_BN)
_case("_batch_norm_backward", batch_norm_backward, make_inputs=_batch_norm_backward_inputs((3, 4, 5), -1, True),
      params=dict(eps=1e-3, fix_gamma=False, axis=-1), grad=False)


# ---- LRN ------------------------------------------------------------------------------------------------------

def _lrn_norms(v, nsize, alpha, knorm):
    squares = v ** 2
    half = nsize // 2
    sums = np.zeros_like(v)
    for c in range(v.shape[1]):
        sums[:, c] = squares[:, max(0, c - half):c + half + 1].sum(axis=1)
    return knorm + alpha / nsize * sums


def lrn(x, alpha=1e-4, beta=0.75, knorm=2.0, nsize=None):
    v = x.astype(np.float64)
    return (v * _lrn_norms(v, nsize, alpha, knorm) ** -beta).astype(x.dtype)


def lrn_backward(g, x, alpha=1e-4, beta=0.75, knorm=2.0, nsize=None):
    v, gv = x.astype(np.float64), g.astype(np.float64)
    norms = _lrn_norms(v, nsize, alpha, knorm)
    weighted = gv * v * norms ** (-beta - 1)
    half = nsize // 2
    window = np.zeros_like(v)
    for c in range(v.shape[1]):
        window[:, c] = weighted[:, max(0, c - half):c + half + 1].sum(axis=1)
    return (gv * norms ** -beta - 2 * beta * alpha / nsize * v * window).astype(x.dtype)


_LRN = dict(alpha=0.5, beta=0.75, knorm=2.0, nsize=3)
_case("LRN", lrn, shapes=((2, 5, 2, 2),), params=_LRN)
_case("_lrn_backward", lrn_backward, shapes=((2, 5, 3, 2), (2, 5, 3, 2)), params=_LRN, grad=False)
