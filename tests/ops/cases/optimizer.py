"""NumPy oracles for the optimizer update family: optimizer_ops.cc and optimizer_multi.cc.

Each oracle returns (outputs, {input index: new value}) computed in float64 from MXNet 1.9.1's documented
update rules; the check runs the op with pmx.invoke_keep_inputs and compares the new weight(s) and every
state the op updates in place, and that the inputs it must not touch are unchanged. Every op is tried with
clipping on and off and with non-default hyper-parameters.
"""

import numpy as np

import pmx_ctypes as pmx
from cases.common import Case

CASES = {}


def clip(x, bound):
    return np.clip(x, -bound, bound) if bound >= 0 else x


def _tolerance(dtype):
    return {"float16": dict(rtol=2e-3, atol=2e-3), "float32": dict(rtol=2e-5, atol=2e-6),
            "float64": dict(rtol=1e-10, atol=1e-12)}.get(np.dtype(dtype).name, dict(rtol=0, atol=0))


def update_check(oracle, fp32_inputs=(), variants=(), stride=0, float32_output=False):
    """A Case check comparing op(inputs) with oracle(*inputs, **params) for the Case's params and each of
    `variants` (dicts overriding them). Inputs at `fp32_inputs` are float32 whatever the tested dtype; output i
    has the dtype of input i*stride (the weight of group i), or float32 with float32_output."""
    def check(name, inputs, dtype, params):
        inputs = [x.astype(np.float32) if i in fp32_inputs else x for i, x in enumerate(inputs)]
        for variant in [{}] + list(variants):
            call = dict(params, **variant)
            outputs, after = pmx.invoke_keep_inputs(name, inputs, **call)
            want_outputs, want_states = oracle(*[x.astype(np.float64) for x in inputs], **call)
            assert len(outputs) == len(want_outputs), f"{name}: {len(outputs)} outputs"
            for index, (got, want) in enumerate(zip(outputs, want_outputs)):
                want_dtype = np.float32 if float32_output else inputs[index * stride].dtype
                assert got.shape == np.shape(want), f"{name} output {index}: shape {got.shape}"
                assert got.dtype == want_dtype, f"{name} output {index}: dtype {got.dtype}, expected {want_dtype}"
                np.testing.assert_allclose(got.astype(np.float64), want, err_msg=f"{name} {dtype} {call} output",
                                           **_tolerance(got.dtype))
            for index, (got, before) in enumerate(zip(after, inputs)):
                if index in want_states:
                    assert got.dtype == before.dtype
                    np.testing.assert_allclose(got.astype(np.float64), want_states[index],
                                               err_msg=f"{name} {dtype} {call} input {index}",
                                               **_tolerance(got.dtype))
                else:
                    np.testing.assert_array_equal(got, before, err_msg=f"{name}: input {index} changed")
    return check


def _case(name, oracle, make_inputs, params, fp32_inputs=(), variants=(), dtypes=("float32", "float64"),
          stride=0, float32_output=False):
    assert name not in CASES, name
    CASES[name] = Case(None, params=params, dtypes=dtypes, grad=False, make_inputs=make_inputs,
                       check=update_check(oracle, fp32_inputs, variants, stride, float32_output))


def _inputs(*ranges, shape=(3, 5)):
    """make_inputs drawing one array per (low, high) range."""
    return lambda rng, dtype: [rng.uniform(low, high, size=shape) for low, high in ranges]


W, G, MOM, POS = (-1, 1), (-2, 2), (-0.1, 0.1), (0.0, 0.5)
CLIP_OFF = dict(clip_gradient=-1)

# ---- SGD family -----------------------------------------------------------------------------------------


def _sgd(w, g, lr, wd=0, rescale_grad=1, clip_gradient=-1, **_):
    return [(1 - lr * wd) * w - lr * clip(rescale_grad * g, clip_gradient)], {}


def _sgd_mom(w, g, mom, lr, momentum=0, wd=0, rescale_grad=1, clip_gradient=-1, **_):
    mom = momentum * mom - lr * wd * w - lr * clip(rescale_grad * g, clip_gradient)
    return [w + mom], {2: mom}


def _mp_sgd(w, g, w32, **params):
    (new,), _ = _sgd(w32, g, **params)
    return [new], {2: new}


def _mp_sgd_mom(w, g, mom, w32, **params):
    (new,), states = _sgd_mom(w32, g, mom, **params)
    return [new], {2: states[2], 3: new}


def _nag(w, g, mom, lr, momentum=0, wd=0, rescale_grad=1, clip_gradient=-1):
    step = lr * (clip(rescale_grad * g, clip_gradient) + wd * w)
    decayed = momentum * mom
    return [w - decayed + (momentum + 1) * (decayed - step)], {2: decayed - step}


def _mp_nag(w, g, mom, w32, lr, momentum=0, wd=0, rescale_grad=1, clip_gradient=-1):
    scaled = clip(rescale_grad * g, clip_gradient)
    decayed = momentum * mom
    new = w32 - decayed + (momentum + 1) * (decayed - lr * (scaled + wd * w32))
    return [new], {2: decayed - lr * (scaled + wd * new), 3: new}  # MXNet takes wd at the new weight here.


SGD = dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)
SGD_MOM = dict(SGD, momentum=0.9)
_case("sgd_update", _sgd, _inputs(W, G), SGD, variants=[CLIP_OFF, dict(lazy_update=False)])
_case("sgd_mom_update", _sgd_mom, _inputs(W, G, MOM), SGD_MOM, variants=[CLIP_OFF])
_case("mp_sgd_update", _mp_sgd, _inputs(W, G, W), SGD, fp32_inputs=(2,), variants=[CLIP_OFF],
      dtypes=("float16", "float32"))
_case("mp_sgd_mom_update", _mp_sgd_mom, _inputs(W, G, MOM, W), SGD_MOM, fp32_inputs=(2, 3), variants=[CLIP_OFF],
      dtypes=("float16", "float32"))
_case("nag_mom_update", _nag, _inputs(W, G, MOM), SGD_MOM, variants=[CLIP_OFF])
_case("mp_nag_mom_update", _mp_nag, _inputs(W, G, MOM, W), SGD_MOM, fp32_inputs=(2, 3), variants=[CLIP_OFF],
      dtypes=("float16", "float32"))

# ---- Adam family ----------------------------------------------------------------------------------------


def _adam(w, g, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0, rescale_grad=1, clip_gradient=-1, **_):
    scaled = clip(rescale_grad * g + wd * w, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * scaled
    var = beta2 * var + (1 - beta2) * scaled ** 2
    return [w - lr * mean / (np.sqrt(var) + epsilon)], {2: mean, 3: var}


def _adamw(w, g, mean, var, rescale, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0, clip_gradient=-1):
    scale = float(rescale.ravel()[0])
    if not np.isfinite(scale) or scale == 0:
        return [w], {}
    scaled = clip(scale * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * scaled
    var = beta2 * var + (1 - beta2) * scaled ** 2
    return [w - eta * (lr * mean / (np.sqrt(var) + epsilon) + wd * w)], {2: mean, 3: var}


def _mp_adamw(w, g, mean, var, w32, rescale, **params):
    (new,), states = _adamw(w32, g, mean, var, rescale, **params)
    return [new], ({**states, 4: new} if states else {})


def _adamw_inputs(extra):
    def make(rng, dtype):
        arrays = [rng.uniform(*r, size=(4, 3)) for r in [W, G, MOM, POS] + extra]
        return arrays + [np.full((1,), 0.5)]
    return make


ADAM = dict(lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.05, rescale_grad=0.5, clip_gradient=0.4)
ADAMW = dict(lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.05, eta=0.7, clip_gradient=0.4)
_case("adam_update", _adam, _inputs(W, G, MOM, POS), ADAM, variants=[CLIP_OFF])
_case("_adamw_update", _adamw, _adamw_inputs([]), ADAMW, fp32_inputs=(4,), variants=[CLIP_OFF])
_case("_mp_adamw_update", _mp_adamw, _adamw_inputs([W]), ADAMW, fp32_inputs=(2, 3, 4, 5), variants=[CLIP_OFF],
      dtypes=("float16", "float32"))


def _ftml(w, g, d, v, z, lr, t, beta1=0.6, beta2=0.999, epsilon=1e-8, wd=0, rescale_grad=1, clip_grad=-1):
    scaled = clip(rescale_grad * g + wd * w, clip_grad)
    v = beta2 * v + (1 - beta2) * scaled ** 2
    d_t = (1 - beta1 ** t) / lr * (np.sqrt(v / (1 - beta2 ** t)) + epsilon)
    z = beta1 * z + (1 - beta1) * scaled - (d_t - beta1 * d) * w
    return [-z / d_t], {2: d_t, 3: v, 4: z}


_case("ftml_update", _ftml, _inputs(W, G, (0.1, 1), POS, W),
      dict(lr=0.05, beta1=0.5, beta2=0.99, epsilon=1e-6, t=3, wd=0.01, rescale_grad=0.5, clip_grad=0.4),
      variants=[dict(clip_grad=-1, t=1)])

# ---- RMSProp, FTRL, sign methods, AdaGrad ---------------------------------------------------------------


def _rmsprop(w, g, n, lr, gamma1=0.95, epsilon=1e-8, wd=0, rescale_grad=1, clip_gradient=-1, clip_weights=-1):
    scaled = clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * scaled ** 2 + gamma1 * n
    return [clip(w - lr * scaled / np.sqrt(n + epsilon), clip_weights)], {2: n}


def _rmspropalex(w, g, n, mean, delta, lr, gamma1=0.95, gamma2=0.9, epsilon=1e-8, wd=0, rescale_grad=1,
                 clip_gradient=-1, clip_weights=-1):
    scaled = clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * scaled ** 2 + gamma1 * n
    mean = (1 - gamma1) * scaled + gamma1 * mean
    delta = gamma2 * delta - lr * scaled / np.sqrt(n - mean ** 2 + epsilon)
    return [clip(w + delta, clip_weights)], {2: n, 3: mean, 4: delta}


RMS = dict(lr=0.05, gamma1=0.9, epsilon=1e-6, wd=0.01, rescale_grad=0.5, clip_gradient=0.4, clip_weights=0.9)
_case("rmsprop_update", _rmsprop, _inputs(W, G, POS), RMS, variants=[dict(clip_gradient=-1, clip_weights=-1)])
_case("rmspropalex_update", _rmspropalex, _inputs(W, G, (0.5, 1.0), (-0.3, 0.3), MOM), dict(RMS, gamma2=0.8),
      variants=[dict(clip_gradient=-1, clip_weights=-1)])


def _ftrl(w, g, z, n, lr, lamda1=0.01, beta=1, wd=0, rescale_grad=1, clip_gradient=-1):
    scaled = clip(rescale_grad * g, clip_gradient)
    z = z + scaled - (np.sqrt(n + scaled ** 2) - np.sqrt(n)) * w / lr
    n = n + scaled ** 2
    new = (np.sign(z) * lamda1 - z) / ((beta + np.sqrt(n)) / lr + wd) * (np.abs(z) > lamda1)
    return [new], {2: z, 3: n}


_case("ftrl_update", _ftrl, _inputs(W, G, W, POS),
      dict(lr=0.1, lamda1=0.3, beta=0.5, wd=0.01, rescale_grad=0.5, clip_gradient=0.4), variants=[CLIP_OFF])


def _signsgd(w, g, lr, wd=0, rescale_grad=1, clip_gradient=-1):
    return [(1 - lr * wd) * w - lr * np.sign(g)], {}


def _signum(w, g, mom, lr, momentum=0, wd=0, rescale_grad=1, clip_gradient=-1, wd_lh=0):
    mom = momentum * mom - (1 - momentum) * wd * w - (1 - momentum) * clip(rescale_grad * g, clip_gradient)
    return [(1 - lr * wd_lh) * w + lr * np.sign(mom)], {2: mom}


def _adagrad(w, g, history, lr, epsilon=1e-7, wd=0, rescale_grad=1, clip_gradient=-1):
    scaled = clip(rescale_grad * g, clip_gradient)
    history = history + scaled ** 2
    return [w - lr * (scaled / np.sqrt(history + epsilon) + wd * w)], {2: history}


_case("signsgd_update", _signsgd, _inputs(W, G), SGD)
_case("signum_update", _signum, _inputs(W, G, MOM), dict(SGD_MOM, wd_lh=0.02), variants=[CLIP_OFF])
_case("_sparse_adagrad_update", _adagrad, _inputs(W, G, POS), dict(SGD, epsilon=1e-5), variants=[dict(wd=0)])

# ---- LAMB ---------------------------------------------------------------------------------------------


def _lamb1(w, g, mean, var, t, wd, beta1=0.9, beta2=0.999, epsilon=1e-6, bias_correction=True, rescale_grad=1,
           clip_gradient=-1, weight=None):
    scaled = clip(rescale_grad * g, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * scaled
    var = beta2 * var + (1 - beta2) * scaled ** 2
    decay_at = w if weight is None else weight
    if bias_correction in (True, "True"):
        direction = (mean / (1 - beta1 ** t)) / (np.sqrt(var / (1 - beta2 ** t)) + epsilon) + wd * decay_at
    else:
        direction = mean / (np.sqrt(var) + epsilon) + wd * decay_at
    return [direction], {2: mean, 3: var}


def _mp_lamb1(w, g, mean, var, w32, **params):
    return _lamb1(w, g, mean, var, weight=w32, **params)


def _lamb_rate(r1, r2, lr, lower_bound=-1, upper_bound=-1):
    r1, r2 = float(r1.ravel()[0]), float(r2.ravel()[0])
    if lower_bound >= 0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0:
        r1 = min(r1, upper_bound)
    return lr if r1 == 0 or r2 == 0 else lr * r1 / r2


def _lamb2(w, g, r1, r2, **params):
    return [w - _lamb_rate(r1, r2, **params) * g], {}


def _mp_lamb2(w, g, r1, r2, w32, **params):
    return [w32 - _lamb_rate(r1, r2, **params) * g], {}


def _lamb2_inputs(extra):
    def make(rng, dtype):
        return [rng.uniform(-1, 1, size=(3, 4)), rng.uniform(-1, 1, size=(3, 4)), np.array([2.0]),
                np.array([0.5])] + [rng.uniform(-1, 1, size=(3, 4)) for _ in range(extra)]
    return make


LAMB1 = dict(beta1=0.8, beta2=0.99, epsilon=1e-5, t=4, wd=0.02, rescale_grad=0.5, clip_gradient=0.4)
_case("lamb_update_phase1", _lamb1, _inputs(W, G, MOM, POS), LAMB1,
      variants=[dict(bias_correction=False, clip_gradient=-1)])
_case("mp_lamb_update_phase1", _mp_lamb1, _inputs(W, G, MOM, POS, W), LAMB1, fp32_inputs=(2, 3, 4),
      variants=[dict(bias_correction=False)], dtypes=("float16", "float32"), float32_output=True)
_case("lamb_update_phase2", _lamb2, _lamb2_inputs(0), dict(lr=0.1),
      variants=[dict(lower_bound=3.0), dict(upper_bound=1.0), dict(lower_bound=0.1, upper_bound=5.0)])
_case("mp_lamb_update_phase2", _mp_lamb2, _lamb2_inputs(1), dict(lr=0.1), fp32_inputs=(1, 2, 3, 4),
      variants=[dict(upper_bound=1.0)], dtypes=("float16", "float32"))

# ---- multi-tensor updates and reset_arrays -------------------------------------------------------------


def _multi(single, stride):
    """The oracle of a multi_* op from its single-tensor rule, applied group by group."""
    def oracle(*inputs, lrs, wds, num_weights, **params):
        lrs, wds = _floats(lrs), _floats(wds)
        outputs, states = [], {}
        for i in range(num_weights):
            group = inputs[i * stride:(i + 1) * stride]
            (out,), group_states = single(*group, lr=lrs[i], wd=wds[i], **params)
            outputs.append(out)
            states.update({i * stride + k: v for k, v in group_states.items()})
        return outputs, states
    return oracle


def _floats(text):
    return [float(v) for v in str(text).strip("()[] ").split(",") if v.strip()]


def _multi_inputs(ranges):
    def make(rng, dtype):
        shapes = [(3, 4), (7,), (2, 2, 3)]
        return [rng.uniform(low, high, size=shape) for shape in shapes for low, high in ranges]
    return make


MULTI = dict(lrs="(0.1, 0.2, 0.05)", wds="(0.01, 0.0, 0.1)", num_weights=3, rescale_grad=0.5, clip_gradient=0.4)
MULTI_MOM = dict(MULTI, momentum=0.9)
_case("multi_sgd_update", _multi(_sgd, 2), _multi_inputs([W, G]), MULTI, variants=[CLIP_OFF], stride=2)
_case("multi_sgd_mom_update", _multi(_sgd_mom, 3), _multi_inputs([W, G, MOM]), MULTI_MOM, variants=[CLIP_OFF],
      stride=3)
_case("multi_mp_sgd_update", _multi(_mp_sgd, 3), _multi_inputs([W, G, W]), MULTI, fp32_inputs=(2, 5, 8),
      variants=[CLIP_OFF], dtypes=("float16", "float32"), stride=3)
_case("multi_mp_sgd_mom_update", _multi(_mp_sgd_mom, 4), _multi_inputs([W, G, MOM, W]), MULTI_MOM,
      fp32_inputs=(2, 3, 6, 7, 10, 11), variants=[CLIP_OFF], dtypes=("float16", "float32"), stride=4)


def _reset(*arrays, num_arrays):
    return [], {i: np.zeros_like(a) for i, a in enumerate(arrays)}


_case("reset_arrays", _reset, lambda rng, dtype: [rng.uniform(-5, 5, size=s) for s in [(3, 4), (5,), (2, 2)]],
      dict(num_arrays=3), dtypes=("float32", "float64", "float16", "int32"))
