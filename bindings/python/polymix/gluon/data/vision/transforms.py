"""Image transforms (MXNet 1.x's mx.gluon.data.vision.transforms), applied to HWC images (or NHWC batches).

ToTensor, Normalize and Cast are HybridBlocks made of operators, so they also run inside hybridized graphs.
Polymix has no image operators yet (MXNet's mx.nd.image), so the geometric and colour transforms (resizing,
cropping, flips, colour jitter) compute in NumPy on the host and return NDArrays of the input's dtype; they run
in data loading, where MXNet also runs them on the CPU. Randomness comes from Python's `random` module, as in
MXNet's image augmenters.
"""

import math
import random

import numpy as np

from .... import ndarray as nd
from ....base import numeric_types
from ...block import Block, HybridBlock
from ...nn import HybridSequential, Sequential

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomResizedCrop",
           "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomBrightness", "RandomContrast", "RandomSaturation",
           "RandomHue", "RandomColorJitter", "RandomLighting"]


class Compose(Sequential):
    """Applies transforms one after the other; consecutive HybridBlocks run as one HybridSequential."""

    def __init__(self, transforms):
        super().__init__()
        transforms = list(transforms) + [None]
        hybrid = []
        for transform in transforms:
            if isinstance(transform, HybridBlock):
                hybrid.append(transform)
                continue
            if len(hybrid) == 1:
                self.add(hybrid[0])
            elif len(hybrid) > 1:
                group = HybridSequential()
                for block in hybrid:
                    group.add(block)
                self.add(group)
            hybrid = []
            if transform is not None:
                self.add(transform if isinstance(transform, Block) else _Callable(transform))


class _Callable(Block):
    """A plain function used as a transform."""

    def __init__(self, function):
        super().__init__()
        self._function = function

    def forward(self, *args):
        return self._function(*args)


class Cast(HybridBlock):
    """Converts to `dtype` (default float32)."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, dtype=self._dtype)


class ToTensor(HybridBlock):
    """An HWC image (or NHWC batch) with values in [0, 255] -> CHW (NCHW) float32 with values in [0, 1)."""

    def hybrid_forward(self, F, x):
        axes = (0, 3, 1, 2) if F is nd and x.ndim == 4 else (2, 0, 1)
        return F.transpose(F.cast(x, dtype="float32"), axes=axes) / 255.0


class Normalize(HybridBlock):
    """(x - mean) / std per channel of a CHW image or NCHW batch; mean and std are numbers or one per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean = mean
        self._std = std

    def hybrid_forward(self, F, x):
        if isinstance(self._mean, numeric_types) and isinstance(self._std, numeric_types):
            return (x - float(self._mean)) / float(self._std)
        channels = len(self._mean) if not isinstance(self._mean, numeric_types) else len(self._std)
        mean = np.broadcast_to(np.asarray(self._mean, dtype=np.float32), (channels,)).reshape(channels, 1, 1)
        std = np.broadcast_to(np.asarray(self._std, dtype=np.float32), (channels,)).reshape(channels, 1, 1)
        if F is nd:
            mean = nd.array(mean, ctx=x.context)
            std = nd.array(std, ctx=x.context)
        else:
            raise NotImplementedError("Normalize with per-channel mean/std cannot be hybridized yet")
        return F.broadcast_div(F.broadcast_sub(x, mean), std)


# ---- Host-side image helpers ------------------------------------------------------------------------------

def _to_numpy(image):
    return image.asnumpy() if isinstance(image, nd.NDArray) else np.asarray(image)


def _like(result, source):
    """`result` (float NumPy) as an NDArray of the source's dtype (integers rounded and saturated)."""
    dtype = source.dtype if isinstance(source, (nd.NDArray, np.ndarray)) else np.float32
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        result = np.clip(np.rint(result), info.min, info.max)
    return nd.array(result.astype(dtype), dtype=dtype)


def _resize(image, width, height, interpolation=1):
    """An HWC (or NHWC) NumPy image resized to width x height: nearest (interpolation=0) or bilinear with
    pixel-centre alignment (OpenCV's convention, which MXNet's resize follows)."""
    batch = image.ndim == 4
    source = image if batch else image[None]
    in_height, in_width = source.shape[1:3]
    if (in_height, in_width) == (height, width):
        return image.astype(np.float32)
    ys = (np.arange(height) + 0.5) * (in_height / height) - 0.5
    xs = (np.arange(width) + 0.5) * (in_width / width) - 0.5
    if interpolation == 0:
        rows = np.clip(np.floor((np.arange(height) + 0.5) * in_height / height), 0, in_height - 1).astype(int)
        cols = np.clip(np.floor((np.arange(width) + 0.5) * in_width / width), 0, in_width - 1).astype(int)
        out = source[:, rows][:, :, cols].astype(np.float32)
    else:
        ys = np.clip(ys, 0, in_height - 1)
        xs = np.clip(xs, 0, in_width - 1)
        y0 = np.floor(ys).astype(int)
        x0 = np.floor(xs).astype(int)
        y1 = np.minimum(y0 + 1, in_height - 1)
        x1 = np.minimum(x0 + 1, in_width - 1)
        wy = (ys - y0)[None, :, None, None]
        wx = (xs - x0)[None, None, :, None]
        data = source.astype(np.float32)
        top = data[:, y0][:, :, x0] * (1 - wx) + data[:, y0][:, :, x1] * wx
        bottom = data[:, y1][:, :, x0] * (1 - wx) + data[:, y1][:, :, x1] * wx
        out = top * (1 - wy) + bottom * wy
    return out if batch else out[0]


def _size_pair(size):
    """(width, height) of an int or a (width, height) pair."""
    return (size, size) if isinstance(size, numeric_types) else tuple(size)


def _fixed_crop(image, x0, y0, width, height, size=None, interpolation=1):
    """The (x0, y0, width, height) window of an HWC NumPy image, resized to size=(w, h) if given."""
    out = image[y0:y0 + height, x0:x0 + width].astype(np.float32)
    if size is not None and (width, height) != tuple(size):
        out = _resize(out, size[0], size[1], interpolation)
    return out


def _center_crop(image, size, interpolation=1):
    """The central window of aspect ratio size=(w, h), as large as fits, resized to size (MXNet's center_crop)."""
    height, width = image.shape[:2]
    crop_width, crop_height = size
    if crop_height > height:
        crop_width, crop_height = crop_width * height / crop_height, height
    if crop_width > width:
        crop_width, crop_height = width, crop_height * width / crop_width
    crop_width, crop_height = int(crop_width), int(crop_height)
    x0 = int((width - crop_width) / 2)
    y0 = int((height - crop_height) / 2)
    return _fixed_crop(image, x0, y0, crop_width, crop_height, size, interpolation)


class Resize(Block):
    """Resizes to size=(width, height) (an int: square, or with keep_ratio the shorter side becomes size);
    interpolation 0: nearest, 1: bilinear."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._size = size
        self._keep_ratio = keep_ratio
        self._interpolation = interpolation

    def forward(self, x):
        image = _to_numpy(x)
        height, width = image.shape[-3:-1]
        if isinstance(self._size, numeric_types):
            if self._keep_ratio:
                if height > width:
                    size = (self._size, int(height * self._size / width))
                else:
                    size = (int(width * self._size / height), self._size)
            else:
                size = (self._size, self._size)
        else:
            size = tuple(self._size)
        return _like(_resize(image, size[0], size[1], self._interpolation), x)


class CenterCrop(Block):
    """Crops the centre to size=(width, height) (an int: square), scaling down when the image is smaller."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._size = _size_pair(size)
        self._interpolation = interpolation

    def forward(self, x):
        return _like(_center_crop(_to_numpy(x), self._size, self._interpolation), x)


class RandomResizedCrop(Block):
    """Crops a random window covering a `scale` fraction of the area with aspect ratio in `ratio`, resized to
    `size` (Inception-style augmentation); falls back to a centre crop after 10 failed draws."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._size = _size_pair(size)
        self._scale = scale
        self._ratio = ratio
        self._interpolation = interpolation

    def forward(self, x):
        image = _to_numpy(x)
        height, width = image.shape[:2]
        area = height * width
        log_ratio = (math.log(self._ratio[0]), math.log(self._ratio[1]))
        for _ in range(10):
            target_area = random.uniform(self._scale[0], self._scale[1]) * area
            aspect = math.exp(random.uniform(*log_ratio))
            crop_width = int(round(math.sqrt(target_area * aspect)))
            crop_height = int(round(math.sqrt(target_area / aspect)))
            if crop_width <= width and crop_height <= height:
                x0 = random.randint(0, width - crop_width)
                y0 = random.randint(0, height - crop_height)
                return _like(_fixed_crop(image, x0, y0, crop_width, crop_height, self._size, self._interpolation), x)
        return _like(_center_crop(image, self._size, self._interpolation), x)


class RandomFlipLeftRight(Block):
    """Mirrors the image horizontally with probability 1/2."""

    def forward(self, x):
        return nd.flip(x, axis=1) if random.random() < 0.5 else x


class RandomFlipTopBottom(Block):
    """Flips the image vertically with probability 1/2."""

    def forward(self, x):
        return nd.flip(x, axis=0) if random.random() < 0.5 else x


_GRAY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _gray(image):
    """Per-pixel luminance (HW1) of an HWC image (the image itself when it has one channel)."""
    if image.shape[-1] == 1:
        return image
    return (image * _GRAY).sum(axis=-1, keepdims=True)


def _brightness(image, alpha):
    return image * alpha


def _contrast(image, alpha):
    return image * alpha + _gray(image).mean() * (1 - alpha)


def _saturation(image, alpha):
    return image * alpha + _gray(image) * (1 - alpha)


def _hue(image, alpha):
    """Rotates the hue by alpha * 180 degrees in YIQ space (MXNet's HueJitterAug); grey images are unchanged."""
    if image.shape[-1] != 3:
        return image
    u, w = math.cos(alpha * math.pi), math.sin(alpha * math.pi)
    rotation = np.array([[1.0, 0.0, 0.0], [0.0, u, -w], [0.0, w, u]])
    to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
    from_yiq = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
    transform = from_yiq @ rotation @ to_yiq
    return image @ transform.T.astype(np.float32)


class _RandomColor(Block):
    """A colour change with a factor drawn uniformly per call."""

    _apply = None

    def __init__(self, amount):
        super().__init__()
        self._amount = amount

    def _factor(self):
        return 1.0 + random.uniform(-self._amount, self._amount)

    def forward(self, x):
        return _like(type(self)._apply(_to_numpy(x).astype(np.float32), self._factor()), x)


class RandomBrightness(_RandomColor):
    """Multiplies by 1 + U(-brightness, brightness)."""

    _apply = staticmethod(_brightness)


class RandomContrast(_RandomColor):
    """Blends with the mean grey level: factor 1 + U(-contrast, contrast)."""

    _apply = staticmethod(_contrast)


class RandomSaturation(_RandomColor):
    """Blends with the per-pixel grey image: factor 1 + U(-saturation, saturation)."""

    _apply = staticmethod(_saturation)


class RandomHue(_RandomColor):
    """Rotates the hue by U(-hue, hue) * 180 degrees."""

    _apply = staticmethod(_hue)

    def _factor(self):
        return random.uniform(-self._amount, self._amount)


class RandomColorJitter(Block):
    """Brightness, contrast, saturation and hue changes (those with a non-zero amount) in random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._changes = [change(amount) for amount, change in (
            (brightness, RandomBrightness), (contrast, RandomContrast), (saturation, RandomSaturation),
            (hue, RandomHue)) if amount > 0]

    def forward(self, x):
        image = _to_numpy(x).astype(np.float32)
        for change in random.sample(self._changes, len(self._changes)):
            image = type(change)._apply(image, change._factor())
        return _like(image, x)


class RandomLighting(Block):
    """AlexNet-style PCA lighting noise with standard deviation alpha (RGB images)."""

    _EIGVAL = np.array([55.46, 4.794, 1.148])
    _EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])

    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def forward(self, x):
        alpha = np.array([random.gauss(0, self._alpha) for _ in range(3)])
        shift = self._EIGVEC @ (alpha * self._EIGVAL)
        return _like(_to_numpy(x).astype(np.float32) + shift.astype(np.float32), x)
