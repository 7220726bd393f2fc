"""mx.optimizer and mx.lr_scheduler: every optimizer's first steps against a float64 NumPy transcription of
MXNet's update formulas, MXNet's bookkeeping (multipliers, update counts, param_dict, schedules), the
Updater's states (pickled and resumed), multi-precision, and the schedules against their closed forms."""

import math
import pickle

import numpy as np
import pytest

import polymix as mx

LR, WD, RESCALE, CLIP = 0.1, 0.1, 0.5, 0.8
COMMON = dict(learning_rate=LR, wd=WD, rescale_grad=RESCALE, clip_gradient=CLIP)
RNG = np.random.default_rng(5)
W0 = RNG.uniform(-1, 1, (2, 3))
GRADS = [RNG.uniform(-3, 3, (2, 3)) for _ in range(3)]  # rescale 0.5 and clip 0.8 clip some of them.


def clipped(g):
    return np.clip(RESCALE * g, -CLIP, CLIP)


# ---- NumPy transcriptions of MXNet's update rules: step(w, g, states, t, lr, wd) updates w and states ----

def sgd(w, g, s, t, lr, wd):
    w -= lr * (clipped(g) + wd * w)


def sgd_momentum(w, g, s, t, lr, wd):
    s[0][:] = 0.9 * s[0] - lr * (clipped(g) + wd * w)
    w += s[0]


def nag(w, g, s, t, lr, wd):
    step = lr * (clipped(g) + wd * w)
    decayed = 0.9 * s[0]
    s[0][:] = decayed - step
    w[:] = w - decayed + 1.9 * s[0]


def signum(w, g, s, t, lr, wd):
    s[0][:] = 0.8 * s[0] - 0.2 * (wd * w + clipped(g))
    w[:] = (1 - lr * 0.05) * w + lr * np.sign(s[0])


def adam(w, g, s, t, lr, wd):
    lr_t = lr * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    grad = np.clip(RESCALE * g + wd * w, -CLIP, CLIP)
    s[0][:] = 0.9 * s[0] + 0.1 * grad
    s[1][:] = 0.999 * s[1] + 0.001 * grad * grad
    w -= lr_t * s[0] / (np.sqrt(s[1]) + 1e-8)


def adamw(w, g, s, t, lr, wd):
    eta = lr * math.sqrt(1 - 0.999 ** t) / (1 - 0.8 ** t)
    grad = clipped(g)
    s[0][:] = 0.8 * s[0] + 0.2 * grad
    s[1][:] = 0.999 * s[1] + 0.001 * grad * grad
    w -= eta * (s[0] / (np.sqrt(s[1]) + 1e-6) + wd * w)


def rmsprop(w, g, s, t, lr, wd):
    grad = np.clip(RESCALE * g + wd * w, -CLIP, CLIP)
    s[0][:] = 0.1 * grad * grad + 0.9 * s[0]
    w[:] = np.clip(w - lr * grad / np.sqrt(s[0] + 1e-8), -0.9, 0.9)


def rmsprop_centered(w, g, s, t, lr, wd):
    grad = np.clip(RESCALE * g + wd * w, -CLIP, CLIP)
    s[0][:] = 0.1 * grad * grad + 0.9 * s[0]
    s[1][:] = 0.1 * grad + 0.9 * s[1]
    s[2][:] = 0.7 * s[2] - lr * grad / np.sqrt(s[0] - s[1] * s[1] + 1e-8)
    w += s[2]


def adagrad(w, g, s, t, lr, wd):
    grad = clipped(g)
    s[0] += grad * grad
    w -= lr * (grad / np.sqrt(s[0] + 1e-6) + wd * w)


def adadelta(w, g, s, t, lr, wd):
    grad = clipped(g)
    s[0][:] = 0.8 * s[0] + 0.2 * grad * grad
    delta = np.sqrt(s[1] + 1e-5) / np.sqrt(s[0] + 1e-5) * grad
    s[1][:] = 0.8 * s[1] + 0.2 * delta * delta
    w -= delta + wd * w


def ftrl(w, g, s, t, lr, wd):
    grad = clipped(g)
    s[0] += grad - (np.sqrt(s[1] + grad * grad) - np.sqrt(s[1])) * w / lr
    s[1] += grad * grad
    w[:] = np.where(np.abs(s[0]) > 0.05, (np.sign(s[0]) * 0.05 - s[0]) / ((0.5 + np.sqrt(s[1])) / lr + wd), 0)


def lamb(w, g, s, t, lr, wd):
    grad = clipped(g)
    s[0][:] = 0.9 * s[0] + 0.1 * grad
    s[1][:] = 0.999 * s[1] + 0.001 * grad * grad
    mean, var = s[0] / (1 - 0.9 ** t), s[1] / (1 - 0.999 ** t)
    direction = mean / (np.sqrt(var) + 1e-6) + wd * w
    w -= lr * np.linalg.norm(w) / np.linalg.norm(direction) * direction


CASES = [  # (name, extra constructor arguments, reference, number of state arrays, state shape)
    ("sgd", {}, sgd, 0, None),
    ("sgd", dict(momentum=0.9), sgd_momentum, 1, "array"),
    ("nag", dict(momentum=0.9), nag, 1, "array"),
    ("signum", dict(momentum=0.8, wd_lh=0.05), signum, 1, "array"),
    ("adam", {}, adam, 2, "tuple"),
    ("adamw", dict(beta1=0.8), adamw, 2, "tuple"),
    ("rmsprop", dict(clip_weights=0.9), rmsprop, 1, "tuple"),
    ("rmsprop", dict(centered=True, gamma2=0.7), rmsprop_centered, 3, "tuple"),
    ("adagrad", dict(eps=1e-6), adagrad, 1, "array"),
    ("adadelta", dict(rho=0.8), adadelta, 2, "tuple"),
    ("ftrl", dict(lamda1=0.05, beta=0.5), ftrl, 2, "tuple"),
    ("lamb", {}, lamb, 2, "tuple"),
]


@pytest.mark.parametrize("name,extra,reference,num_states,kind", CASES,
                         ids=["%s%s" % (case[0], sorted(case[1])) for case in CASES])
def test_optimizer_steps_match_mxnet_formulas(name, extra, reference, num_states, kind):
    # Two parameters: a weight and a bias whose wd_mult is 0 (named) and lr_mult 2 (set_lr_mult).
    opt = mx.optimizer.create(name, param_idx2name={0: "fc_weight", 1: "fc_bias"}, **dict(COMMON, **extra))
    opt.set_lr_mult({"fc_bias": 2.0})
    updater = mx.optimizer.get_updater(opt)
    weights = [mx.nd.array(W0, dtype="float64"), mx.nd.array(W0 / 2, dtype="float64")]
    expected = [W0.copy(), W0 / 2]
    states = [[np.zeros_like(W0) for _ in range(num_states)] for _ in weights]
    rates = [(LR, WD), (2 * LR, 0.0)]
    for t, grad in enumerate(GRADS, start=1):
        for index, weight in enumerate(weights):
            g = grad * (index + 1)
            updater(index, mx.nd.array(g, dtype="float64"), weight)
            reference(expected[index], g, states[index], t, *rates[index])
            np.testing.assert_allclose(weight.asnumpy(), expected[index], rtol=1e-10, atol=1e-12)
    state = updater.states[0]
    if kind is None:
        assert state is None
    elif kind == "array":
        assert isinstance(state, mx.nd.NDArray)
        np.testing.assert_allclose(state.asnumpy(), states[0][0], rtol=1e-10, atol=1e-12)
    else:
        assert isinstance(state, tuple) and len(state) == num_states
        for array, want in zip(state, states[0]):
            np.testing.assert_allclose(array.asnumpy(), want, rtol=1e-10, atol=1e-12)
    assert opt.num_update == 3 and opt._index_update_count == {0: 3, 1: 3}


def test_defaults_names_and_registry():
    assert mx.optimizer.create("SGD").lr == 0.01
    assert mx.optimizer.create("adam").lr == 0.001
    assert mx.optimizer.Ftrl().lr == 0.1
    assert type(mx.optimizer.create("ccsgd")).__name__ == "ccSGD"
    adam = mx.optimizer.Adam(beta1=0.5)
    assert (adam.beta1, adam.beta2, adam.epsilon, adam.rescale_grad, adam.clip_gradient) == (0.5, 0.999, 1e-8, 1, None)
    assert mx.optimizer.AdaGrad(eps=1e-3).float_stable_eps == 1e-3
    with pytest.raises(ValueError, match="Cannot find optimizer nope"):
        mx.optimizer.create("nope")
    with pytest.raises(ValueError):  # The core validates hyper-parameters.
        mx.optimizer.SGD(momentum="fast")


def test_attribute_changes_reach_the_update():
    # Gluon's Trainer sets optimizer.rescale_grad = 1 / batch_size before each step.
    opt = mx.optimizer.SGD(learning_rate=1.0)
    weight, grad = mx.nd.ones((3,)), mx.nd.ones((3,))
    opt.update(0, weight, grad, opt.create_state(0, weight))
    opt.rescale_grad = 0.25
    opt.update(0, weight, grad, None)
    opt.lr = 2.0
    opt.update(0, weight, grad, None)
    np.testing.assert_allclose(weight.asnumpy(), 1 - 1 - 0.25 - 0.5)
    with pytest.raises(ValueError):
        opt.clip_gradient = "big"
    assert opt.clip_gradient is None


class _Param:
    """What param_dict holds: Gluon Parameters with lr_mult / wd_mult."""

    def __init__(self, lr_mult, wd_mult):
        self.lr_mult, self.wd_mult = lr_mult, wd_mult


def test_multipliers_by_param_dict_index_and_name():
    opt = mx.optimizer.SGD(learning_rate=1.0, wd=0.5, param_idx2name={0: "a_weight", 1: "a_bias", 2: "b_gamma"},
                           param_dict={3: _Param(4.0, 3.0)})
    assert opt.wd_mult == {"a_bias": 0.0}
    opt.set_lr_mult({"a_weight": 0.5, 2: 3.0})
    opt.set_wd_mult({"b_gamma": 2.0})
    assert [opt._get_lr(i) for i in range(5)] == [0.5, 1.0, 3.0, 4.0, 1.0]
    assert [opt._get_wd(i) for i in range(5)] == [0.5, 0.0, 1.0, 1.5, 0.5]
    # The Parameter is read at each update: changing its lr_mult counts.
    opt.param_dict[3].lr_mult = 0.1
    weight = mx.nd.zeros((2,))
    opt.update(3, weight, mx.nd.ones((2,)), None)
    np.testing.assert_allclose(weight.asnumpy(), [-0.1, -0.1], rtol=1e-6)
    # A symbol's __lr_mult__ / __wd_mult__ attributes.
    sym = mx.sym.var("w", lr_mult=0.25, wd_mult=4) + mx.sym.var("v")
    opt = mx.optimizer.SGD(sym=sym, param_idx2name={0: "w", 1: "v"})
    assert opt.lr_mult == {"w": 0.25} and opt.wd_mult == {"w": 4.0, "v": 0.0}


def test_update_counts_begin_num_update_and_devices():
    opt = mx.optimizer.Adam(learning_rate=0.1, begin_num_update=5)
    a, b = mx.nd.ones((4,), dtype="float64"), mx.nd.ones((4,), dtype="float64")
    sa, sb = opt.create_state(0, a), opt.create_state(1, b)
    grad = mx.nd.full((4,), 0.5, dtype="float64")
    opt.update(0, a, grad, sa)
    opt.update(0, a, grad, sa)
    opt.update(1, b, grad, sb)
    assert opt._index_update_count == {0: 7, 1: 6} and opt.num_update == 7
    # b's only step has t = 6 in Adam's bias correction.
    lr_t = 0.1 * math.sqrt(1 - 0.999 ** 6) / (1 - 0.9 ** 6)
    np.testing.assert_allclose(b.asnumpy(), 1 - lr_t * 0.05 / (math.sqrt(0.00025) + 1e-8), rtol=1e-12)
    # Counts are kept per device (Updater switches them by the weight's device id).
    opt._set_current_context(1)
    opt.update(0, a, grad, sa)
    assert opt._index_update_count == {0: 6} and opt._all_index_update_counts[0] == {0: 7, 1: 6}


def test_a_schedule_drives_the_learning_rate():
    schedule = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    opt = mx.optimizer.SGD(learning_rate=0.2, lr_scheduler=schedule)
    assert schedule.base_lr == 0.2  # learning_rate overwrites the schedule's base_lr, as in MXNet.
    weight = mx.nd.zeros((2,), dtype="float64")
    expected = 0.0
    for lr in (0.2, 0.2, 0.1, 0.1, 0.05):
        opt.update(0, weight, mx.nd.ones((2,), dtype="float64"), None)
        expected -= lr
        np.testing.assert_allclose(weight.asnumpy(), expected, rtol=1e-12)
    assert opt.learning_rate == 0.05
    with pytest.raises(UserWarning):
        opt.set_learning_rate(0.3)
    # Without learning_rate the schedule's own base_lr stays (lr is None).
    opt = mx.optimizer.SGD(lr_scheduler=mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=0.3))
    assert opt.lr is None and opt.learning_rate == pytest.approx(0.3)
    plain = mx.optimizer.SGD(learning_rate=0.5)
    plain.set_learning_rate(0.25)
    assert plain.learning_rate == 0.25


def test_updater_states_pickle_and_resume_exactly():
    opt = mx.optimizer.create("adam", learning_rate=0.05, wd=0.01,
                              lr_scheduler=mx.lr_scheduler.FactorScheduler(step=2, factor=0.5))
    updater = mx.optimizer.get_updater(opt)
    weights = [mx.nd.array(W0), mx.nd.array(W0 * 2)]
    for grad in GRADS[:2]:
        updater([0, 1], [mx.nd.array(grad), mx.nd.array(-grad)], weights)
    restored = mx.optimizer.get_updater(mx.optimizer.SGD())
    restored.set_states(updater.get_states(dump_optimizer=True))
    assert isinstance(restored.optimizer, mx.optimizer.Adam) and restored.optimizer.num_update == 2
    copies = [w.copy() for w in weights]
    for grad in GRADS[2:] + GRADS[:2]:
        updater([0, 1], [mx.nd.array(grad), mx.nd.array(-grad)], weights)
        restored([0, 1], [mx.nd.array(grad), mx.nd.array(-grad)], copies)
    for weight, copy in zip(weights, copies):
        np.testing.assert_array_equal(weight.asnumpy(), copy.asnumpy())
    assert restored.optimizer.learning_rate == opt.learning_rate == 0.05 * 0.5 ** 2  # num_update 5: two decays
    # States alone (no optimizer) load into an updater that keeps its own optimizer.
    other = mx.optimizer.get_updater(mx.optimizer.Adam())
    other.set_states(updater.get_states())
    assert sorted(other.states) == [0, 1] and isinstance(other.optimizer, mx.optimizer.Adam)


def test_multi_precision_keeps_a_float32_master_copy():
    w0 = RNG.uniform(0.5, 1.0, (8,)).astype(np.float16)
    for name, extra, copy_last in [("sgd", dict(momentum=0.5), True), ("nag", dict(momentum=0.5), True),
                                   ("adam", {}, False), ("rmsprop", {}, False)]:
        mixed = mx.optimizer.create(name, learning_rate=1e-4, multi_precision=True, **extra)
        single = mx.optimizer.create(name, learning_rate=1e-4, **extra)
        w16, w32 = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0.astype(np.float32))
        state16 = mixed.create_state_multi_precision(0, w16)
        state32 = single.create_state(0, w32)
        master = state16[1] if copy_last else state16[0]
        assert master.dtype == np.float32
        for step in range(6):
            grad = RNG.uniform(0.5, 1.0, (8,)).astype(np.float16)
            mixed.update_multi_precision(0, w16, mx.nd.array(grad, dtype="float16"), state16)
            single.update(0, w32, mx.nd.array(grad.astype(np.float32)), state32)
        # The master copy follows a float32 run; the float16 weight is its rounding.
        np.testing.assert_allclose(master.asnumpy(), w32.asnumpy(), rtol=1e-6, err_msg=name)
        np.testing.assert_array_equal(w16.asnumpy(), master.asnumpy().astype(np.float16))
        assert not np.array_equal(master.asnumpy(), w0.astype(np.float32))
    with pytest.warns(UserWarning, match="float16"):
        mx.optimizer.Adam().create_state_multi_precision(0, mx.nd.zeros((2,), dtype="float16"))


def test_a_python_optimizer_subclass_uses_the_bookkeeping():
    @mx.optimizer.register
    class HalfStep(mx.optimizer.Optimizer):  # pylint: disable=unused-variable
        def create_state(self, index, weight):
            return mx.nd.zeros(weight.shape)

        def update(self, index, weight, grad, state):
            self._update_count(index)
            lr = self._get_lr(index)
            state[:] += 1
            weight[:] -= lr * grad * 0.5

    opt = mx.optimizer.create("halfstep", learning_rate=0.5)
    updater = mx.optimizer.get_updater(opt)
    weight = mx.nd.ones((2,))
    updater(0, mx.nd.ones((2,)), weight)
    updater(0, mx.nd.ones((2,)), weight)
    np.testing.assert_allclose(weight.asnumpy(), [0.5, 0.5])
    np.testing.assert_allclose(updater.states[0].asnumpy(), [2, 2])
    assert opt.num_update == 2


def _closed_form(n, base, warmup_steps=0, begin=0.0, mode="linear"):
    if n < warmup_steps:
        return begin if mode == "constant" else begin + (base - begin) * n / warmup_steps
    return None


def test_schedules_against_closed_forms():
    factor = mx.lr_scheduler.FactorScheduler(step=3, factor=0.5, stop_factor_lr=0.1, base_lr=1.0, warmup_steps=2,
                                             warmup_begin_lr=0.2)
    want = [0.2, 0.6] + [max(1.0 * 0.5 ** max(0, (n - 1) // 3), 0.1) for n in range(2, 14)]
    np.testing.assert_allclose([factor(n) for n in range(14)], want)
    multi = mx.lr_scheduler.MultiFactorScheduler(step=[2, 5, 7], factor=0.5, base_lr=1.0)
    np.testing.assert_allclose([multi(n) for n in range(10)], [1, 1, 1, .5, .5, .5, .25, .25, .125, .125])
    poly = mx.lr_scheduler.PolyScheduler(max_update=10, base_lr=1.0, pwr=2, final_lr=0.1, warmup_steps=3,
                                         warmup_begin_lr=0.1)
    want = [_closed_form(n, 1.0, 3, 0.1) if n < 3 else 0.1 + 0.9 * (1 - (n - 3) / 7) ** 2 for n in range(11)]
    np.testing.assert_allclose([poly(n) for n in range(11)] + [poly(15)], want + [0.1])
    cosine = mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=1.0, final_lr=0.1, warmup_steps=3,
                                             warmup_mode="constant", warmup_begin_lr=0.05)
    want = [0.05] * 3 + [0.1 + 0.9 * (1 + math.cos(math.pi * (n - 3) / 7)) / 2 for n in range(3, 11)]
    np.testing.assert_allclose([cosine(n) for n in range(11)], want)
    with pytest.raises(ValueError):
        mx.lr_scheduler.FactorScheduler(step=0)
    with pytest.raises(ValueError):
        mx.lr_scheduler.MultiFactorScheduler(step=[3, 2])
    with pytest.raises(ValueError):
        mx.lr_scheduler.CosineScheduler(max_update=5, warmup_steps=5)


def test_schedules_pickle_with_their_decay_state():
    schedule = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    schedule.base_lr = 0.8  # What an optimizer's learning_rate does.
    first = [schedule(n) for n in range(7)]
    restored = pickle.loads(pickle.dumps(schedule))
    assert first[-1] == 0.8 * 0.5 ** 2 and restored.base_lr == schedule.base_lr
    assert [restored(n) for n in range(7, 12)] == [schedule(n) for n in range(7, 12)]
    multi = mx.lr_scheduler.MultiFactorScheduler(step=[2, 4], factor=0.1, base_lr=1.0)
    multi(3)
    again = pickle.loads(pickle.dumps(multi))
    assert again(5) == multi(5) == pytest.approx(0.01)


def test_a_python_schedule_subclass():
    class Halving(mx.lr_scheduler.LRScheduler):
        def __call__(self, num_update):
            if num_update < self.warmup_steps:
                return self.get_warmup_lr(num_update)
            return self.base_lr / 2 ** num_update

    opt = mx.optimizer.SGD(learning_rate=1.0, lr_scheduler=Halving(base_lr=1.0, warmup_steps=2,
                                                                      warmup_begin_lr=0.5))
    assert opt.learning_rate == 0.5
    weight = mx.nd.zeros((1,))
    for _ in range(3):
        opt.update(0, weight, mx.nd.ones((1,)), None)
    np.testing.assert_allclose(weight.asnumpy(), [-(0.75 + 0.25 + 0.125)])
