"""Gluon's helpers (MXNet's mx.gluon.utils): splitting a batch across devices, clipping gradients by their global
norm, file checks and downloads, and the small formatting helpers the rest of gluon shares."""

import hashlib
import os
import warnings
import weakref

import numpy as np

from .. import ndarray

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download", "HookHandle"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Splits `data` into `num_slice` slices along `batch_axis` (the last slice takes the remainder when
    even_split=False); ValueError when it cannot be split evenly and even_split=True."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            "data with shape %s cannot be evenly split into %d slices along axis %d. Use a batch size that's "
            "multiple of %d or set even_split=False to allow uneven partitioning of data."
            % (str(data.shape), num_slice, batch_axis, num_slice))
    if num_slice == 1:
        return [data]
    if size < num_slice:
        raise ValueError("Too many slices for data with shape %s. Arguments are num_slice=%d and batch_axis=%d."
                         % (str(data.shape), num_slice, batch_axis))
    step = size // num_slice
    bounds = [(i * step, (i + 1) * step if i < num_slice - 1 else size) for i in range(num_slice)]
    if batch_axis == 0:
        return [data[begin:end] for begin, end in bounds]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=begin, end=end) for begin, end in bounds]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Splits `data` (an NDArray or NumPy array) along `batch_axis` and loads slice i onto ctx_list[i]."""
    if isinstance(data, np.ndarray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [piece.as_in_context(ctx) for piece, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescales `arrays` in place so that the 2-norm of all of them together is at most `max_norm`; returns the
    norm before clipping (a float, or an NDArray when check_isfinite=False, which avoids a wait)."""
    if not arrays:
        raise ValueError("clip_global_norm needs at least one array")
    ctx = arrays[0].context
    squares = [ndarray.dot(flat, flat) for flat in (array.reshape((-1,)) for array in arrays)]
    total_norm = ndarray.sqrt(ndarray.add_n(*[square.as_in_context(ctx) for square in squares]))
    if check_isfinite and not np.isfinite(total_norm.asscalar()):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."), stacklevel=2)
    scale = max_norm / (total_norm + 1e-8)
    scale = ndarray.min(ndarray.concat(scale, ndarray.ones((1,), ctx=ctx), dim=0))
    for array in arrays:
        array *= scale.as_in_context(array.context)
    return total_norm.asscalar() if check_isfinite else total_norm


def check_sha1(filename, sha1_hash):
    """Whether the SHA-1 of the file's content is `sha1_hash` (hex digits)."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            sha1.update(chunk)
    return sha1.hexdigest() == sha1_hash


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True, timeout=60):
    """Downloads `url` to `path` (a file or a folder; default: the URL's file name here) unless a file with the
    right SHA-1 is already there; returns the file name. `timeout` (seconds) bounds each attempt's waits."""
    import urllib.request  # pylint: disable=import-outside-toplevel
    if path is None:
        fname = url.split("/")[-1]
    else:
        path = os.path.expanduser(path)
        fname = os.path.join(path, url.split("/")[-1]) if os.path.isdir(path) else path
    if not overwrite and os.path.exists(fname) and (sha1_hash is None or check_sha1(fname, sha1_hash)):
        return fname
    folder = os.path.dirname(os.path.abspath(fname))
    os.makedirs(folder, exist_ok=True)
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(fname + ".part", "wb") as stream:
                stream.write(response.read())
            os.replace(fname + ".part", fname)
            if sha1_hash and not check_sha1(fname, sha1_hash):
                raise UserWarning("File {} is downloaded but the content hash does not match. The repo may be "
                                  "outdated or download may be incomplete.".format(fname))
            return fname
        except OSError:
            if attempt == retries:
                raise
    return fname


class HookHandle:
    """A registered forward hook; detach() (or leaving a `with` block) removes it."""

    def __init__(self):
        self._hooks_dict_ref = None
        self._id = None

    def attach(self, hooks_dict, hook):
        """Adds `hook` to `hooks_dict`."""
        if self._hooks_dict_ref is not None:
            raise RuntimeError("The same handle cannot be attached twice.")
        self._id = id(hook)
        hooks_dict[self._id] = hook
        self._hooks_dict_ref = weakref.ref(hooks_dict)

    def detach(self):
        """Removes the hook."""
        hooks_dict = self._hooks_dict_ref() if self._hooks_dict_ref is not None else None
        if hooks_dict is not None and self._id in hooks_dict:
            del hooks_dict[self._id]

    def __enter__(self):
        return self

    def __exit__(self, ptype, value, trace):
        self.detach()


def _indent(text, num_spaces):
    """Indents every line of `text` but the first by `num_spaces` (nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join(lines[:1] + [" " * num_spaces + line for line in lines[1:]])


def _brief_print_list(items, limit=7):
    """'a', 'b', ..., 'z': at most `limit` quoted items, for error messages."""
    items = list(items)
    if len(items) > limit:
        return _brief_print_list(items[:limit // 2], limit) + ", ..., " + _brief_print_list(items[-limit // 2:], limit)
    return ", ".join("'%s'" % str(item) for item in items)
