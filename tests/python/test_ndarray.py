"""mx.nd.NDArray against NumPy: creation, dtypes, arithmetic (broadcast, scalar, reflected, in-place),
comparisons, conversions, reshape's special values, contexts, printing and NumPy interop."""

import pickle

import numpy as np
import pytest

import polymix as mx

RNG = np.random.default_rng(7)


def _rand(*shape, dtype=np.float32):
    return RNG.uniform(-2, 2, size=shape).astype(dtype)


# ---- Creation and properties ------------------------------------------------------------------------

def test_array_keeps_values_and_defaults_to_float32_as_mxnet():
    source = np.arange(6, dtype=np.int64).reshape(2, 3)
    x = mx.nd.array(source)
    assert x.dtype is np.float32  # MXNet 1.x: float32 unless dtype is given, even for integer sources.
    assert x.shape == (2, 3) and x.size == 6 and x.ndim == 2
    np.testing.assert_array_equal(x.asnumpy(), source.astype(np.float32))
    assert mx.nd.array(source, dtype="int64").dtype is np.int64
    assert mx.nd.array([[1, 2], [3, 4]], dtype=np.int32).asnumpy().tolist() == [[1, 2], [3, 4]]
    y = mx.nd.array(x, dtype="float64")  # From an NDArray: a converted copy.
    assert y.dtype is np.float64 and not y.handle.shares_memory_with(x.handle)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.uint8, np.int8, np.int32, np.int64,
                                   np.bool_])
def test_every_dtype_round_trips_through_numpy(dtype):
    source = (RNG.uniform(0, 5, size=(3, 4)) > 2) if dtype is np.bool_ else (RNG.uniform(0, 100, (3, 4)))
    source = source.astype(dtype)
    x = mx.nd.array(source, dtype=dtype)
    assert x.dtype is dtype
    result = x.asnumpy()
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, source)


def test_creation_functions():
    np.testing.assert_array_equal(mx.nd.zeros((2, 3)).asnumpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(mx.nd.ones(4, dtype="int32").asnumpy(), np.ones(4, np.int32))
    np.testing.assert_array_equal(mx.nd.full((2, 2), 7.5).asnumpy(), np.full((2, 2), 7.5, np.float32))
    np.testing.assert_allclose(mx.nd.arange(0, 3, 0.5).asnumpy(), np.arange(0, 3, 0.5))
    np.testing.assert_array_equal(mx.nd.arange(3, repeat=2).asnumpy(), [0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose(mx.nd.linspace(0, 1, 5).asnumpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(mx.nd.eye(3, k=1).asnumpy(), np.eye(3, k=1))
    assert mx.nd.empty((2, 5), dtype="float16").shape == (2, 5)
    assert mx.nd.zeros((2, 3), dtype=np.float64).dtype is np.float64


def test_astype_copy_copyto_and_contexts():
    x = mx.nd.array(_rand(2, 3))
    y = x.astype("int32")
    assert y.dtype is np.int32
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy().astype(np.int32))
    assert x.astype(np.float32, copy=False) is x
    z = x.copy()
    z[:] = 0
    assert np.all(x.asnumpy() != 0)  # copy() does not share memory.
    target = mx.nd.zeros((2, 3), dtype="float64")
    assert x.copyto(target) is target
    np.testing.assert_allclose(target.asnumpy(), x.asnumpy())
    assert x.as_in_context(mx.cpu()) is x
    assert x.context == mx.cpu(0) and str(x.context) == "cpu(0)" and x.ctx == mx.cpu()
    with mx.Context("cpu", 0) as ctx:
        assert mx.current_context() is ctx
    assert mx.context.num_gpus() == mx.num_gpus() >= 0


def test_asscalar_wait_and_bool():
    x = mx.nd.array([2.5])
    assert x.asscalar() == np.float32(2.5) and isinstance(x.asscalar(), np.float32)
    with pytest.raises(ValueError):
        mx.nd.zeros((2,)).asscalar()
    x.wait_to_read()
    mx.nd.waitall()
    assert bool(mx.nd.array([1])) and not bool(mx.nd.array([0]))
    with pytest.raises(ValueError):
        bool(mx.nd.ones((2,)))
    assert len(mx.nd.zeros((5, 2))) == 5


# ---- Arithmetic ------------------------------------------------------------------------------------

BINARY = [
    (lambda a, b: a + b, np.add),
    (lambda a, b: a - b, np.subtract),
    (lambda a, b: a * b, np.multiply),
    (lambda a, b: a / b, np.divide),
    (lambda a, b: a ** b, np.power),
    (lambda a, b: mx.nd.maximum(a, b), np.maximum),
    (lambda a, b: mx.nd.minimum(a, b), np.minimum),
]


@pytest.mark.parametrize("index", range(len(BINARY)))
def test_binary_operators_broadcast_like_mxnet_nd(index):
    operation, oracle = BINARY[index]
    a, b = np.abs(_rand(3, 1, 4)) + 0.5, np.abs(_rand(5, 1)) + 0.5
    result = operation(mx.nd.array(a), mx.nd.array(b))
    assert result.shape == (3, 5, 4)  # MXNet 1.x's `+` between NDArrays is broadcast_add.
    np.testing.assert_allclose(result.asnumpy(), oracle(a, b), rtol=1e-5)


def test_scalar_and_reflected_operators():
    a = np.abs(_rand(2, 3)) + 0.5
    x = mx.nd.array(a)
    cases = [(x + 2, a + 2), (2 + x, 2 + a), (x - 2, a - 2), (2 - x, 2 - a), (x * 3, a * 3), (3 * x, 3 * a),
             (x / 4, a / 4), (4 / x, 4 / a), (x ** 2, a ** 2), (2 ** x, 2 ** a), (x % 0.7, np.mod(a, 0.7)),
             (5 % x, np.mod(5, a)), (-x, -a), (abs(-x), a)]
    for got, want in cases:
        np.testing.assert_allclose(got.asnumpy(), want.astype(np.float32), rtol=1e-5, atol=1e-6)
    assert mx.nd.add(2, 3) == 5 and mx.nd.subtract(2, 3) == -1


def test_comparisons_return_zero_one_arrays_in_the_input_dtype():
    a, b = np.array([1, 2, 3], np.float32), np.array([3, 2, 1], np.float32)
    x, y = mx.nd.array(a), mx.nd.array(b)
    for got, want in [(x == y, a == b), (x != y, a != b), (x > y, a > b), (x >= y, a >= b), (x < y, a < b),
                      (x <= y, a <= b), (x > 2, a > 2), (2 > x, 2 > a), (2 <= x, 2 <= a), (x == 2, a == 2)]:
        assert got.dtype is np.float32
        np.testing.assert_array_equal(got.asnumpy(), want.astype(np.float32))


def test_inplace_operators_write_into_the_same_array():
    a = _rand(2, 3)
    x = mx.nd.array(a)
    view = x[0]
    handle = x.handle
    x += 1
    x *= mx.nd.array([2, 3, 4])  # Broadcast from the right.
    x -= 0.5
    x /= 2
    assert x.handle is handle
    want = ((a + 1) * np.array([2, 3, 4]) - 0.5) / 2
    np.testing.assert_allclose(x.asnumpy(), want, rtol=1e-5)
    np.testing.assert_allclose(view.asnumpy(), want[0], rtol=1e-5)  # Views see in-place writes.
    y = mx.nd.array([5.0, 7.0])
    y %= 3
    np.testing.assert_allclose(y.asnumpy(), [2.0, 1.0])
    readonly = mx.nd.NDArray(mx.nd.ones((2,)).handle, writable=False)
    with pytest.raises(ValueError):
        readonly += 1


def test_integer_arithmetic_keeps_integer_dtypes():
    x = mx.nd.array([1, 2, 3], dtype="int32")
    assert (x + 1).dtype is np.int32
    assert (x * x).dtype is np.int32
    np.testing.assert_array_equal((x * x + 1).asnumpy(), [2, 5, 10])


def test_fluent_methods_and_transpose():
    a = _rand(3, 4)
    x = mx.nd.array(a)
    np.testing.assert_allclose(x.sum(axis=1).asnumpy(), a.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(x.mean().asnumpy(), [a.mean()], rtol=1e-5)
    np.testing.assert_allclose(x.exp().asnumpy(), np.exp(a), rtol=1e-5)
    np.testing.assert_allclose(x.max(axis=0).asnumpy(), a.max(axis=0))
    np.testing.assert_array_equal(x.argmax(axis=1).asnumpy(), a.argmax(axis=1).astype(np.float32))
    np.testing.assert_allclose(x.T.asnumpy(), a.T)
    assert mx.nd.zeros((3,)).T.shape == (3,)
    np.testing.assert_allclose(x.clip(-1, 1).asnumpy(), np.clip(a, -1, 1))
    np.testing.assert_allclose(x.broadcast_to((2, 3, 4)).asnumpy(), np.broadcast_to(a, (2, 3, 4)))


# ---- Reshape ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, target, reverse", [
    ((2, 3, 4), (4, 0, 2), False), ((2, 3, 4), (6, 1, -1), False), ((2, 3, 4), (-2,), False),
    ((2, 3, 4), (2, -2), False), ((2, 3, 4), (-3, 4), False), ((2, 3, 4, 5), (-3, -3), False),
    ((2, 3, 4), (-4, 1, 2, -2), False), ((2, 3, 4), (2, -4, -1, 3, -2), False), ((10, 5, 4), (-1, 0), False),
    ((10, 5, 4), (-1, 0), True),
])
def test_reshape_special_values(shape, target, reverse):
    expected = {((2, 3, 4), (4, 0, 2)): (4, 3, 2), ((2, 3, 4), (6, 1, -1)): (6, 1, 4), ((2, 3, 4), (-2,)): (2, 3, 4),
                ((2, 3, 4), (2, -2)): (2, 3, 4), ((2, 3, 4), (-3, 4)): (6, 4), ((2, 3, 4, 5), (-3, -3)): (6, 20),
                ((2, 3, 4), (-4, 1, 2, -2)): (1, 2, 3, 4), ((2, 3, 4), (2, -4, -1, 3, -2)): (2, 1, 3, 4)}
    want = (50, 4) if reverse else expected.get((shape, target), (40, 5))
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    x = mx.nd.array(a)
    y = x.reshape(target, reverse=reverse)
    assert y.shape == want
    np.testing.assert_array_equal(y.asnumpy(), a.reshape(want))
    assert x.reshape(*target, reverse=reverse).shape == want


def test_reshape_is_a_view_and_rejects_bad_sizes():
    x = mx.nd.zeros((2, 3))
    y = x.reshape(-1)
    y[:] = 4
    np.testing.assert_array_equal(x.asnumpy(), np.full((2, 3), 4, np.float32))
    with pytest.raises(ValueError):
        x.reshape(4, 2)
    with pytest.raises(TypeError):
        x.reshape((6,), order="F")


# ---- Printing and NumPy interop --------------------------------------------------------------------

def test_repr_as_mxnet_prints_it():
    x = mx.nd.array([[0, 1], [2, 3]])
    assert repr(x) == "\n[[0. 1.]\n [2. 3.]]\n<NDArray 2x2 @cpu(0)>"
    assert repr(mx.nd.array([1, 2], dtype="int32")) == "\n[1 2]\n<NDArray 2 @cpu(0)>"


def test_numpy_interop_without_copies_through_dlpack():
    a = _rand(3, 4)
    x = mx.nd.array(a)
    np.testing.assert_array_equal(np.asarray(x), a)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    shared = np.from_dlpack(x)  # NumPy reads our memory: writes to x show up in it.
    np.testing.assert_array_equal(shared, a)
    x[0, 0] = 42
    x.wait_to_read()
    assert shared[0, 0] == 42
    assert x.__dlpack_device__() == (1, 0)
    source = np.arange(6, dtype=np.float64).reshape(2, 3)
    y = mx.nd.from_dlpack(source)  # We read NumPy's memory.
    source[1, 2] = -1
    assert y.asnumpy()[1, 2] == -1 and y.dtype is np.float64
    z = mx.nd.from_numpy(np.ones((2, 2), np.int32))
    assert z.dtype is np.int32 and z.asnumpy().sum() == 4
    capsule = mx.nd.to_dlpack_for_read(x)
    assert np.from_dlpack(type("Wrap", (), {"__dlpack__": lambda self, stream=None: capsule,
                                             "__dlpack_device__": lambda self: (1, 0)})())[0, 0] == 42
    buffer = memoryview(x.handle)  # The handle exports the buffer protocol for host arrays.
    assert buffer.shape == (3, 4) and buffer.format == "f"


def test_pickle_round_trip():
    x = mx.nd.array(_rand(2, 3), dtype="float64")
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is np.float64
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())


def test_test_utils():
    a = _rand(3, 3)
    mx.test_utils.assert_almost_equal(mx.nd.array(a), a + 1e-6)
    with pytest.raises(AssertionError):
        mx.test_utils.assert_almost_equal(mx.nd.array(a), a + 1)
    assert mx.test_utils.same(mx.nd.array(a), a)
    assert not mx.test_utils.same(mx.nd.array(a), a + 1)
    r = mx.test_utils.rand_ndarray((4, 5), dtype="float64")
    assert r.shape == (4, 5) and r.dtype is np.float64
    assert mx.test_utils.default_context() == mx.cpu()
