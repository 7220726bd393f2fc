"""Optimizer-family checks beyond the per-op Cases: the out=weight calling convention MXNet's optimizers use,
states that persist across steps in the same arrays, AdamW's skipped steps, and clear errors."""

import ctypes

import numpy as np
import pytest

import pmx_ctypes as pmx
from cases import optimizer as oracles


def _invoke_into(op, arrays, out, **params):
    """Runs `op` on pmx.Array inputs writing into the pmx.Array `out` (MXNet's out=), as optimizers do."""
    count = ctypes.c_int()
    outputs = ctypes.POINTER(pmx._Handle)()
    n, keys, values = pmx._params(params)
    pmx._check(pmx._lib.pmx_op_invoke(op.encode(), len(arrays), pmx._handles(arrays), n, keys, values, 1,
                                      pmx._handles([out]), ctypes.byref(count), ctypes.byref(outputs)))
    for handle in pmx._take_outputs(count, outputs):
        del handle


@pytest.mark.parametrize("op, oracle, params, ranges, fp32", [
    ("sgd_mom_update", oracles._sgd_mom, oracles.SGD_MOM, [oracles.MOM], ()),
    ("adam_update", oracles._adam, oracles.ADAM, [oracles.MOM, oracles.POS], ()),
    ("rmspropalex_update", oracles._rmspropalex, dict(oracles.RMS, gamma2=0.8), [(0.5, 1.0), (-0.3, 0.3),
                                                                                oracles.MOM], ()),
    ("ftml_update", oracles._ftml, dict(lr=0.05, t=1, wd=0.01), [(0.1, 1), oracles.POS, oracles.W], ()),
    ("mp_sgd_mom_update", oracles._mp_sgd_mom, oracles.SGD_MOM, [oracles.MOM, oracles.W], (2, 3)),
    ("mp_nag_mom_update", oracles._mp_nag, oracles.SGD_MOM, [oracles.MOM, oracles.W], (2, 3)),
])
def test_steps_update_the_weight_and_states_in_place(op, oracle, params, ranges, fp32):
    rng = np.random.default_rng(1)
    dtype = np.float16 if fp32 else np.float32
    weight = rng.uniform(-1, 1, size=(6, 5)).astype(dtype)
    states = [rng.uniform(low, high, size=(6, 5)).astype(np.float32) for low, high in ranges]
    if fp32:
        states[-1] = weight.astype(np.float32)  # The master copy starts as the weight.
    weight_array = pmx.Array.from_numpy(weight)
    state_arrays = [pmx.Array.from_numpy(s) for s in states]
    want_weight, want_states = weight.astype(np.float64), [s.astype(np.float64) for s in states]
    for step in range(1, 6):
        grad = rng.uniform(-2, 2, size=(6, 5)).astype(dtype)
        call = dict(params, t=step) if "t" in params else params
        _invoke_into(op, [weight_array, pmx.Array.from_numpy(grad)] + state_arrays, weight_array, **call)
        outputs, updated = oracle(want_weight, grad.astype(np.float64), *want_states, **call)
        want_weight = outputs[0]
        for index, value in updated.items():
            want_states[index - 2] = value
        if fp32:  # The float16 weight is the rounded master copy; later steps read only the master copy.
            want_weight = want_weight.astype(np.float16).astype(np.float64)
    tolerance = dict(rtol=2e-3, atol=2e-3) if fp32 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weight_array.numpy().astype(np.float64), want_weight, **tolerance)
    for array, want in zip(state_arrays, want_states):
        np.testing.assert_allclose(array.numpy().astype(np.float64), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), 0.0])
@pytest.mark.parametrize("op", ["_adamw_update", "_mp_adamw_update"])
def test_adamw_skips_the_step_for_a_bad_rescale_grad(op, scale):
    rng = np.random.default_rng(2)
    weight = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    grad = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    mean, var = np.full((3, 4), 0.1, np.float32), np.full((3, 4), 0.2, np.float32)
    inputs = [weight, grad, mean, var] + ([weight.copy()] if op == "_mp_adamw_update" else [])
    inputs.append(np.array([scale], np.float32))
    outputs, after = pmx.invoke_keep_inputs(op, inputs, lr=0.1, eta=1.0)
    np.testing.assert_array_equal(outputs[0], weight)
    for got, before in zip(after, inputs):
        np.testing.assert_array_equal(got, before)


def test_update_errors_are_clear():
    w = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"^\[sgd_update\] .*shape"):
        pmx.invoke("sgd_update", [w, np.ones((3, 2), np.float32)], lr=0.1)
    with pytest.raises(TypeError, match=r"^\[adam_update\] .*dtype"):
        pmx.invoke("adam_update", [w, w, w, w.astype(np.float64)], lr=0.1)
    with pytest.raises(TypeError, match=r"^\[mp_sgd_update\] input 2 \(weight32\) has dtype float16: expected float32"):
        pmx.invoke("mp_sgd_update", [w.astype(np.float16)] * 3, lr=0.1)
    with pytest.raises(TypeError, match=r"^\[sgd_update\] dtype int32 is not supported"):
        pmx.invoke("sgd_update", [w.astype(np.int32)] * 2, lr=0.1)
    with pytest.raises(ValueError, match=r"^\[sgd_update\] required parameter 'lr'"):
        pmx.invoke("sgd_update", [w, w])
    with pytest.raises(ValueError, match=r"^\[multi_sgd_update\] lrs has 1 value\(s\) \(0.1\) but num_weights is 2"):
        pmx.invoke("multi_sgd_update", [w, w, w, w], lrs="(0.1,)", wds="(0, 0)", num_weights=2)
    with pytest.raises(ValueError, match=r"^\[multi_sgd_update\] expected 4 input"):
        pmx.invoke("multi_sgd_update", [w, w, w], lrs="(0.1, 0.1)", wds="(0, 0)", num_weights=2)
    with pytest.raises(ValueError, match=r"^\[lamb_update_phase2\] input 2 has shape \(2,\): expected one element"):
        pmx.invoke("lamb_update_phase2", [w, w, np.ones(2, np.float32), np.ones(1, np.float32)], lr=0.1)


def test_multi_updates_report_mutated_inputs_in_the_schema():
    schema = {op["name"]: op for op in pmx.schema()["operators"]}
    assert schema["multi_mp_sgd_mom_update"]["variadic_stride"] == 4
    assert schema["multi_mp_sgd_mom_update"]["inputs"] == ["weight", "grad", "mom", "weight32"]
    assert not schema["adam_update"]["differentiable"]


def test_reset_arrays_zeroes_every_input_and_returns_nothing():
    arrays = [np.arange(6.0).reshape(2, 3), np.arange(1, 5, dtype=np.int32), np.ones(3, np.float16)]
    outputs, after = pmx.invoke_keep_inputs("reset_arrays", arrays, num_arrays=3)
    assert outputs == []
    for got, before in zip(after, arrays):
        assert got.dtype == before.dtype
        np.testing.assert_array_equal(got, np.zeros_like(before))


def test_aliases_reach_the_update_ops():
    w, g = np.full(3, 0.5, np.float32), np.ones(3, np.float32)
    history = np.zeros(3, np.float32)
    a = pmx.invoke("adagrad_update", [w, g, history], lr=0.1)[0]
    b = pmx.invoke("_sparse_adagrad_update", [w, g, history], lr=0.1)[0]
    np.testing.assert_array_equal(a, b)
    scale = np.ones(1, np.float32)
    a = pmx.invoke("_contrib_adamw_update", [w, g, history, history, scale], lr=0.1, eta=1.0)[0]
    b = pmx.invoke("_adamw_update", [w, g, history, history, scale], lr=0.1, eta=1.0)[0]
    np.testing.assert_array_equal(a, b)
