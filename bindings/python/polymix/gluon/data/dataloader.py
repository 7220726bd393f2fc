"""DataLoader (MXNet 1.x's mx.gluon.data.DataLoader): batches of a Dataset, in order or shuffled, loaded on the
calling thread, on worker threads (thread_pool=True) or in worker processes.

Note [Worker processes start fresh]
The core's engine runs operations on its own threads, and threads do not survive fork(): a forked child that
touched an NDArray would wait forever for them. Worker processes are therefore started with multiprocessing's
'spawn' method; each imports polymix anew and receives the dataset once (NDArrays pickle through MXNet's .params
format). As with any spawned worker, the dataset, its transforms and batchify_fn must be picklable (module-level
functions, not lambdas), and the main script needs the usual `if __name__ == '__main__':` guard. Batches come back
pickled, so the parent receives ordinary NDArrays.
"""

import multiprocessing
import pickle
from multiprocessing.pool import ThreadPool

import numpy as np

from ... import ndarray as nd
from ...context import cpu
from . import sampler as _sampler

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]


def default_batchify_fn(data):
    """Stacks samples into a batch: NDArrays with stack, tuples element by element, numbers and NumPy arrays
    through NumPy (keeping their dtype)."""
    if isinstance(data[0], nd.NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(items)) for items in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype)


default_mp_batchify_fn = default_batchify_fn

_worker_dataset = None


def _worker_initializer(dataset):
    """Keeps the dataset in a worker process (sent once, when the pool starts)."""
    global _worker_dataset  # pylint: disable=global-statement
    _worker_dataset = dataset


def _worker_fn(samples, batchify_fn):
    """One batch made in a worker process, pickled for the trip back."""
    batch = batchify_fn([_worker_dataset[i] for i in samples])
    return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


def _thread_worker_fn(samples, batchify_fn, dataset):
    """One batch made on a worker thread."""
    return batchify_fn([dataset[i] for i in samples])


def _as_in_context(data, ctx):
    if isinstance(data, nd.NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return [_as_in_context(item, ctx) for item in data]
    return data


class _MultiWorkerIter:
    """Iterates batches computed by a pool, keeping `prefetch` of them in flight and yielding them in order."""

    def __init__(self, worker_pool, batchify_fn, batch_sampler, pin_memory, pin_device_id, prefetch, dataset,
                 timeout):
        self._pool = worker_pool
        self._batchify_fn = batchify_fn
        self._batch_iter = iter(batch_sampler)
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._dataset = dataset
        self._timeout = timeout
        self._data_buffer = {}
        self._rcvd_idx = 0
        self._sent_idx = 0
        for _ in range(prefetch):
            self._push_next()

    def _push_next(self):
        indices = next(self._batch_iter, None)
        if indices is None:
            return
        if self._dataset is None:
            result = self._pool.apply_async(_worker_fn, (indices, self._batchify_fn))
        else:
            result = self._pool.apply_async(_thread_worker_fn, (indices, self._batchify_fn, self._dataset))
        self._data_buffer[self._sent_idx] = result
        self._sent_idx += 1

    def __next__(self):
        self._push_next()
        if self._rcvd_idx == self._sent_idx:
            if self._data_buffer:
                raise RuntimeError("Data buffer should be empty at this moment")
            raise StopIteration
        result = self._data_buffer.pop(self._rcvd_idx)
        try:
            batch = result.get(self._timeout)
        except multiprocessing.TimeoutError:
            raise RuntimeError("Worker timed out after {} seconds. This might be caused by slow data loading: "
                               "increase DataLoader's timeout.".format(self._timeout)) from None
        if self._dataset is None:
            batch = pickle.loads(batch)
        if self._pin_memory:
            batch = _as_in_context(batch, cpu())
        self._rcvd_idx += 1
        return batch

    def next(self):
        """Python 2 style next()."""
        return self.__next__()

    def __iter__(self):
        return self


class DataLoader:
    """Loads batches of `dataset`.

    batch_size and shuffle (or a `sampler` of indices) make the batches, last_batch says what happens to a short
    last one ('keep', 'discard', 'rollover'), or batch_sampler gives whole batches of indices. batchify_fn turns a
    list of samples into a batch (default_batchify_fn). num_workers > 0 loads batches in parallel: in worker
    processes (Note [Worker processes start fresh]) or, with thread_pool=True, on threads; prefetch batches
    (default 2 * num_workers) are kept in flight. pin_memory is accepted (batches stay on the CPU).
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None, batch_sampler=None,
                 batchify_fn=None, num_workers=0, pin_memory=False, pin_device_id=0, prefetch=None,
                 thread_pool=False, timeout=120):
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._thread_pool = thread_pool
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = _sampler.RandomSampler(len(dataset)) if shuffle else _sampler.SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified if batch_sampler is "
                             "specified.")
        self._batch_sampler = batch_sampler
        self._num_workers = num_workers if num_workers >= 0 else 0
        self._worker_pool = None
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        if self._num_workers > 0:
            if self._thread_pool:
                self._worker_pool = ThreadPool(self._num_workers)
            else:
                context = multiprocessing.get_context("spawn")
                self._worker_pool = context.Pool(self._num_workers, initializer=_worker_initializer,
                                                 initargs=[self._dataset])
        if batchify_fn is None:
            batchify_fn = default_mp_batchify_fn if num_workers > 0 else default_batchify_fn
        self._batchify_fn = batchify_fn

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_thread_iter()
        return _MultiWorkerIter(self._worker_pool, self._batchify_fn, self._batch_sampler,
                                pin_memory=self._pin_memory, pin_device_id=self._pin_device_id,
                                prefetch=self._prefetch, dataset=self._dataset if self._thread_pool else None,
                                timeout=self._timeout)

    def _same_thread_iter(self):
        for batch in self._batch_sampler:
            ret = self._batchify_fn([self._dataset[idx] for idx in batch])
            if self._pin_memory:
                ret = _as_in_context(ret, cpu())
            yield ret

    def __len__(self):
        return len(self._batch_sampler)

    def __del__(self):
        pool = getattr(self, "_worker_pool", None)
        if pool is not None:
            pool.terminate()
            self._worker_pool = None
