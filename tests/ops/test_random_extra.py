"""Random-family checks beyond the per-op Cases: independence from the thread count, distribution shapes
(CDFs and probability mass functions), zero gradients, the multinomial log-probability gradient, and errors."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import pmx_ctypes as pmx
from cases.random import moments_close

HERE = os.path.dirname(os.path.abspath(__file__))

# Calls whose outputs span many random blocks (Note [Random streams on the host]) and threads.
_PROGRAM = r"""
import hashlib, sys
import numpy as np
import pmx_ctypes as pmx
pmx.seed(7)
digest = hashlib.sha256()
for op, inputs, params in [
        ("_random_normal", [], dict(shape=(300000,))),
        ("_random_poisson", [], dict(shape=(100000,), lam=30.0)),
        ("_sample_gamma", [np.array([0.5, 4.0]), np.array([1.0, 2.0])], dict(shape=(70000,))),
        ("_sample_multinomial", [np.full((20, 5), 0.2)], dict(shape=(9000,))),
        ("_shuffle", [np.arange(200000.0).reshape(100000, 2)], {}),
        ("_random_randint", [], dict(low=0, high=10**9, shape=(200000,), dtype="int64"))]:
    for out in pmx.invoke(op, inputs, **params):
        digest.update(out.tobytes())
print(digest.hexdigest())
"""


def _digest(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), POLYMIX_LIBRARY=pmx._find_library(),
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_samples_do_not_depend_on_the_thread_count():
    assert _digest(1) == _digest(2) == _digest(3)


def test_blocks_draw_independent_streams():
    pmx.seed(3)
    (x,) = pmx.invoke("_random_uniform", [], shape=(4 * 4096,), dtype="float64")
    blocks = x.reshape(4, 4096)
    for i in range(4):
        for j in range(i + 1, 4):
            assert abs(np.corrcoef(blocks[i], blocks[j])[0, 1]) < 0.08
            assert not np.array_equal(np.sort(blocks[i]), np.sort(blocks[j]))


def _ks_statistic(samples, cdf):
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def test_continuous_samples_follow_their_cdfs():
    n = 40000
    critical = 1.95 / math.sqrt(n)  # Kolmogorov-Smirnov at the 0.1% level.
    erf = np.vectorize(math.erf)
    (normal,) = pmx.invoke("_random_normal", [], loc=1.0, scale=3.0, shape=(n,), dtype="float64")
    assert _ks_statistic(normal, lambda x: 0.5 * (1 + erf((x - 1.0) / (3.0 * math.sqrt(2))))) < critical
    (expo,) = pmx.invoke("_random_exponential", [], lam=2.5, shape=(n,), dtype="float64")
    assert _ks_statistic(expo, lambda x: 1 - np.exp(-2.5 * x)) < critical
    (uniform,) = pmx.invoke("_random_uniform", [], low=-2.0, high=3.0, shape=(n,), dtype="float64")
    assert _ks_statistic(uniform, lambda x: (x + 2.0) / 5.0) < critical
    # Gamma with integer shape 3 has a closed-form CDF; shape 0.4 exercises the alpha < 1 boost.
    (gamma,) = pmx.invoke("_random_gamma", [], alpha=3.0, beta=0.5, shape=(n,), dtype="float64")
    assert _ks_statistic(gamma, lambda x: 1 - np.exp(-x / 0.5) * (1 + x / 0.5 + (x / 0.5) ** 2 / 2)) < critical
    (small,) = pmx.invoke("_random_gamma", [], alpha=0.4, beta=2.0, shape=(n,), dtype="float64")
    moments_close(small, 0.8, 0.4 * 4.0, "gamma alpha=0.4")
    third = np.mean((small - small.mean()) ** 3) / small.std() ** 3
    assert abs(third - 2 / math.sqrt(0.4)) < 0.5, third


@pytest.mark.parametrize("lam", [0.5, 6.0, 10.0, 45.0, 2000.0])
def test_poisson_follows_its_probability_mass(lam):
    n = 60000
    (x,) = pmx.invoke("_random_poisson", [], lam=lam, shape=(n,), dtype="float64")
    counts = np.bincount(x.astype(np.int64))
    k = np.arange(counts.size)
    pmf = np.exp(k * math.log(lam) - lam - np.array([math.lgamma(v + 1) for v in k]))
    expected = n * pmf
    assert np.all(np.abs(counts - expected) <= 6 * np.sqrt(expected) + 2), (lam, counts, expected)


def test_negative_binomial_edge_parameters():
    (ones,) = pmx.invoke("_random_negative_binomial", [], k=5, p=1.0, shape=(100,))
    np.testing.assert_array_equal(ones, 0)  # Never fails: no failures before the k-th success.
    (zero_k,) = pmx.invoke("_random_negative_binomial", [], k=0, p=0.5, shape=(100,))
    np.testing.assert_array_equal(zero_k, 0)
    (gamma,) = pmx.invoke("_sample_gamma", [np.array([0.0, 2.0]), np.array([1.0, 1.0])], shape=(1000,))
    np.testing.assert_array_equal(gamma[0], 0)  # MXNet's convention for alpha == 0.


@pytest.mark.parametrize("op, inputs", [
    ("_random_normal_like", [np.ones((2, 3))]),
    ("_sample_normal", [np.zeros((2, 3)), np.ones((2, 3))]),
    ("_sample_exponential", [np.ones(4)]),
])
def test_sampling_gradients_are_zero(op, inputs):
    outputs = pmx.invoke(op, inputs)
    grads = pmx.gradient(op, inputs, [np.ones_like(out) for out in outputs])
    for grad, x in zip(grads, inputs):
        np.testing.assert_array_equal(grad, np.zeros_like(x))


def test_multinomial_log_probability_gradient_matches_finite_differences():
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
    params = dict(shape=(5,), get_prob=True)
    rng = np.random.default_rng(0)
    heads = [np.zeros((2, 5)), rng.uniform(-1, 1, size=(2, 5))]
    pmx.seed(11)
    grad = pmx.gradient("_sample_multinomial", [probs], heads, **params)[0]

    def objective(p):
        pmx.seed(11)
        return float((pmx.invoke("_sample_multinomial", [p], **params)[1] * heads[1]).sum())

    numeric = np.zeros_like(probs)
    for index in np.ndindex(probs.shape):
        plus, minus = probs.copy(), probs.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric[index] = (objective(plus) - objective(minus)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    no_prob = pmx.gradient("_sample_multinomial", [probs], [np.ones((2, 5))], shape=(5,))[0]
    np.testing.assert_array_equal(no_prob, np.zeros_like(probs))


def test_shuffle_in_place_keeps_every_row():
    data = np.arange(30.0).reshape(10, 3)
    array = pmx.Array.from_numpy(data)
    count = pmx.ctypes.c_int()
    outputs = pmx.ctypes.POINTER(pmx._Handle)()
    n, keys, values = pmx._params({})
    pmx._check(pmx._lib.pmx_op_invoke(b"_shuffle", 1, pmx._handles([array]), n, keys, values, 1,
                                      pmx._handles([array]), pmx.ctypes.byref(count), pmx.ctypes.byref(outputs)))
    for handle in pmx._take_outputs(count, outputs):
        del handle
    shuffled = array.numpy()
    np.testing.assert_array_equal(shuffled[np.argsort(shuffled[:, 0])], data)


@pytest.mark.parametrize("op, params, error, message", [
    ("_random_normal", dict(scale=0), ValueError, r"^\[_random_normal\] scale must be positive, given 0"),
    ("_random_gamma", dict(alpha=-1), ValueError, r"^\[_random_gamma\] alpha must be positive"),
    ("_random_exponential", dict(lam=0), ValueError, r"^\[_random_exponential\] lam must be positive"),
    ("_random_poisson", dict(lam=-1), ValueError, r"^\[_random_poisson\] lam must be non-negative"),
    ("_random_randint", dict(low=5, high=5), ValueError, r"^\[_random_randint\] expected low < high"),
    ("_random_randint", dict(low=0, high=2 ** 40, dtype="int32"), ValueError, r"does not fit in int32"),
    ("_random_uniform", dict(dtype="int32"), ValueError, r"^\[_random_uniform\] .*dtype"),
    ("_random_uniform", dict(shape=(2, -1)), ValueError, r"^\[_random_uniform\] shape \(2, -1\) has a negative"),
])
def test_bad_parameters_are_clear_errors(op, params, error, message):
    with pytest.raises(error, match=message):
        pmx.invoke(op, [], **params)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"^\[_sample_normal\] input 1 has shape \(3,\), expected \(2,\)"):
        pmx.invoke("_sample_normal", [np.zeros(2), np.ones(3)])
    with pytest.raises(TypeError, match=r"^\[_sample_multinomial\] dtype int32 is not supported"):
        pmx.invoke("_sample_multinomial", [np.ones((2, 3), np.int32)])
    with pytest.raises(TypeError, match=r"^\[_random_uniform_like\] dtype int32 is not supported"):
        pmx.invoke("_random_uniform_like", [np.ones(3, np.int32)])
