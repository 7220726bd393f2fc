"""Datasets (MXNet 1.x's mx.gluon.data.dataset): indexable collections of samples, with lazy transforms."""

from ... import ndarray

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """The base of datasets: __getitem__ and __len__, plus MXNet's helpers to derive datasets."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn):
        """A dataset of the samples for which fn(sample) is true."""
        from .sampler import FilterSampler  # pylint: disable=import-outside-toplevel
        return _SampledDataset(self, FilterSampler(fn, self))

    def shard(self, num_shards, index):
        """Part `index` of `num_shards` contiguous parts (the first len % num_shards parts get one more)."""
        if not 0 <= index < num_shards:
            raise ValueError("Shard index of out bound: %d out of %d" % (index, num_shards))
        length = len(self)
        shard_len = length // num_shards
        rest = length % num_shards
        start = shard_len * index + min(index, rest)
        end = start + shard_len + (index < rest)
        return _SampledDataset(self, range(start, end))

    def take(self, count):
        """The first `count` samples (all of them for None)."""
        if count is None or count > len(self):
            count = len(self)
        return _SampledDataset(self, range(count))

    def sample(self, sampler):
        """The samples at the indices `sampler` gives."""
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """A dataset of fn(*sample) (fn(sample) for non-tuple samples), computed on access when lazy."""
        trans = _LazyTransformDataset(self, fn)
        return trans if lazy else SimpleDataset([item for item in trans])

    def transform_first(self, fn, lazy=True):
        """Like transform, applied to the first element of each sample only (the data, not the label)."""
        return self.transform(_TransformFirstClosure(fn), lazy)


class SimpleDataset(Dataset):
    """A dataset over any indexable with a length (a list, a NumPy array, an NDArray)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirstClosure:
    """fn applied to the first element (a class, not a closure, so that it pickles for worker processes)."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class _SampledDataset(Dataset):
    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._indices = list(sampler)

    def __len__(self):
        return len(self._indices)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]


class ArrayDataset(Dataset):
    """Samples made of the i-th element of each of several arrays of the same length (data, label, ...); a
    one-array dataset returns the elements themselves. 1-D NDArrays are read as NumPy arrays, as MXNet does."""

    def __init__(self, *args):
        if not args:
            raise ValueError("Needs at least 1 arrays")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError("All arrays must have the same length; array[0] has length %d while array[%d] has "
                                 "%d." % (self._length, i, len(data)))
            if isinstance(data, ndarray.NDArray) and len(data.shape) == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length
