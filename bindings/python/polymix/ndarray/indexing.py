"""x[key] and x[key] = value for NDArray, with MXNet 1.x's results.

Basic keys (ints, slices with steps, Ellipsis, None) give views where the rows are contiguous (x[i],
x[a:b], x[i, j]) and the `slice` operator otherwise; a key of only integers keeps one axis (MXNet's legacy
NDArray: x[1, 2] has shape (1,)). Advanced keys (lists, NumPy arrays, NDArrays) use `take` for one index
array on axis 0 and `gather_nd` otherwise, with NumPy's rules for where the broadcast index axes go.
Assignments use _slice_assign(_scalar) and _scatter_set_nd, in place.
"""

import numpy as np

from ..base import integer_types, numeric_types
from . import _internal, op

_FULL = slice(None)


def _is_int(value):
    return isinstance(value, integer_types) and not isinstance(value, (bool, np.bool_))


def _is_full(entry):
    """Whether an index entry is `:` (the whole axis)."""
    return isinstance(entry, slice) and entry.start is None and entry.stop is None and entry.step in (None, 1)


def _is_advanced(entry):
    from .ndarray import NDArray  # pylint: disable=import-outside-toplevel
    return isinstance(entry, (NDArray, np.ndarray, list, tuple))


def _normalize(index, dim, axis):
    """A non-negative index into an axis of size dim; IndexError (NumPy's message) when out of range."""
    index = int(index)
    if index < -dim or index >= dim:
        raise IndexError("index %d is out of bounds for axis %d with size %d" % (index, axis, dim))
    return index + dim if index < 0 else index


def _expand(key, ndim):
    """The key as a tuple without Ellipsis: each entry an int, slice, None or index array."""
    if not isinstance(key, tuple):
        key = (key,)
    ellipses = sum(1 for entry in key if entry is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for entry in key if entry is not None and entry is not Ellipsis)
    if consumed > ndim:
        raise IndexError("too many indices for array: array is %d-dimensional, but %d were indexed"
                         % (ndim, consumed))
    if ellipses:
        at = next(i for i, entry in enumerate(key) if entry is Ellipsis)
        key = key[:at] + (_FULL,) * (ndim - consumed) + key[at + 1:]
    for entry in key:
        if not (entry is None or _is_int(entry) or isinstance(entry, slice) or _is_advanced(entry)):
            raise IndexError("NDArray does not support index %r of type %s" % (entry, type(entry).__name__))
        if isinstance(entry, slice) and entry.step == 0:
            raise ValueError("slice step cannot be zero")
    return key


def _index_array(entry, dim, axis):
    """An advanced index entry as a NumPy int64 array of non-negative indices."""
    from .ndarray import NDArray  # pylint: disable=import-outside-toplevel
    values = entry.asnumpy() if isinstance(entry, NDArray) else np.asarray(entry)
    if values.dtype == np.bool_:
        if values.ndim != 1 or values.shape[0] != dim:
            raise IndexError("boolean index of shape %s does not match axis %d of size %d"
                             % (values.shape, axis, dim))
        return np.nonzero(values)[0]
    values = values.astype(np.int64)
    if values.size and (values.min() < -dim or values.max() >= dim):
        bad = values[(values < -dim) | (values >= dim)].flat[0]
        raise IndexError("index %d is out of bounds for axis %d with size %d" % (bad, axis, dim))
    return np.where(values < 0, values + dim, values)


# ---- x[key] ---------------------------------------------------------------------------------------

def getitem(array, key):
    """array[key]."""
    shape = array.shape
    if _is_int(key):
        if not shape:
            raise IndexError("too many indices for array: array is 0-dimensional, but 1 were indexed")
        index = _normalize(key, shape[0], 0)
        return array._slice(index, index + 1) if len(shape) == 1 else array._at(index)
    if isinstance(key, slice) and key.step in (None, 1):
        start, stop, _ = key.indices(shape[0])
        return array._slice(start, max(start, stop))
    key = _expand(key, len(shape))
    if any(_is_advanced(entry) for entry in key):
        return _get_advanced(array, key)
    return _get_basic(array, key)


def _view(array, key):
    """A view for keys of leading ints and at most one step-1 slice after them (else None)."""
    trimmed = list(key)
    while trimmed and _is_full(trimmed[-1]):
        trimmed.pop()
    if not trimmed or any(entry is None for entry in trimmed):
        return None
    *leading, last = trimmed
    if not all(_is_int(entry) for entry in leading):
        return None
    if not (_is_int(last) or (isinstance(last, slice) and last.step in (None, 1))):
        return None
    result = array
    for axis, entry in enumerate(leading):
        result = result._at(_normalize(entry, array.shape[axis], axis))
    axis = len(leading)
    if _is_int(last):
        index = _normalize(last, array.shape[axis], axis)
        if axis == array.ndim - 1:  # All-integer key: keep one axis, as MXNet does.
            return result._slice(index, index + 1) if result.ndim == 1 else result.reshape((1,))
        return result._at(index)
    start, stop, _ = last.indices(result.shape[0])
    return result._slice(start, max(start, stop))


def _get_basic(array, key):
    view = _view(array, key)
    if view is not None:
        return view
    begin, end, step, final = [], [], [], []
    axis = 0
    for entry in key:
        if entry is None:
            final.append(1)
            continue
        dim = array.shape[axis]
        if _is_int(entry):
            index = _normalize(entry, dim, axis)
            begin.append(index), end.append(index + 1), step.append(1)
        else:
            begin.append(entry.start), end.append(entry.stop), step.append(entry.step)
            final.append(len(range(*entry.indices(dim))))
        axis += 1
    final.extend(array.shape[axis:])
    sliced = op.slice(array, begin=tuple(begin), end=tuple(end), step=tuple(step)) if begin else array
    if not final:
        final = [1]
    return sliced if tuple(final) == sliced.shape else sliced.reshape(tuple(final))


def _advanced_indices(shape, key):
    """NumPy's advanced indexing as gather_nd indices: (indices of shape (ndim, *result), result shape)."""
    if any(entry is None for entry in key):
        raise IndexError("NDArray does not support None (newaxis) together with advanced indices")
    key = tuple(key) + (_FULL,) * (len(shape) - len(key))
    arrays = [None if isinstance(entry, slice) else _index_array(entry, shape[axis], axis)
              for axis, entry in enumerate(key)]
    advanced = [axis for axis, value in enumerate(arrays) if value is not None]
    try:
        broadcast = np.broadcast_shapes(*[arrays[axis].shape for axis in advanced])
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes %s"
                         % " ".join(str(arrays[axis].shape) for axis in advanced)) from None
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    sliced = [axis for axis, value in enumerate(arrays) if value is None]
    ranges = {axis: np.arange(*key[axis].indices(shape[axis])) for axis in sliced}
    # Result axes: the broadcast index axes where the first advanced index is (adjacent) or first (not).
    before = [axis for axis in sliced if adjacent and axis < advanced[0]]
    after = [axis for axis in sliced if axis not in before]
    result_shape = ([len(ranges[a]) for a in before] + list(broadcast) + [len(ranges[a]) for a in after])
    nb = len(before)
    indices = []
    for axis in range(len(shape)):
        if arrays[axis] is not None:
            value = arrays[axis].reshape((1,) * (len(broadcast) - arrays[axis].ndim) + arrays[axis].shape)
            value = value.reshape((1,) * nb + value.shape + (1,) * len(after))
        else:
            position = before.index(axis) if axis in before else nb + len(broadcast) + after.index(axis)
            value = ranges[axis].reshape([len(ranges[axis]) if i == position else 1
                                          for i in range(len(result_shape))])
        indices.append(np.broadcast_to(value, result_shape))
    return np.stack(indices) if indices else np.zeros((0,), np.int64), tuple(result_shape)


def _index_nd(indices, array):
    from .utils import array as make_array  # pylint: disable=import-outside-toplevel
    return make_array(indices, ctx=array.context, dtype=np.int64)


def _get_advanced(array, key):
    first = key[0]
    if len(key) >= 1 and _is_advanced(first) and all(_is_full(entry) for entry in key[1:]):
        from .ndarray import NDArray  # pylint: disable=import-outside-toplevel
        index = first if isinstance(first, NDArray) else None
        if index is None or index.dtype == np.bool_:
            index = _index_nd(_index_array(first, array.shape[0], 0), array)
        return op.take(array, index, axis=0, mode="wrap")
    indices, _ = _advanced_indices(array.shape, key)
    return op.gather_nd(array, _index_nd(indices, array))


# ---- x[key] = value -------------------------------------------------------------------------------

def _prepare_value(array, value, shape):
    """`value` as an NDArray of array's dtype and device, broadcast to `shape`."""
    from .ndarray import NDArray  # pylint: disable=import-outside-toplevel
    from .utils import array as make_array, full  # pylint: disable=import-outside-toplevel
    if isinstance(value, numeric_types):
        return full(shape, value, ctx=array.context, dtype=array.dtype)
    if isinstance(value, NDArray):
        result = value.as_in_context(array.context)
        if result.dtype != array.dtype:
            result = result.astype(array.dtype)
    else:
        try:
            result = make_array(np.asarray(value), ctx=array.context, dtype=array.dtype)
        except (TypeError, ValueError):
            raise TypeError("NDArray does not support assignment with non-array-like object %r of type %s"
                            % (value, type(value).__name__)) from None
    return result if result.shape == tuple(shape) else result.broadcast_to(shape)


def _set_all(array, value):
    from .ndarray import NDArray  # pylint: disable=import-outside-toplevel
    shape = array.shape
    if isinstance(value, NDArray):
        if value.handle is array.handle:
            return
        if value.shape != shape:
            value = value.broadcast_to(shape)
        value.copyto(array)
    elif isinstance(value, numeric_types):
        _internal._full(shape=shape, ctx=array.context, dtype=array.dtype, value=float(value), out=array)
    else:
        source = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=array.dtype), shape))
        array.handle.copy_from_host(source)


def setitem(array, key, value):
    """array[key] = value, in place."""
    shape = array.shape
    if key is Ellipsis or _is_full(key) or (isinstance(key, tuple) and len(key) == 0):
        return _set_all(array, value)
    key = _expand(key, len(shape))
    if all(_is_full(entry) or entry is None for entry in key):
        return _set_all(array, value)
    if any(_is_advanced(entry) for entry in key):
        indices, result_shape = _advanced_indices(shape, key)
        value_nd = _prepare_value(array, value, result_shape)
        _internal._scatter_set_nd(array, value_nd, _index_nd(indices, array), shape=shape, out=array)
        return None
    begin, end, step, sliced_shape, value_shape = [], [], [], [], []
    axis = 0
    for entry in key:
        if entry is None:
            continue
        dim = shape[axis]
        if _is_int(entry):
            index = _normalize(entry, dim, axis)
            begin.append(index), end.append(index + 1), step.append(1)
            sliced_shape.append(1)
        else:
            begin.append(entry.start), end.append(entry.stop), step.append(entry.step)
            length = len(range(*entry.indices(dim)))
            sliced_shape.append(length)
            value_shape.append(length)
        axis += 1
    sliced_shape.extend(shape[axis:])
    value_shape.extend(shape[axis:])
    bounds = dict(begin=tuple(begin), end=tuple(end), step=tuple(step))
    if isinstance(value, numeric_types):
        _internal._slice_assign_scalar(array, scalar=float(value), out=array, **bounds)
        return None
    value_nd = _prepare_value(array, value, tuple(value_shape) or (1,))
    if value_nd.shape != tuple(sliced_shape):
        value_nd = value_nd.reshape(tuple(sliced_shape))
    _internal._slice_assign(array, value_nd, out=array, **bounds)
    return None
