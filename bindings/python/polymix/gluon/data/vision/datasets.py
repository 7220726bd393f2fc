"""MNIST and Fashion-MNIST (MXNet 1.x's mx.gluon.data.vision.MNIST / FashionMNIST) read from IDX files.

Samples are (image, label): the image an NDArray of shape (28, 28, 1) and dtype uint8, the label a NumPy int32,
as in MXNet. The files are found in `root` under their usual names, gzip-compressed or not. When they are missing
they are downloaded from MXNet's mirror (where the network allows); FashionMNIST's default root falls back to
Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist), which needs no download.
"""

import gzip
import os
import struct

import numpy as np

from .... import ndarray as nd
from ...utils import check_sha1, download
from ..dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "DEBIAN_FASHION_MNIST"]

# Where Debian's dataset-fashion-mnist package installs the four IDX files.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

_MIRROR = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/dataset/"


def _data_dir():
    """MXNet's data folder: $MXNET_HOME, else ~/.mxnet."""
    return os.environ.get("MXNET_HOME", os.path.join(os.path.expanduser("~"), ".mxnet"))


def _read_idx(path, header_format):
    """(header fields, payload bytes) of an IDX file, gzip-compressed or not."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        header = struct.unpack(header_format, stream.read(struct.calcsize(header_format)))
        return header, stream.read()


class _DownloadedDataset(Dataset):
    """A dataset held in memory: data (an NDArray) and labels (NumPy), with an optional transform(data, label)."""

    def __init__(self, root, transform):
        super().__init__()
        self._transform = transform
        self._data = None
        self._label = None
        self._root = os.path.expanduser(root)
        self._get_data()

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


class MNIST(_DownloadedDataset):
    """The MNIST digits: 60,000 training (train=True) or 10,000 test images of 28x28 pixels, labels 0-9.

    root: the folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-... (default:
    $MXNET_HOME/datasets/mnist); transform: a function (data, label) -> (data, label) applied to each sample."""

    _namespace = "mnist"
    _train_data = ("train-images-idx3-ubyte.gz", "6c95f4b05d2bf285e1bfb0e7960c31bd3b3f8a7d")
    _train_label = ("train-labels-idx1-ubyte.gz", "2a80914081dc54586dbdf242f9805a6b8d2a15fc")
    _test_data = ("t10k-images-idx3-ubyte.gz", "c3a25af1f52dad7f726cce8cacb138654b760d48")
    _test_label = ("t10k-labels-idx1-ubyte.gz", "763e7fa3757d93b0cdec073cef058b2004252c17")

    def __init__(self, root=None, train=True, transform=None):
        self._train = train
        super().__init__(root if root is not None else self._default_root(), transform)

    @classmethod
    def _default_root(cls):
        return os.path.join(_data_dir(), "datasets", cls._namespace)

    def _find(self, name, sha1_hash):
        """The path of file `name` (or its uncompressed twin) in root, downloading it if neither is there."""
        for candidate in (name, name[:-3]):
            path = os.path.join(self._root, candidate)
            if os.path.isfile(path):
                return path
        path = os.path.join(self._root, name)
        try:
            os.makedirs(self._root, exist_ok=True)
            download(_MIRROR + self._namespace + "/" + name, path=path, sha1_hash=sha1_hash, retries=1)
        except OSError as error:
            raise FileNotFoundError("%s: %s is not in %s and could not be downloaded (%s)"
                                    % (type(self).__name__, name, self._root, error)) from None
        if not check_sha1(path, sha1_hash):
            raise ValueError("%s: %s does not have the expected SHA-1" % (type(self).__name__, path))
        return path

    def _get_data(self):
        data_file, label_file = ((self._train_data, self._train_label) if self._train
                                 else (self._test_data, self._test_label))
        (magic, count), labels = _read_idx(self._find(*label_file), ">II")
        if magic != 2049:
            raise ValueError("%s: %s is not an IDX label file (magic %d, expected 2049)"
                             % (type(self).__name__, label_file[0], magic))
        label = np.frombuffer(labels, dtype=np.uint8).astype(np.int32)
        (magic, count, rows, cols), pixels = _read_idx(self._find(*data_file), ">IIII")
        if magic != 2051 or count != len(label):
            raise ValueError("%s: %s is not an IDX image file matching %d labels (magic %d, %d images)"
                             % (type(self).__name__, data_file[0], len(label), magic, count))
        data = np.frombuffer(pixels, dtype=np.uint8).reshape(count, rows, cols, 1)
        self._data = nd.array(data, dtype=data.dtype)
        self._label = label


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's 28x28 clothing images in 10 classes, in MNIST's format (60,000 training and
    10,000 test images). The default root is $MXNET_HOME/datasets/fashion-mnist when it holds the files, else
    Debian's /usr/share/datasets/fashion-mnist when present."""

    _namespace = "fashion-mnist"
    _train_data = ("train-images-idx3-ubyte.gz", "0cf37b0d40ed5169c6b3aba31069a9770ac9043d")
    _train_label = ("train-labels-idx1-ubyte.gz", "236021d52f1e40852b06a4c3008d8de8aef1e40b")
    _test_data = ("t10k-images-idx3-ubyte.gz", "626ed6a7c06dd17c0eec72fa3be1740f146a2863")
    _test_label = ("t10k-labels-idx1-ubyte.gz", "17f9ab60e7257a1620f4ad76bbbaf857c3920701")

    @classmethod
    def _default_root(cls):
        root = super()._default_root()
        has_files = os.path.isfile(os.path.join(root, cls._train_data[0])) or os.path.isfile(
            os.path.join(root, cls._train_data[0][:-3]))
        if not has_files and os.path.isdir(DEBIAN_FASHION_MNIST):
            return DEBIAN_FASHION_MNIST
        return root
