"""mx.init / mx.initializer: weight initializers (MXNet 1.9.1's classes and name-based dispatch).

`init(InitDesc(name, attrs), array)` picks the rule as MXNet does: a non-empty `__init__` attribute (an
initializer, its name or its JSON, set by a variable's init= or a Gluon Parameter) fills the array with that
initializer's weight rule; otherwise the name's ending decides (weight -> _init_weight, bias/beta -> 0,
gamma -> 1, min -> 0, max -> 1); other names are a ValueError. The dispatch and the _init_* methods are Python
so custom initializers can override them; the weight rules of Uniform, Normal, Xavier, MSRAPrelu and
Orthogonal run in core/optim (random draws through the core's generator, so mx.random.seed governs them).
"""

import json
import logging
import re
import warnings

import numpy as np

from . import _core, registry
from .base import _param_str, string_types
from .ndarray import NDArray
from .ndarray import utils as _nd_utils

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero", "One", "Constant",
           "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "LSTMBias"]


class InitDesc(str):
    """The name of a parameter being initialized (a str), with its variable attributes (`attrs`, e.g.
    {'__init__': ...}) and the global initializer to fall back to (`global_init`)."""

    def __new__(cls, name, attrs=None, global_init=None):
        desc = super().__new__(cls, name)
        desc.attrs = attrs or {}
        desc.global_init = global_init
        return desc


class Initializer:
    """The base of every initializer; subclasses implement _init_weight(name, arr) and may override the
    other _init_* rules. The constructor's keyword arguments are what dumps() writes."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Logs each initialized array with print_func(arr) (default: its norm / sqrt(size))."""
        self._verbose = verbose
        if print_func is None:
            def asum_stat(x):
                return str((x.norm() / np.sqrt(x.size)).asscalar())
            print_func = asum_stat
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """The JSON form MXNet stores in a variable's __init__ attribute: '["name", {kwargs}]'."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __call__(self, desc, arr):
        """Initializes `arr` for the parameter `desc` (an InitDesc; a plain name takes MXNet's legacy path)."""
        if not isinstance(desc, InitDesc):
            self._legacy_init(desc, arr)
            return
        if desc.global_init is None:
            desc.global_init = self
        init = desc.attrs.get("__init__", "")
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
            return
        for ending, rule in (("weight", self._init_weight), ("bias", self._init_bias), ("gamma", self._init_gamma),
                             ("beta", self._init_beta), ("min", self._init_zero), ("max", self._init_one)):
            if desc.endswith(ending):
                rule(desc, arr)
                self._verbose_print(desc, ending, arr)
                return
        self._init_default(desc, arr)

    def _legacy_init(self, name, arr):
        """MXNet's old init(str, NDArray) dispatch, with BatchNorm's moving statistics."""
        warnings.warn("Calling initializer with init(str, NDArray) has been deprecated. please use "
                      "init(mx.init.InitDesc(...), NDArray) instead.", DeprecationWarning, stacklevel=3)
        if not isinstance(name, string_types):
            raise TypeError("name must be string")
        if not isinstance(arr, NDArray):
            raise TypeError("arr must be NDArray")
        rules = (("bias", self._init_bias), ("gamma", self._init_gamma), ("beta", self._init_beta),
                 ("weight", self._init_weight), ("moving_mean", self._init_zero), ("moving_var", self._init_one),
                 ("moving_inv_var", self._init_zero), ("moving_avg", self._init_zero), ("min", self._init_zero),
                 ("max", self._init_one))
        for ending, rule in rules:
            if name.endswith(ending):
                rule(name, arr)
                return
        self._init_default(name, arr)

    def _init_zero(self, _, arr):
        arr[:] = 0.0

    def _init_one(self, _, arr):
        arr[:] = 1.0

    def _init_bias(self, _, arr):
        arr[:] = 0.0

    def _init_gamma(self, _, arr):
        arr[:] = 1.0

    def _init_beta(self, _, arr):
        arr[:] = 0.0

    def _init_weight(self, name, arr):
        """The weight rule; subclasses implement it."""
        raise NotImplementedError("Must override it")

    def _init_default(self, name, _):
        raise ValueError("Unknown initialization pattern for %s. Default initialization is now limited to "
                         "\"weight\", \"bias\", \"gamma\" (1.0), and \"beta\" (0.0). Please use "
                         "mx.sym.Variable(init=mx.init.*) to set initialization pattern" % name)

    def __eq__(self, other):
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._kwargs == other._kwargs

    __hash__ = object.__hash__


_register = registry.get_register_func(Initializer, "initializer")
alias = registry.get_alias_func(Initializer, "initializer")
create = registry.get_create_func(Initializer, "initializer")


def register(klass):
    """Registers a custom initializer class so that create('name') (and __init__ attributes) find it."""
    return _register(klass)


class _CoreInitializer(Initializer):
    """An initializer whose weight rule is core/optim's initializer `_core_name`, given the current values of
    the attributes `_core_args` (so changing init.scale after construction counts, as in MXNet)."""

    _core_name = None
    _core_args = ()

    def _init_weight(self, name, arr):
        kwargs = {key: _param_str(getattr(self, key)) for key in self._core_args}
        _core.create_initializer(self._core_name, kwargs).init_weight(str(name), arr.handle)


@register
@alias("zeros")
class Zero(Initializer):
    """Fills weights with 0."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = 0


@register
@alias("ones")
class One(Initializer):
    """Fills weights with 1."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = 1


@register
class Constant(Initializer):
    """Fills weights with `value`: a number, or an array broadcast to the weight's shape."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        arr[:] = self.value

    def dumps(self):
        value = self._kwargs["value"]
        if not np.isscalar(value):
            self._kwargs["value"] = value.tolist() if isinstance(value, np.ndarray) else value.asnumpy().tolist()
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])


@register
class Uniform(_CoreInitializer):
    """Uniform draws in [-scale, scale)."""

    _core_name = "uniform"
    _core_args = ("scale",)

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale


@register
class Normal(_CoreInitializer):
    """Normal draws with mean 0 and standard deviation sigma."""

    _core_name = "normal"
    _core_args = ("sigma",)

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma


@register
class Orthogonal(_CoreInitializer):
    """A scale * orthonormal matrix (rows, or columns for tall shapes) of shape (shape[0], prod(shape[1:])),
    from uniform ('uniform') or normal ('normal') draws (Saxe et al., 2013)."""

    _core_name = "orthogonal"
    _core_args = ("scale", "rand_type")

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type


@register
class Xavier(_CoreInitializer):
    """Xavier/Glorot: uniform in [-c, c] ('uniform') or normal with deviation c ('gaussian'), c =
    sqrt(magnitude / factor), factor the average of fan_in and fan_out ('avg'), fan_in ('in') or fan_out
    ('out'). Needs at least 2 dimensions."""

    _core_name = "xavier"
    _core_args = ("rnd_type", "factor_type", "magnitude")

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)


@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization for PReLU: Xavier with gaussian draws and magnitude 2 / (1 + slope**2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class LSTMBias(Initializer):
    """LSTM biases: 0 except the forget gate's quarter, set to forget_bias."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        arr[:] = 0.0
        num_hidden = int(arr.shape[0] / 4)
        arr[num_hidden:2 * num_hidden] = self.forget_bias


class Load:
    """Initializes from saved arrays (a .params file name or a dict; 'arg:'/'aux:' prefixes dropped), falling
    back to `default_init` for names not found."""

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            param = _nd_utils.load(param)
        if not isinstance(param, dict):
            raise TypeError("param must be a file name or a dict of name -> NDArray")
        self.param = {}
        for name, arr in param.items():
            self.param[name[4:] if name.startswith(("arg:", "aux:")) else name] = arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            if arr.shape != self.param[name].shape:
                raise ValueError("Parameter %s cannot be initialized from loading. Shape mismatch, target %s vs "
                                 "loaded %s" % (name, arr.shape, self.param[name].shape))
            arr[:] = self.param[name]
            if self.verbose:
                logging.info("Initialized %s by loading", name)
        else:
            if self.default_init is None:
                raise ValueError("Cannot Initialize %s. Not found in loaded param and no default Initializer is "
                                 "provided." % name)
            self.default_init(name, arr)
            if self.verbose:
                logging.info("Initialized %s by default", name)


class Mixed:
    """Picks an initializer per parameter: the first of `patterns` (regular expressions matched at the start
    of the name) that matches decides."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise ValueError("Mixed: %d patterns but %d initializers" % (len(patterns), len(initializers)))
        self.map = list(zip([re.compile(pattern) for pattern in patterns], initializers))

    def __call__(self, name, arr):
        for pattern, init in self.map:
            if pattern.match(name):
                init(name, arr)
                return
        raise ValueError("Parameter name %s did not match any pattern. Consider add a \".*\" pattern at the and "
                         "with default Initializer." % name)
