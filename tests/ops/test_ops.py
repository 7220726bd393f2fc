"""Walks the operator registry: every op's forward against its NumPy oracle, every differentiable op's
composed gradient against central finite differences in float64, and clear errors for bad input."""

import zlib

import numpy as np
import pytest

import pmx_ctypes as pmx
from gradcheck import check_gradient
from cases import CASES

SCHEMA = {op["name"]: op for op in pmx.schema()["operators"]}
OPS = sorted(SCHEMA)
TESTED = [name for name in OPS if name in CASES]


def test_every_registered_operator_has_an_oracle():
    missing = [name for name in OPS if name not in CASES]
    assert not missing, "operators without an entry in tests/ops/op_cases.py: " + ", ".join(missing)


def test_every_oracle_names_a_registered_operator():
    stale = [name for name in CASES if name not in SCHEMA]
    assert not stale, "entries in op_cases.py for operators that are not registered: " + ", ".join(stale)


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


@pytest.mark.parametrize("name", TESTED)
def test_forward_matches_numpy(name):
    case = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for dtype in case.dtypes:
        inputs = case.inputs(rng, dtype)
        if case.check is not None:
            case.check(name, inputs, dtype, case.params)
            continue
        expected = _as_list(case.oracle(*inputs, **case.params))
        actual = pmx.invoke(name, inputs, **case.params)
        assert len(actual) == len(expected), f"{name}: {len(actual)} outputs, expected {len(expected)}"
        for got, want in zip(actual, expected):
            want = np.asarray(want)
            assert got.shape == want.shape, f"{name} {dtype}: shape {got.shape}, expected {want.shape}"
            assert got.dtype == want.dtype, f"{name} {dtype}: dtype {got.dtype}, expected {want.dtype}"
            tolerance = dict(rtol=1e-3, atol=1e-4) if dtype == "float32" else dict(rtol=case.rtol, atol=case.atol)
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), err_msg=f"{name} {dtype}",
                                       **tolerance)


@pytest.mark.parametrize("name", [n for n in TESTED if SCHEMA[n]["differentiable"] and CASES[n].grad])
def test_gradient_matches_finite_differences(name):
    case = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    inputs = case.inputs(rng, "float64")
    check_gradient(name, inputs, case.params, seed=zlib.crc32(name.encode()) + 2)


@pytest.mark.parametrize("name", TESTED)
def test_wrong_input_count_is_a_clear_error(name):
    case = CASES[name]
    inputs = case.inputs(np.random.default_rng(0), case.dtypes[0])
    with pytest.raises(ValueError, match=r"^\[" + name + r"\] expected \d+ input"):
        pmx.invoke(name, inputs + (inputs[:1] or [np.ones(1, np.float32)]), **case.params)


def test_unknown_parameter_and_operator_are_clear_errors():
    with pytest.raises(ValueError, match=r"^\[clip\] unknown parameter 'a_mn'"):
        pmx.invoke("clip", [np.ones(3, np.float32)], a_mn=0, a_max=1)
    with pytest.raises(ValueError, match=r"^\[clip\] required parameter 'a_min'"):
        pmx.invoke("clip", [np.ones(3, np.float32)], a_max=1)
    with pytest.raises(ValueError, match="unknown operator 'no_such_op'"):
        pmx.invoke("no_such_op", [np.ones(3, np.float32)])


def test_shape_and_dtype_mismatches_are_clear_errors():
    with pytest.raises(ValueError, match=r"^\[elemwise_add\] shapes must be equal"):
        pmx.invoke("elemwise_add", [np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)])
    with pytest.raises(ValueError, match=r"^\[broadcast_add\] shapes \(2, 3\) and \(4, 3\) cannot be broadcast"):
        pmx.invoke("broadcast_add", [np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)])
    with pytest.raises(TypeError, match=r"^\[elemwise_add\] .*dtype"):
        pmx.invoke("elemwise_add", [np.ones(3, np.float32), np.ones(3, np.float64)])
    with pytest.raises(TypeError, match=r"^\[exp\] dtype int32 is not supported"):
        pmx.invoke("exp", [np.ones(3, np.int32)])


def test_aliases_reach_the_same_operator():
    a, b = np.arange(4.0, dtype=np.float32), np.full(4, 2.0, dtype=np.float32)
    np.testing.assert_array_equal(pmx.invoke("_plus", [a, b])[0], a + b)
    np.testing.assert_array_equal(pmx.invoke("broadcast_plus", [a, b])[0], a + b)
    np.testing.assert_array_equal(pmx.invoke("identity", [a])[0], a)


def test_blockgrad_stops_the_gradient():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    (grad,) = pmx.gradient("BlockGrad", [x], [np.ones_like(x)])
    np.testing.assert_array_equal(grad, np.zeros_like(x))


def test_ctx_parameter_places_creation_ops():
    np.testing.assert_array_equal(pmx.invoke("_zeros", [], shape="(2, 3)", ctx="cpu(0)")[0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"device 'tpu\(0\)' is not valid"):
        pmx.invoke("_zeros", [], shape="(2,)", ctx="tpu(0)")
