"""Data iterators in Python (MXNet 1.9.1's mx.io): DataDesc, DataBatch, the DataIter protocol, NDArrayIter over
in-memory arrays and ResizeIter.

NDArrayIter's batching follows MXNet exactly, last batch included: 'pad' fills the last batch with examples
from the start (batch.pad says how many), 'discard' drops it, 'roll_over' keeps the leftover examples and
puts them first in the next epoch's first batch.
"""

from collections import OrderedDict, namedtuple

import numpy as np

from ..base import mx_real_t
from ..ndarray import NDArray
from ..ndarray import op as _op
from ..ndarray.utils import array

__all__ = ["DataDesc", "DataBatch", "DataIter", "ResizeIter", "NDArrayIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """The name and shape of an input (a namedtuple), plus its dtype and layout ('NCHW': axis 'N' is the
    batch)."""

    def __new__(cls, name, shape, dtype=mx_real_t, layout="NCHW"):
        desc = super().__new__(cls, name, shape)
        desc.dtype = dtype
        desc.layout = layout
        return desc

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The batch axis of a layout (the position of 'N'; 0 for None, -1 without one)."""
        return 0 if layout is None else layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from (name, shape) pairs and optional (name, dtype) pairs."""
        if types is None:
            return [DataDesc(name, shape) for name, shape in shapes]
        type_dict = dict(types)
        return [DataDesc(name, shape, type_dict[name]) for name, shape in shapes]


class DataBatch:
    """One batch: lists of data and label arrays, the number of padding examples at its end, and optionally
    example indices, a bucket key and the descriptions of data and label."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None, provide_data=None,
                 provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("Data must be list of NDArrays")
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("Label must be list of NDArrays")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return "{}: data shapes: {} label shapes: {}".format(type(self).__name__, data_shapes, label_shapes)


class DataIter:
    """The iterator protocol of MXNet's data iterators: next() returns a DataBatch or raises StopIteration,
    reset() starts a new epoch. Subclasses implement iter_next, getdata, getlabel, getpad (and getindex)."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Goes back to the beginning of the data."""

    def next(self):
        """The next batch; StopIteration at the end of the data."""
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(), index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Moves to the next batch; whether there is one."""

    def getdata(self):
        """The data arrays of the current batch."""

    def getlabel(self):
        """The label arrays of the current batch."""

    def getindex(self):
        """The example indices of the current batch (None when not tracked)."""
        return None

    def getpad(self):
        """The number of padding examples at the end of the current batch."""


class ResizeIter(DataIter):
    """Makes `data_iter` yield exactly `size` batches per epoch, restarting it when it runs out."""

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__()
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.batch_size = data_iter.batch_size
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


def _init_data(data, allow_empty, default_name):
    """Data as sorted (name, NDArray) pairs: one array is named `default_name`, a list of them
    '_<i>_<default_name>', a dict keeps its names; other array-likes are converted with mx.nd.array."""
    if data is None:
        if not allow_empty:
            raise ValueError("NDArrayIter needs data")
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not allow_empty and not data:
            raise ValueError("NDArrayIter needs data")
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([("_%d_%s" % (i, default_name), d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with them as values")
    converted = {}
    for name, value in data.items():
        if isinstance(value, NDArray):
            converted[name] = value
            continue
        try:
            converted[name] = array(value)
        except (TypeError, ValueError):
            raise TypeError("Invalid type '%s' for %s, should be NDArray or numpy.ndarray" % (type(value), name)) \
                from None
    return sorted(converted.items())


class NDArrayIter(DataIter):
    """Iterates over NDArrays or NumPy arrays (one, a list or a dict of them, for data and for label) in
    batches along the layout's 'N' axis; shuffle permutes the examples at each reset (NumPy's global
    generator); last_batch_handle is 'pad', 'discard' or 'roll_over'."""

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad", data_name="data",
                 label_name="softmax_label", layout="NCHW"):
        super().__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise ValueError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,))
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        self.layout = layout
        batch_axis = layout.find("N")
        self.idx = np.arange(self.data[0][1].shape[batch_axis])
        for name, value in self.data + self.label:
            if value.shape[batch_axis] != self.idx.shape[0]:
                raise ValueError("%s has %d examples along axis %d, expected %d like %s"
                                 % (name, value.shape[batch_axis], batch_axis, self.idx.shape[0], self.data[0][0]))
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.batch_size = batch_size
        self.cursor = -self.batch_size
        self.num_data = self.idx.shape[0]
        self._cache_data = None
        self._cache_label = None
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)

    def _descs(self, sources):
        batch_axis = self.layout.find("N")
        return [DataDesc(name, tuple(list(value.shape[:batch_axis]) + [self.batch_size] +
                                     list(value.shape[batch_axis + 1:])), value.dtype, layout=self.layout)
                for name, value in sources]

    @property
    def provide_data(self):
        """DataDescs of the data (batch_size along the batch axis)."""
        return self._descs(self.data)

    @property
    def provide_label(self):
        """DataDescs of the labels."""
        return self._descs(self.label)

    def hard_reset(self):
        """Starts again from the first example, dropping rolled-over examples."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        """Starts a new epoch (with roll_over, after the examples left over from the last one)."""
        if self.shuffle:
            self._shuffle_data()
        if self.last_batch_handle == "roll_over" and self.num_data - self.batch_size < self.cursor < self.num_data:
            # The leftover examples (num_data - cursor of them) come first: the cursor goes negative by that much.
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[self.layout.find("N")] != self.batch_size:
            # A short last batch (discard, roll_over): kept for roll_over's next epoch, not returned.
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _getdata(self, sources, start=None, end=None):
        """Examples [start, end) of every source along the batch axis."""
        start = 0 if start is None else start
        if end is None:
            end = sources[0][1].shape[0] if sources else 0
        axis = self.layout.find("N")
        return [_op.slice_axis(value, axis=axis, begin=start, end=end) for _, value in sources]

    def _concat(self, first, second):
        if not first or not second:
            return first if first else second
        axis = self.layout.find("N")
        return [_op.concat(a, b, dim=axis) for a, b in zip(first, second)]

    @staticmethod
    def _tile(data, repeats):
        result = []
        for datum in data:
            reps = [1] * len(datum.shape)
            reps[0] = repeats
            result.append(_op.tile(datum, reps=tuple(reps)))
        return result

    def _batchify(self, sources):
        """The current batch of `sources`, padded or completed with rolled-over examples as configured."""
        if self.cursor >= self.num_data:
            raise RuntimeError("DataIter needs reset.")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            cached = self._cache_data if self._cache_data is not None else self._cache_label
            if cached is None:
                raise RuntimeError("next epoch should have cached data")
            second = self._getdata(sources, end=self.cursor + self.batch_size)
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            return self._concat(cached, second)
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            first = self._getdata(sources, start=self.cursor)
            if pad > self.num_data:
                second = self._tile(self._getdata(sources, end=self.num_data), pad // self.num_data)
                if pad % self.num_data != 0:
                    second = self._concat(second, self._getdata(sources, end=pad % self.num_data))
            else:
                second = self._getdata(sources, end=pad)
            return self._concat(first, second)
        end = min(self.cursor + self.batch_size, self.num_data)
        return self._getdata(sources, self.cursor, end)

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        """Permutes the examples of every source by a fresh shuffle of self.idx. As in MXNet, the permuted
        copies are float32 whatever the sources' dtypes (mx.nd.array's default)."""
        np.random.shuffle(self.idx)
        self.data = [(name, array(value.asnumpy()[self.idx], value.context)) for name, value in self.data]
        self.label = [(name, array(value.asnumpy()[self.idx], value.context)) for name, value in self.label]
