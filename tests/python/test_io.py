"""mx.nd.save / mx.nd.load: round trips of every dtype, and files written by the real MXNet 1.9.1
(testdata/, made by testdata/make_mxnet_fixtures.py)."""

import os

import numpy as np
import pytest

import polymix as mx

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata")


def fixture_values():
    """The arrays of testdata/mxnet-1.9.1-dict.params (as make_mxnet_fixtures.py wrote them)."""
    base = np.arange(-6, 6).reshape(3, 4)
    return {
        "float32": (base / 4).astype(np.float32),
        "float64": (base / 8).astype(np.float64),
        "float16": (base / 2).astype(np.float16),
        "uint8": (base + 6).astype(np.uint8),
        "int8": base.astype(np.int8),
        "int32": (base * 1000).astype(np.int32),
        "int64": (base * 10**10).astype(np.int64),
        "scalar_like": np.array([3.5], dtype=np.float32),
    }


def test_loads_a_named_file_written_by_mxnet():
    loaded = mx.nd.load(os.path.join(TESTDATA, "mxnet-1.9.1-dict.params"))
    expected = fixture_values()
    assert sorted(loaded) == sorted(expected)
    for name, want in expected.items():
        assert loaded[name].dtype is want.dtype.type, name
        np.testing.assert_array_equal(loaded[name].asnumpy(), want, err_msg=name)


def test_loads_a_list_file_written_by_mxnet():
    loaded = mx.nd.load(os.path.join(TESTDATA, "mxnet-1.9.1-list.params"))
    assert isinstance(loaded, list) and len(loaded) == 2
    np.testing.assert_array_equal(loaded[0].asnumpy(), [[1, 2], [3, 4]])
    assert loaded[1].dtype is np.int64
    np.testing.assert_array_equal(loaded[1].asnumpy(), np.arange(5))


def test_round_trip_reproduces_mxnet_bytes(tmp_path):
    source = os.path.join(TESTDATA, "mxnet-1.9.1-dict.params")
    path = str(tmp_path / "again.params")
    loaded = mx.nd.load(source)
    mx.nd.save(path, {name: loaded[name] for name in fixture_values()})  # MXNet's file order.
    with open(source, "rb") as f, open(path, "rb") as g:
        assert f.read() == g.read()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"])
def test_save_load_round_trip(tmp_path, dtype):
    values = np.random.default_rng(3).uniform(0, 50, size=(2, 3, 4)).astype(dtype)
    path = str(tmp_path / "x.params")
    mx.nd.save(path, {"x": mx.nd.array(values, dtype=dtype), "y": mx.nd.zeros((0, 3))})
    loaded = mx.nd.load(path)
    assert loaded["x"].dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(loaded["x"].asnumpy(), values)
    assert loaded["y"].shape == (0, 3)
    mx.nd.save(path, mx.nd.array(values, dtype=dtype))  # One array: a list file.
    (only,) = mx.nd.load(path)
    np.testing.assert_array_equal(only.asnumpy(), values)


def test_load_frombuffer_and_bad_files(tmp_path):
    path = str(tmp_path / "x.params")
    mx.nd.save(path, [mx.nd.ones((2,)), mx.nd.arange(3)])
    with open(path, "rb") as f:
        data = f.read()
    loaded = mx.nd.load_frombuffer(data)
    np.testing.assert_array_equal(loaded[1].asnumpy(), [0, 1, 2])
    with pytest.raises(ValueError):  # Truncated: a clear ValueError naming the problem, never a crash.
        mx.nd.load_frombuffer(data[:-5])
    with pytest.raises(mx.base.MXNetError):
        mx.nd.load(str(tmp_path / "missing.params"))
    with pytest.raises(TypeError):
        mx.nd.save(path, {"x": np.ones(2)})
