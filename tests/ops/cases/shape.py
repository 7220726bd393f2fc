"""Oracles for the shape families: shape.cc, shape_transform.cc, pad.cc, diag.cc, slice.cc, concat_split.cc and
sequence.cc. Behaviours one Case cannot show (every Reshape special value, other modes) are in
tests/ops/test_shape_extra.py."""

import numpy as np

from cases.common import ALL, NUMERIC, Case

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


def adjoint(forward, data_shape, grad):
    """J^T grad for a linear `forward` of an array of `data_shape`, column by column (tiny inputs only)."""
    result = np.zeros(data_shape, dtype=np.float64)
    for position in np.ndindex(*data_shape):
        basis = np.zeros(data_shape)
        basis[position] = 1
        result[position] = float((np.asarray(forward(basis), dtype=np.float64) * grad).sum())
    return result.astype(grad.dtype)


def _uniform(rng, dtype, shape):
    x = rng.uniform(-2, 2, size=shape)
    return np.round(x * 3) if np.dtype(dtype).kind in "iu" else x


def python_slices(begin, end, step=()):
    """MXNet's begin/end/step tuples as Python slices (their semantics are Python's)."""
    step = step or (None,) * len(begin)
    return tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))


# ---- shape.cc -------------------------------------------------------------------------------------
# (3, 4, 5) with shape (0, -4, 2, -1, -2): 0 keeps 3, -4 splits 4 into (2, 2), -2 keeps the rest.
_case("Reshape", lambda x, shape: x.reshape(3, 2, 2, 5), shapes=((3, 4, 5),), params={"shape": (0, -4, 2, -1, -2)},
      dtypes=ALL)
_case("reshape_like", lambda a, b, **p: a.reshape(15, 2, 7), shapes=((30, 7), (15, 2, 4)),
      params={"lhs_begin": 0, "lhs_end": 1, "rhs_begin": 0, "rhs_end": -1}, dtypes=ALL)
_case("Flatten", lambda x: x.reshape(x.shape[0], -1), shapes=((2, 3, 4),), dtypes=ALL)
_case("expand_dims", lambda x, axis: np.expand_dims(x, axis), shapes=((3, 4),), params={"axis": -1}, dtypes=ALL)
_case("squeeze", lambda x, axis: np.squeeze(x, axis=axis), shapes=((3, 1, 4, 1),), params={"axis": (1, -1)},
      dtypes=ALL)

# ---- shape_transform.cc ---------------------------------------------------------------------------
_case("transpose", lambda x, axes: np.transpose(x, axes), shapes=((2, 3, 4),), params={"axes": (2, 0, 1)},
      dtypes=ALL)
_case("SwapAxis", lambda x, dim1, dim2: np.swapaxes(x, dim1, dim2), shapes=((2, 3, 4),),
      params={"dim1": 0, "dim2": -1}, dtypes=ALL)


def depth_to_space(x, block_size):
    n, c, h, w = x.shape
    b = block_size
    return x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // (b * b), h * b, w * b)


def space_to_depth(x, block_size):
    n, c, h, w = x.shape
    b = block_size
    return x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4).reshape(n, c * b * b, h // b, w // b)


_case("depth_to_space", depth_to_space, shapes=((1, 8, 2, 3),), params={"block_size": 2}, dtypes=ALL)
_case("space_to_depth", space_to_depth, shapes=((1, 2, 4, 6),), params={"block_size": 2}, dtypes=ALL)
_case("tile", lambda x, reps: np.tile(x, reps), shapes=((2, 3),), params={"reps": (2, 1, 2)}, dtypes=ALL)
_case("repeat", lambda x, repeats, axis: np.repeat(x, repeats, axis=axis), shapes=((2, 3),),
      params={"repeats": 2, "axis": -1}, dtypes=ALL)
_case("reverse", lambda x, axis: np.flip(x, axis=axis), shapes=((2, 3, 4),), params={"axis": (0, -1)}, dtypes=ALL)

# ---- pad.cc and diag.cc ---------------------------------------------------------------------------
_PAD = {"mode": "reflect", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)}


def numpy_pad(x, mode, pad_width, constant_value=0):
    pairs = [(pad_width[2 * i], pad_width[2 * i + 1]) for i in range(x.ndim)]
    if mode == "constant":
        return np.pad(x, pairs, mode="constant", constant_values=constant_value).astype(x.dtype)
    return np.pad(x, pairs, mode=mode)


_case("Pad", numpy_pad, shapes=((1, 2, 3, 4),), params=_PAD, dtypes=NUMERIC)
_case("_pad_grad",
      lambda g, x, **p: adjoint(lambda v: numpy_pad(v, **p), x.shape, g),
      shapes=((1, 1, 6, 7), (1, 1, 3, 4)), params={"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)})
_case("diag", lambda x, k: np.diagonal(x, k).copy(), shapes=((3, 4),), params={"k": 1}, dtypes=ALL)
_case("_diag_grad",
      lambda g, x, k, axis1, axis2: adjoint(lambda v: np.diagonal(v, k, axis1, axis2), x.shape, g),
      shapes=((2, 3), (3, 2, 4)), params={"k": -1, "axis1": 2, "axis2": 0})

# ---- slice.cc -------------------------------------------------------------------------------------
_SLICE = {"begin": (None, 4), "end": (3, 0), "step": (2, -2)}
_case("slice", lambda x, **p: x[python_slices(**p)], shapes=((4, 5),), params=_SLICE, dtypes=ALL)
_case("slice_axis", lambda x, axis, begin, end: np.take(x, np.arange(x.shape[axis])[begin:end], axis=axis),
      shapes=((2, 3, 5),), params={"axis": -1, "begin": 1, "end": -1}, dtypes=ALL)
_case("slice_like", lambda x, like, axes: x[:2, :, :3], shapes=((3, 4, 5), (2, 4, 3)), params={"axes": (0, -1)},
      dtypes=ALL)


def _slice_assign(lhs, rhs, **p):
    out = lhs.copy()
    out[python_slices(**p)] = rhs
    return out


def _slice_assign_scalar(x, scalar, **p):
    out = x.copy()
    out[python_slices(**p)] = scalar
    return out


_ASSIGN = {"begin": (1, None), "end": (3, None), "step": (1, 2)}
_case("_slice_assign", _slice_assign, shapes=((4, 5), (2, 3)), params=_ASSIGN, dtypes=ALL)
_case("_slice_assign_scalar", _slice_assign_scalar, shapes=((4, 5),),
      params={"scalar": 2.0, "begin": (-3, 1), "end": (None, 4)}, dtypes=ALL)


def _slice_like_grad(g, x):
    out = np.zeros_like(x)
    out[tuple(slice(0, n) for n in g.shape)] = g
    return out


_case("_slice_like_grad", _slice_like_grad, shapes=((2, 3), (3, 5)), dtypes=ALL)

# ---- concat_split.cc ------------------------------------------------------------------------------
_case("Concat", lambda *xs, num_args, dim: np.concatenate(xs, axis=dim), shapes=((2, 3), (2, 1), (2, 4)),
      params={"num_args": 3, "dim": 1}, dtypes=ALL)
_case("_split_like", lambda x, *likes, num_args, axis: np.split(x, [3], axis=axis), shapes=((2, 8), (2, 3), (2, 5)),
      params={"num_args": 3, "axis": -1}, dtypes=ALL)
_case("stack", lambda *xs, num_args, axis: np.stack(xs, axis=axis), shapes=((2, 3),) * 3,
      params={"num_args": 3, "axis": 1}, dtypes=ALL)
_case("SliceChannel", lambda x, num_outputs, axis: np.split(x, num_outputs, axis=axis), shapes=((2, 6, 3),),
      params={"num_outputs": 3, "axis": 1}, dtypes=ALL)
_case("_split_v2", lambda x, indices, axis: np.split(x, indices[1:], axis=axis), shapes=((3, 7),),
      params={"indices": (0, 2, 5), "axis": 1}, dtypes=ALL)

# ---- sequence.cc ----------------------------------------------------------------------------------
_LENGTHS = np.array([1, 4, 2])
_SEQ = {"use_sequence_length": True, "axis": 0}


def _sequence_inputs(shape):
    return lambda rng, dtype: [_uniform(rng, dtype, shape), _LENGTHS]


def _sequence_mask(x, lengths, value, use_sequence_length, axis):
    steps = np.arange(x.shape[axis])
    keep = steps[:, None] < lengths[None, :].astype(np.int64)        # (T, B)
    if axis == 1:
        keep = keep.T
    keep = keep.reshape(keep.shape + (1,) * (x.ndim - 2))
    return np.where(keep, x, np.asarray(value, dtype=x.dtype))


def _sequence_last(x, lengths, use_sequence_length, axis):
    data = x if axis == 0 else np.swapaxes(x, 0, 1)
    return np.stack([data[int(n) - 1, b] for b, n in enumerate(lengths)])


def _sequence_reverse(x, lengths, use_sequence_length, axis):
    out = x.copy()
    for b, n in enumerate(lengths.astype(np.int64)):
        out[:n, b] = x[:n, b][::-1]
    return out


_case("SequenceMask", _sequence_mask, make_inputs=_sequence_inputs((4, 3, 2)), params=dict(_SEQ, value=-1.0),
      dtypes=NUMERIC)
_case("SequenceLast", _sequence_last, make_inputs=_sequence_inputs((3, 4, 2)), params=dict(_SEQ, axis=1),
      dtypes=NUMERIC)
_case("SequenceReverse", _sequence_reverse, make_inputs=_sequence_inputs((4, 3, 2)), params=_SEQ, dtypes=NUMERIC)
_case("_sequence_last_grad",
      lambda g, x, lengths, **p: adjoint(lambda v: _sequence_last(v, lengths, **p), x.shape, g),
      make_inputs=lambda rng, dtype: [_uniform(rng, dtype, (3, 2)), _uniform(rng, dtype, (4, 3, 2)), _LENGTHS],
      params=_SEQ)
