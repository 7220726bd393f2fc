"""Shape and indexing behaviours that one registry Case per op cannot show: every Reshape special value, other
modes and parameter forms, gradients along other paths, and the errors for bad indices."""

import numpy as np
import pytest

import pmx_ctypes as pmx

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape)


def run(op, inputs, **params):
    outputs = pmx.invoke(op, inputs, **params)
    return outputs[0] if len(outputs) == 1 else outputs


def check_gradient(op, inputs, **params):
    """The composed gradient of `op` against central differences, for every float input with a gradient."""
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    outputs = pmx.invoke(op, inputs, **params)
    heads = [RNG.uniform(-1, 1, size=out.shape) for out in outputs]
    analytic = pmx.gradient(op, inputs, heads, **params)

    def objective(values):
        return sum(float((out * head).sum()) for out, head in zip(pmx.invoke(op, values, **params), heads))

    checked = 0
    for index, grad in enumerate(analytic):
        if grad is None:
            continue
        assert grad.shape == inputs[index].shape, f"{op}: gradient {index} has shape {grad.shape}"
        numeric = np.zeros_like(inputs[index])
        for position in np.ndindex(inputs[index].shape):
            plus = [v.copy() for v in inputs]
            minus = [v.copy() for v in inputs]
            plus[index][position] += 1e-6
            minus[index][position] -= 1e-6
            numeric[position] = (objective(plus) - objective(minus)) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6, err_msg=f"{op} input {index}")
        checked += 1
    assert checked, f"{op}: no gradient was checked"


# ---- Reshape: MXNet's documented examples of every special value ---------------------------------------------
@pytest.mark.parametrize("in_shape, shape, reverse, expected", [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
    ((2, 3, 4), (-1, 0), False, (8, 3)),  # -1 also moves past an input dimension.
])
def test_reshape_special_values(in_shape, shape, reverse, expected):
    x = np.arange(np.prod(in_shape), dtype=np.float32).reshape(in_shape)
    out = run("Reshape", [x], shape=shape, reverse=reverse)
    assert out.shape == expected
    np.testing.assert_array_equal(out.ravel(), x.ravel())
    np.testing.assert_array_equal(run("reshape", [x], shape=shape, reverse=reverse), out)


def test_reshape_errors_name_the_problem():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"^\[Reshape\] shape \(-1, -1\) has more than one -1"):
        run("Reshape", [x], shape=(-1, -1))
    with pytest.raises(ValueError, match=r"^\[Reshape\] cannot reshape an array of shape \(2, 3, 4\)"):
        run("Reshape", [x], shape=(5, 5))
    with pytest.raises(ValueError, match=r"^\[Reshape\] shape \(-3, -3\): a -3 merges"):
        run("Reshape", [x], shape=(-3, -3))
    with pytest.raises(ValueError, match=r"^\[Reshape\] parameter 'shape' is empty"):
        run("Reshape", [x])


def test_reshape_deprecated_target_shape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert run("Reshape", [x], target_shape=(4, 0)).shape == (4, 6)
    assert run("Reshape", [x], target_shape=(0, 3, 4), keep_highest=True).shape == (2, 3, 4)
    assert run("Reshape", [x], target_shape=(7, 0), keep_highest=True).shape == (2, 12)


def test_reshape_like_and_flatten_and_squeeze_forms():
    x = rand(2, 3, 4)
    assert run("reshape_like", [x, np.zeros((4, 6))]).shape == (4, 6)
    assert run("reshape_like", [x, np.zeros((12, 5))], lhs_begin=-2, rhs_begin=0, rhs_end=1).shape == (2, 12)
    assert run("Flatten", [rand(5)]).shape == (5, 1)
    assert run("squeeze", [rand(1, 3, 1)]).shape == (3,)
    assert run("squeeze", [rand(1, 1)]).shape == (1,)  # MXNet 1.x keeps one axis.
    with pytest.raises(ValueError, match=r"^\[squeeze\] axis 1 has size 3"):
        run("squeeze", [rand(1, 3)], axis=(1,))
    with pytest.raises(IndexError, match=r"^\[expand_dims\] axis 4 is out of range"):
        run("expand_dims", [rand(2, 3)], axis=4)
    check_gradient("Reshape", [rand(2, 3, 4)], shape=(-3, -2))


# ---- transpose, tile, repeat --------------------------------------------------------------------------------------
def test_transpose_default_and_inverse_gradient():
    x = rand(2, 3, 4)
    np.testing.assert_array_equal(run("transpose", [x]), x.T)
    check_gradient("transpose", [x])
    check_gradient("transpose", [x], axes=(-1, 0, 1))
    with pytest.raises(ValueError, match=r"^\[transpose\] axes \(0, 0, 1\) is not a permutation"):
        run("transpose", [x], axes=(0, 0, 1))


@pytest.mark.parametrize("shape, reps", [((2, 3), (3,)), ((3,), (2, 2)), ((2, 1, 3), (1, 2, 2)), ((2, 3), ()),
                                         ((2, 3), (0, 2))])
def test_tile_forms_and_gradients(shape, reps):
    x = rand(*shape)
    np.testing.assert_array_equal(run("tile", [x], reps=reps), np.tile(x, reps))
    check_gradient("tile", [x], reps=reps)


@pytest.mark.parametrize("axis", [None, 0, 1, -2])
def test_repeat_forms_and_gradients(axis):
    x = rand(2, 3, 2)
    np.testing.assert_array_equal(run("repeat", [x], repeats=3, axis=axis), np.repeat(x, 3, axis=axis))
    check_gradient("repeat", [x], repeats=3, axis=axis)
    assert run("repeat", [x], repeats=0, axis=axis).shape == (0,)  # MXNet 1.x's empty 1-D result.


def test_large_inputs_take_the_threaded_paths():
    x = RNG.uniform(size=(300, 500)).astype(np.float32)
    np.testing.assert_array_equal(run("transpose", [x]), x.T)
    np.testing.assert_array_equal(run("tile", [x], reps=(2, 1)), np.tile(x, (2, 1)))
    np.testing.assert_array_equal(run("slice", [x], begin=(None, 3), end=(None, None), step=(-1, 2)), x[::-1, 3::2])
    np.testing.assert_array_equal(run("Concat", [x, x], num_args=2, dim=0), np.concatenate([x, x]))


# ---- Pad and diag -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_modes_and_gradients(mode):
    x = rand(1, 2, 3, 3)
    pad = (0, 0, 1, 0, 2, 1, 1, 2)
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(4)]
    expected = np.pad(x, pairs, mode=mode, **({"constant_values": 0.5} if mode == "constant" else {}))
    np.testing.assert_allclose(run("Pad", [x], mode=mode, pad_width=pad, constant_value=0.5), expected)
    check_gradient("Pad", [x], mode=mode, pad_width=pad)


def test_pad_errors():
    with pytest.raises(ValueError, match=r"^\[Pad\] reflect padding of axis 2 by \(3, 0\)"):
        run("Pad", [rand(1, 1, 3, 3)], mode="reflect", pad_width=(0, 0, 0, 0, 3, 0, 0, 0))
    with pytest.raises(ValueError, match=r"^\[Pad\] pad_width has 4 entries"):
        run("Pad", [rand(1, 1, 3, 3)], mode="edge", pad_width=(0, 0, 1, 1))


@pytest.mark.parametrize("k", [0, 2, -1])
def test_diag_of_a_vector_and_its_gradient(k):
    v = rand(3)
    np.testing.assert_array_equal(run("diag", [v], k=k), np.diag(v, k))
    check_gradient("diag", [v], k=k)
    check_gradient("diag", [rand(3, 4, 2)], k=k, axis1=0, axis2=1)


# ---- slicing --------------------------------------------------------------------------------------------------------
def test_slice_axis_forms_and_gradients():
    x = rand(3, 4, 5)
    np.testing.assert_array_equal(run("slice_axis", [x], axis=1, begin=-3, end=None), x[:, -3:])
    check_gradient("slice_axis", [x], axis=1, begin=1, end=3)
    check_gradient("slice_axis", [x], axis=0, begin=-2, end=None)
    with pytest.raises(IndexError, match=r"^\[slice_axis\] begin 0 and end 9 are out of range"):
        run("slice_axis", [x], axis=0, begin=0, end=9)
    with pytest.raises(ValueError, match=r"^\[slice_axis\] begin 2 is not before end 1"):
        run("slice_axis", [x], axis=0, begin=2, end=1)


def test_slice_clamps_like_python_and_rejects_bad_params():
    x = rand(4, 5)
    np.testing.assert_array_equal(run("crop", [x], begin=(-10, 2), end=(10, 100)), x[-10:10, 2:100])
    np.testing.assert_array_equal(run("slice", [x], begin=(None,), end=(None,), step=(-1,)), x[::-1])
    assert run("slice", [x], begin=(3,), end=(1,)).shape == (0, 5)
    with pytest.raises(ValueError, match=r"^\[slice\] step\[0\] is 0"):
        run("slice", [x], begin=(0,), end=(2,), step=(0,))
    with pytest.raises(ValueError, match=r"^\[slice\] parameter 'begin' is '\(a, 1\)'"):
        run("slice", [x], begin="(a, 1)", end=(1, 2))
    check_gradient("slice", [x], begin=(None, -1), end=(None, 0), step=(2, -2))


def test_slice_assign_gradients_and_like_defaults():
    check_gradient("_slice_assign", [rand(4, 5), rand(2, 5)], begin=(1,), end=(3,))
    check_gradient("_slice_assign_scalar", [rand(4, 5)], scalar=3, begin=(None, 1), end=(None, 3))
    x, like = rand(3, 4), np.zeros((2, 2))
    np.testing.assert_array_equal(run("slice_like", [x, like]), x[:2, :2])
    check_gradient("slice_like", [x, like])


# ---- joining and splitting ----------------------------------------------------------------------------------------------
def test_concat_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^\[Concat\] input 1 has shape \(3, 2\), but input 0 has \(2, 2\)"):
        run("Concat", [rand(2, 2), rand(3, 2)], num_args=2, dim=1)


def test_stack_and_split_gradients():
    xs = [rand(2, 3) for _ in range(3)]
    np.testing.assert_array_equal(run("stack", xs, num_args=3, axis=-1), np.stack(xs, axis=-1))
    check_gradient("stack", xs, num_args=3, axis=-1)
    x = rand(3, 2)
    parts = run("split", [x], num_outputs=3, axis=0, squeeze_axis=True)
    for i, part in enumerate(parts):
        np.testing.assert_array_equal(part, x[i])
    check_gradient("SliceChannel", [x], num_outputs=3, axis=0, squeeze_axis=True)
    check_gradient("Concat", [rand(2, 1), rand(2, 3)], num_args=2, dim=-1)


def test_split_v2_forms_and_gradients():
    x = rand(2, 7)
    parts = run("_split_v2", [x], sections=3, axis=1)
    assert [p.shape for p in parts] == [(2, 2), (2, 2), (2, 3)]  # MXNet: the last part takes the remainder.
    parts = run("_split_v2", [x], indices=(2, 5), axis=-1)
    np.testing.assert_array_equal(parts[0], x[:, 2:5])
    np.testing.assert_array_equal(parts[1], x[:, 5:])
    check_gradient("_split_v2", [x], indices=(2, 5), axis=-1)
    check_gradient("_split_v2", [rand(3, 2)], sections=3, axis=0, squeeze_axis=True)


# ---- sequences -------------------------------------------------------------------------------------------------------------
def test_sequence_ops_without_lengths_take_one_input():
    x = rand(3, 2, 2)
    np.testing.assert_array_equal(run("SequenceMask", [x]), x)
    np.testing.assert_array_equal(run("SequenceLast", [x]), x[-1])
    np.testing.assert_array_equal(run("SequenceLast", [x], axis=1), x[:, -1])
    np.testing.assert_array_equal(run("SequenceReverse", [x]), x[::-1])
    with pytest.raises(ValueError, match=r"^\[SequenceMask\] expected 1 input\(s\), given 2"):
        run("SequenceMask", [x, np.ones(2)])
    check_gradient("SequenceLast", [x])
    check_gradient("SequenceMask", [x, np.array([2.0, 0.0, 1.0])], use_sequence_length=True, axis=1)
    check_gradient("SequenceReverse", [x, np.array([3.0, 1.0])], use_sequence_length=True)


def test_sequence_lengths_out_of_range():
    x = rand(3, 2)
    with pytest.raises(IndexError, match=r"^\[SequenceLast\] sequence 1 has length 0"):
        run("SequenceLast", [x, np.array([1.0, 0.0])], use_sequence_length=True)
    with pytest.raises(IndexError, match=r"^\[SequenceReverse\] sequence 0 has length 4"):
        run("SequenceReverse", [x, np.array([4.0, 1.0])], use_sequence_length=True)


# ---- take, pick, where, gather/scatter ------------------------------------------------------------------------------------
def test_take_modes():
    a = rand(5, 3)
    idx = np.array([[0, 7], [-2, 4]], dtype=np.float32)
    np.testing.assert_array_equal(run("take", [a, idx]), a[np.clip(idx.astype(int), 0, 4)])
    np.testing.assert_array_equal(run("take", [a, idx.astype(np.int64)], mode="wrap"), np.take(a, idx.astype(int), 0,
                                                                                               mode="wrap"))
    np.testing.assert_array_equal(run("take", [a, np.array([-1, 2])], mode="raise"), a[[-1, 2]])
    with pytest.raises(IndexError, match=r"^\[take\] index 7 is out of bounds for an axis of size 5"):
        run("take", [a, idx], mode="raise")
    with pytest.raises(TypeError, match=r"^\[take\] the index input has dtype bool"):
        run("take", [a, np.array([True])])
    # Repeated indices accumulate in the gradient.
    check_gradient("take", [a, np.array([1.0, 1.0, 3.0, 1.0])])


def test_pick_clip_without_keepdims_and_batch_take_gradient():
    data = rand(2, 3, 4)
    index = np.array([[-1, 9, 2, 0], [1, 2, 0, 5]], dtype=np.float32)
    expected = np.take_along_axis(data, np.clip(index.astype(int), 0, 2)[:, None, :], axis=1)[:, 0, :]
    np.testing.assert_array_equal(run("pick", [data, index], axis=1), expected)
    check_gradient("pick", [data, index], axis=-2)
    check_gradient("batch_take", [rand(3, 4), np.array([3.0, 0.0, 9.0])])


def test_where_with_a_row_condition():
    x, y = rand(3, 2), rand(3, 2)
    cond = np.array([1, 0, 1], dtype=np.int32)
    np.testing.assert_array_equal(run("where", [cond, x, y]), np.where(cond[:, None] != 0, x, y))
    check_gradient("where", [cond, x, y])


def test_gather_nd_rejects_out_of_range_and_one_hot_dtypes():
    data = rand(3, 4)
    with pytest.raises(IndexError, match=r"^\[gather_nd\] index 3 is out of bounds for axis 0 of size 3"):
        run("gather_nd", [data, np.array([[3], [0]])])
    np.testing.assert_array_equal(run("gather_nd", [data, np.array([[2, 0]])]), data[[2, 0]])
    hot = run("one_hot", [np.array([1, 0])], depth=3, dtype="int32")
    assert hot.dtype == np.int32
    np.testing.assert_array_equal(hot, [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(IndexError, match=r"^\[_ravel_multi_index\] coordinate 4 is out of bounds"):
        run("_ravel_multi_index", [np.array([[4.0], [0.0]])], shape=(3, 4))
    np.testing.assert_array_equal(run("_unravel_index", [np.array([7, 30])], shape=(-1, 4)), [[1, 7], [3, 2]])
