"""Checks for the random families: random.cc (_random_*, *_like, _random_randint) and random_sample.cc
(_sample_*, _sample_multinomial and its gradient helper, _shuffle).

Random ops have no value oracle, so each Case has a `check` that draws 20k+ samples and tests shapes, dtypes,
ranges and the first two moments against the distribution's (6 standard errors, the errors estimated from
the sample), and that a seed (pmx.seed) replays a call exactly while an unseeded repeat differs.
"""

import math

import numpy as np

import pmx_ctypes as pmx
from cases.common import Case

CASES = {}

FLOAT_DTYPES = ("float16", "float32", "float64")


def moments_close(x, mean, var, what):
    """Asserts that sample x has the given mean and variance within 6 estimated standard errors."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    sample_mean, sample_var = x.mean(), x.var()
    se_mean = math.sqrt(max(var, sample_var) / n)
    assert abs(sample_mean - mean) <= 6 * se_mean + 1e-3 * abs(mean) + 1e-9, \
        f"{what}: mean {sample_mean}, expected {mean} (standard error {se_mean})"
    fourth = np.mean((x - sample_mean) ** 4)
    se_var = math.sqrt(max(fourth - sample_var ** 2, 0.0) / n)
    assert abs(sample_var - var) <= 6 * se_var + 2e-3 * var + 1e-9, \
        f"{what}: variance {sample_var}, expected {var} (standard error {se_var})"


def check_reproducible(name, inputs, params):
    """The same seed replays a call exactly; a second call without reseeding draws other numbers."""
    pmx.seed(20240611)
    first = pmx.invoke(name, inputs, **params)
    second = pmx.invoke(name, inputs, **params)
    pmx.seed(20240611)
    replay = pmx.invoke(name, inputs, **params)
    for a, b in zip(first, replay):
        np.testing.assert_array_equal(a, b, err_msg=f"{name}: same seed, different samples")
    assert any(not np.array_equal(a, b) for a, b in zip(first, second)), f"{name}: repeated call drew the same"


# Each distribution: MXNet parameters for _random_<name>, (mean, variance) as a function of them, a check of
# the support, and per-element parameter arrays for _sample_<name> with the input names' values.
def _nb_moments(k, p):
    return k * (1 - p) / p, k * (1 - p) / p ** 2


def _is_count(x):
    return np.all(x >= 0) and np.all(x == np.floor(x))


DISTRIBUTIONS = {
    "uniform": (dict(low=-1.5, high=2.5), lambda low, high: ((low + high) / 2, (high - low) ** 2 / 12),
                lambda x, low, high: np.all(x >= low) and np.all(x <= high),
                dict(low=[0.0, -3.0], high=[1.0, 5.0])),
    "normal": (dict(loc=1.5, scale=2.0), lambda loc, scale: (loc, scale ** 2), None,
               dict(mu=[0.0, -2.0], sigma=[1.0, 3.0])),
    "gamma": (dict(alpha=2.5, beta=0.5), lambda alpha, beta: (alpha * beta, alpha * beta ** 2),
              lambda x, **_: np.all(x >= 0), dict(alpha=[0.5, 9.0], beta=[2.0, 0.5])),
    "exponential": (dict(lam=4.0), lambda lam: (1 / lam, 1 / lam ** 2), lambda x, **_: np.all(x >= 0),
                    dict(lam=[1.0, 8.5])),
    "poisson": (dict(lam=4.0), lambda lam: (lam, lam), lambda x, **_: _is_count(x), dict(lam=[3.0, 40.0])),
    "negative_binomial": (dict(k=3, p=0.4), _nb_moments, lambda x, **_: _is_count(x),
                          dict(k=[20.0, 4.0], p=[0.4, 0.77])),
    "generalized_negative_binomial": (dict(mu=2.0, alpha=0.3), lambda mu, alpha: (mu, mu + alpha * mu ** 2),
                                      lambda x, **_: _is_count(x), dict(mu=[2.0, 25.0], alpha=[1.0, 0.0])),
}


def _random_check(distribution):
    params, moments, support, _ = DISTRIBUTIONS[distribution]
    mean, var = moments(**params)

    def check(name, inputs, dtype, case_params):
        for requested in ("None", "float16", "float32", "float64"):
            if distribution in ("poisson", "negative_binomial", "generalized_negative_binomial") and \
                    requested == "float16":
                continue  # Counts above 2048 are not exact in float16; nothing float16-specific is tested.
            (out,) = pmx.invoke(name, [], shape=(200, 250), dtype=requested, **params)
            want = "float32" if requested == "None" else requested
            assert out.shape == (200, 250) and out.dtype == np.dtype(want), f"{name}: {out.shape} {out.dtype}"
            moments_close(out, mean, var, f"{name} dtype={requested}")
            if support is not None:
                assert support(out.astype(np.float64), **params), f"{name}: samples outside the support"
        (scalar,) = pmx.invoke(name, [], **params)
        assert scalar.shape == () and scalar.dtype == np.float32
        check_reproducible(name, [], dict(shape=(64, 70), **params))
    return check


def _like_check(distribution):
    params, moments, support, _ = DISTRIBUTIONS[distribution]
    mean, var = moments(**params)

    def check(name, inputs, dtype, case_params):
        (out,) = pmx.invoke(name, inputs, **params)
        assert out.shape == inputs[0].shape and out.dtype == inputs[0].dtype, f"{name}: {out.shape} {out.dtype}"
        if dtype != "float16" or distribution not in ("poisson", "negative_binomial",
                                                      "generalized_negative_binomial"):
            moments_close(out, mean, var, f"{name} {dtype}")
        if support is not None:
            assert support(out.astype(np.float64), **params), f"{name}: samples outside the support"
        check_reproducible(name, inputs, params)
    return check


def _sample_check(distribution):
    _, moments, support, arrays = DISTRIBUTIONS[distribution]
    names = list(arrays)

    def check(name, inputs, dtype, case_params):
        for requested in ("None", "float32", "float64"):
            (out,) = pmx.invoke(name, inputs, shape=(150, 150), dtype=requested)
            want = "float32" if requested == "None" else requested
            assert out.shape == inputs[0].shape + (150, 150) and out.dtype == np.dtype(want), \
                f"{name}: {out.shape} {out.dtype}"
            for index in np.ndindex(inputs[0].shape):
                values = {key: float(x[index]) for key, x in zip(names, inputs)}
                mean, var = _sample_moments(distribution, values)
                moments_close(out[index], mean, var, f"{name} {dtype} parameters {values}")
                if support is not None:
                    assert support(out[index].astype(np.float64), **_support_args(distribution, values))
        (single,) = pmx.invoke(name, inputs)
        assert single.shape == inputs[0].shape
        check_reproducible(name, inputs, dict(shape=(300,)))
    return check


def _sample_moments(distribution, values):
    """The moments at one element's parameters (the array inputs use other names for some)."""
    if distribution == "normal":
        return values["mu"], values["sigma"] ** 2
    return DISTRIBUTIONS[distribution][1](**values)


def _support_args(distribution, values):
    return values if distribution == "uniform" else {}


def _sample_inputs(distribution):
    arrays = DISTRIBUTIONS[distribution][3]
    return lambda rng, dtype: [np.array(values) for values in arrays.values()]


for _distribution in DISTRIBUTIONS:
    CASES["_random_" + _distribution] = Case(None, shapes=(), dtypes=("float32",), grad=False,
                                             check=_random_check(_distribution))
    CASES["_random_" + _distribution + "_like"] = Case(None, shapes=((200, 250),), dtypes=FLOAT_DTYPES,
                                                       grad=False, check=_like_check(_distribution))
    # Integer parameter arrays where the distribution's parameters may be integers.
    _dtypes = ("float32", "float64", "int32") if _distribution in ("uniform", "poisson") else ("float32", "float64")
    CASES["_sample_" + _distribution] = Case(None, dtypes=_dtypes, grad=False,
                                             make_inputs=_sample_inputs(_distribution),
                                             check=_sample_check(_distribution))


def _randint_check(name, inputs, dtype, params):
    for requested, want in (("None", "int32"), ("int32", "int32"), ("int64", "int64")):
        (out,) = pmx.invoke(name, [], low=-3, high=7, shape=(200, 250), dtype=requested)
        assert out.shape == (200, 250) and out.dtype == np.dtype(want)
        assert out.min() == -3 and out.max() == 6, (out.min(), out.max())
        moments_close(out, 1.5, (10 ** 2 - 1) / 12, f"{name} dtype={requested}")
    (big,) = pmx.invoke(name, [], low=-2 ** 62, high=2 ** 62, shape=(1000,), dtype="int64")
    assert big.min() >= -2 ** 62 and big.max() < 2 ** 62 and np.abs(big).max() > 2 ** 60
    check_reproducible(name, [], dict(low=0, high=1000, shape=(500,)))


CASES["_random_randint"] = Case(None, shapes=(), dtypes=("int32",), grad=False, params=dict(low=0, high=5),
                                check=_randint_check)


def _multinomial_inputs(rng, dtype):
    return [np.array([[0.0, 0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1, 0.0], [0.5, 0.0, 0.0, 0.0, 0.5]])]


def _multinomial_check(name, inputs, dtype, params):
    probs = inputs[0].astype(np.float64)
    n = 6000
    for out_dtype in ("int32", "uint8", "float32", "float64"):
        (samples,) = pmx.invoke(name, inputs, shape=(n,), dtype=out_dtype)
        assert samples.shape == (3, n) and samples.dtype == np.dtype(out_dtype)
        for row, p in zip(samples, probs):
            counts = np.bincount(row.astype(np.int64), minlength=5)
            assert counts.size == 5
            assert np.all(counts[p == 0] == 0), "a zero-probability category was drawn"
            se = np.sqrt(n * p * (1 - p))
            assert np.all(np.abs(counts - n * p) <= 6 * se + 1), (counts, n * p)
    samples, log_prob = pmx.invoke(name, inputs, shape=(2, 3), get_prob=True)
    assert samples.shape == (3, 2, 3) and samples.dtype == np.int32 and log_prob.dtype == inputs[0].dtype
    expected = np.log(np.take_along_axis(probs, samples.reshape(3, -1), axis=1)).reshape(3, 2, 3)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-6)
    (one,) = pmx.invoke(name, [inputs[0][0]])
    assert one.shape == (1,) and 1 <= one[0] <= 4
    check_reproducible(name, inputs, dict(shape=(100,)))


CASES["_sample_multinomial"] = Case(None, dtypes=("float32", "float64"), grad=False,
                                    make_inputs=_multinomial_inputs, check=_multinomial_check)


def _multinomial_backward(ograd, data, samples):
    categories = data.shape[-1]
    rows = data.reshape(-1, categories).astype(np.float64)
    picks = samples.reshape(rows.shape[0], -1).astype(np.int64)
    heads = ograd.reshape(rows.shape[0], -1).astype(np.float64)
    grad = np.zeros_like(rows)
    for r in range(rows.shape[0]):
        for j in range(picks.shape[1]):
            grad[r, picks[r, j]] += heads[r, j] / rows[r, picks[r, j]]
    return grad.reshape(data.shape).astype(data.dtype)


def _multinomial_backward_inputs(rng, dtype):
    data = rng.uniform(0.2, 1.0, size=(2, 4))
    samples = rng.integers(0, 4, size=(2, 3)).astype(dtype)
    return [rng.uniform(-1, 1, size=(2, 3)), data, samples]


CASES["_backward_sample_multinomial"] = Case(_multinomial_backward, make_inputs=_multinomial_backward_inputs,
                                             grad=False)


def _shuffle_check(name, inputs, dtype, params):
    data = np.arange(120).reshape(40, 3).astype(dtype)
    (out,) = pmx.invoke(name, [data])
    assert out.shape == data.shape and out.dtype == data.dtype
    assert not np.array_equal(out, data), "40 rows came back in order"
    np.testing.assert_array_equal(out[np.argsort(out[:, 0])], data, err_msg="rows changed, not just reordered")
    flat = np.arange(50).astype(dtype)
    (out,) = pmx.invoke(name, [flat])
    np.testing.assert_array_equal(np.sort(out), flat)
    (single,) = pmx.invoke(name, [data[:1]])
    np.testing.assert_array_equal(single, data[:1])
    check_reproducible(name, [data], {})
    # Every row lands in every position equally often.
    small = np.arange(4).astype(dtype)
    positions = np.zeros((4, 4))
    trials = 800
    for _ in range(trials):
        (out,) = pmx.invoke(name, [small])
        positions[np.arange(4), out.astype(np.int64)] += 1
    se = math.sqrt(trials * 0.25 * 0.75)
    assert np.all(np.abs(positions - trials / 4) <= 6 * se), positions


CASES["_shuffle"] = Case(None, shapes=((4, 3),), dtypes=("float32", "float64", "int32", "uint8"), grad=False,
                         check=_shuffle_check)


def _zipfian_check(name, inputs, dtype, params):
    samples, tries = pmx.invoke(name, [], range_max=50, shape=(300, 20))
    assert samples.shape == (300, 20) and tries.shape == (300,)
    assert samples.dtype == np.int64 and tries.dtype == np.int64
    assert samples.min() >= 0 and samples.max() < 50
    assert all(len(set(row)) == 20 for row in samples), "a row repeats a class"
    assert np.all(tries >= 20)
    # One draw per row follows P(k) = log((k + 1.5) / (k + 0.5)) / log(range_max), k = 0 from log(1.5).
    n, classes = 40000, 10
    (first, tries) = pmx.invoke(name, [], range_max=classes, shape=(n, 1))
    np.testing.assert_array_equal(tries, 1)
    edges = np.concatenate([[1.0], np.arange(1, classes) + 0.5, [classes]])
    p = np.diff(np.log(edges)) / math.log(classes)
    counts = np.bincount(first.ravel(), minlength=classes)
    assert np.all(np.abs(counts - n * p) <= 6 * np.sqrt(n * p * (1 - p)) + 1), (counts, n * p)
    (full, _) = pmx.invoke(name, [], range_max=6, shape=(4, 6))
    np.testing.assert_array_equal(np.sort(full, axis=1), np.tile(np.arange(6), (4, 1)))
    check_reproducible(name, [], dict(range_max=1000, shape=(8, 30)))


CASES["_sample_unique_zipfian"] = Case(None, shapes=(), dtypes=("int64",), grad=False,
                                       params=dict(range_max=10, shape=(2, 3)), check=_zipfian_check)
