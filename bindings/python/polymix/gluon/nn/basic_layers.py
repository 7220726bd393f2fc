"""Basic layers (MXNet 1.x's mx.gluon.nn.basic_layers): containers, Dense, Dropout, the normalizations,
Embedding, Flatten and the Lambda wrappers. Each hybrid_forward calls the operator MXNet's layer calls, with the
same parameters and node name ('fwd'), so traced graphs and parameter names match MXNet's."""

import warnings

import numpy as np

from ... import ndarray as nd
from ... import symbol as sym
from ..block import Block, HybridBlock
from ..utils import _indent
from .activations import Activation

__all__ = ["Sequential", "HybridSequential", "Dense", "Dropout", "Embedding", "BatchNorm", "InstanceNorm",
           "LayerNorm", "GroupNorm", "Flatten", "Lambda", "HybridLambda"]


def _sequential_repr(block):
    modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(child.__repr__(), 2))
                       for key, child in block._children.items())
    return "{name}(\n{modstr}\n)".format(name=block.__class__.__name__, modstr=modstr)


def _sequential_getitem(block, key):
    layers = list(block._children.values())[key]
    if not isinstance(layers, list):
        return layers
    net = type(block)(prefix=block._prefix)
    with net.name_scope():
        net.add(*layers)
    return net


class Sequential(Block):
    """Runs its children one after the other: `net.add(nn.Dense(10), ...)`."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Appends blocks."""
        for block in blocks:
            self.register_child(block)

    def forward(self, x):
        for block in self._children.values():
            x = block(x)
        return x

    def __repr__(self):
        return _sequential_repr(self)

    def __getitem__(self, key):
        return _sequential_getitem(self, key)

    def __len__(self):
        return len(self._children)

    def hybridize(self, active=True, **kwargs):
        """Hybridizes the HybridBlock children (a HybridSequential would run them as one graph)."""
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn("All children of this Sequential layer '%s' are HybridBlocks. Consider using "
                          "HybridSequential for the best performance." % self.prefix, stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(HybridBlock):
    """Runs its HybridBlock children one after the other; hybridized, the whole chain is one graph."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Appends blocks."""
        for block in blocks:
            self.register_child(block)

    def hybrid_forward(self, F, x):
        for block in self._children.values():
            x = block(x)
        return x

    def __repr__(self):
        return _sequential_repr(self)

    def __getitem__(self, key):
        return _sequential_getitem(self, key)

    def __len__(self):
        return len(self._children)


class Dense(HybridBlock):
    """A fully connected layer: activation(dot(x, weight.T) + bias). units: outputs; in_units: inputs (0: inferred
    at the first call); flatten=True folds all axes but the first, else the last axis is transformed."""

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer, dtype=dtype,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer, dtype=dtype,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def hybrid_forward(self, F, x, weight, bias=None):
        act = F.FullyConnected(x, weight, bias, no_bias=bias is None, num_hidden=self._units, flatten=self._flatten,
                               name="fwd")
        if self.act is not None:
            act = self.act(act)
        return act

    def __repr__(self):
        shape = self.weight.shape
        return "{name}({layout}, {act})".format(name=self.__class__.__name__,
                                                act=self.act if self.act else "linear",
                                                layout="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]))


class Dropout(HybridBlock):
    """Zeroes a fraction `rate` of the inputs in training mode (scaling the rest by 1/(1-rate)); axes: axes along
    which the mask is shared."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes, name="fwd", cudnn_off=False)
        return F.identity(x)

    def __repr__(self):
        return "{name}(p = {rate}, axes={axes})".format(name=self.__class__.__name__, rate=self._rate,
                                                         axes=self._axes)


class BatchNorm(HybridBlock):
    """Batch normalization over `axis` (the channels): batch statistics in training mode, the running averages
    (updated with `momentum`) otherwise. scale=False fixes gamma at 1; center=False leaves beta at 0."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 beta_initializer="zeros", gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats}
        if in_channels != 0:
            self.in_channels = in_channels
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null", shape=(in_channels,),
                                     init=gamma_initializer, allow_deferred_init=True, differentiable=scale)
        self.beta = self.params.get("beta", grad_req="write" if center else "null", shape=(in_channels,),
                                    init=beta_initializer, allow_deferred_init=True, differentiable=center)
        self.running_mean = self.params.get("running_mean", grad_req="null", shape=(in_channels,),
                                            init=running_mean_initializer, allow_deferred_init=True,
                                            differentiable=False)
        self.running_var = self.params.get("running_var", grad_req="null", shape=(in_channels,),
                                           init=running_variance_initializer, allow_deferred_init=True,
                                           differentiable=False)

    def cast(self, dtype):
        # MXNet keeps BatchNorm's statistics in float32 under float16.
        if np.dtype(dtype).name == "float16":
            dtype = "float32"
        super().cast(dtype)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, name="fwd", **self._kwargs)

    def __repr__(self):
        in_channels = self.gamma.shape[0]
        content = ", ".join("=".join([key, value.__repr__()]) for key, value in self._kwargs.items())
        return "{name}({content}, in_channels={channels})".format(name=self.__class__.__name__, content=content,
                                                                  channels=in_channels if in_channels else None)


class Embedding(HybridBlock):
    """Maps integer indices in [0, input_dim) to rows of a (input_dim, output_dim) weight."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        if sparse_grad:
            raise NotImplementedError("Embedding(sparse_grad=True): row_sparse gradients are not supported")
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype, "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer, dtype=dtype,
                                      allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight):
        return F.Embedding(x, weight, name="fwd", **self._kwargs)

    def __repr__(self):
        return "{block_name}({input_dim} -> {output_dim}, {dtype})".format(block_name=self.__class__.__name__,
                                                                           **self._kwargs)


class Flatten(HybridBlock):
    """Folds every axis but the first: (N, a, b, ...) -> (N, a*b*...)."""

    def hybrid_forward(self, F, x):
        return F.flatten(x)

    def __repr__(self):
        return self.__class__.__name__


def _scale_shift_params(block, size, center, scale, beta_initializer, gamma_initializer):
    """Creates the normalization layers' gamma and beta (`size` values each; deferred while 0), trained only when
    scale / center."""
    block.gamma = block.params.get("gamma", grad_req="write" if scale else "null", shape=(size,),
                                   init=gamma_initializer, allow_deferred_init=True)
    block.beta = block.params.get("beta", grad_req="write" if center else "null", shape=(size,),
                                  init=beta_initializer, allow_deferred_init=True)


def _norm_repr(block, in_channels):
    content = ", ".join("=".join([key, value.__repr__()]) for key, value in block._kwargs.items())
    suffix = "" if in_channels is None else ", in_channels={0}".format(in_channels)
    return "{name}({content}{suffix})".format(name=block.__class__.__name__, content=content, suffix=suffix)


class InstanceNorm(HybridBlock):
    """Normalizes each sample and channel over the remaining axes; axis: the channel axis."""

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        _scale_shift_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, x, gamma, beta):
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon)
        x = x.swapaxes(1, self._axis)
        return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon).swapaxes(1, self._axis)

    def __repr__(self):
        return _norm_repr(self, self.gamma.shape[0])


class LayerNorm(HybridBlock):
    """Normalizes over `axis` (default: the last), then scales by gamma and shifts by beta."""

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        self._center = center
        self._scale = scale
        _scale_shift_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.LayerNorm(data, gamma=gamma, beta=beta, axis=self._axis, eps=self._epsilon)

    def __repr__(self):
        return _norm_repr(self, self.gamma.shape[0])


class GroupNorm(HybridBlock):
    """Splits the channels (axis 1) into `num_groups` groups and normalizes each group of each sample; gamma and
    beta have one value per group, as in MXNet 1.x."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center, "scale": scale}
        self._num_groups = num_groups
        self._epsilon = epsilon
        self._center = center
        self._scale = scale
        _scale_shift_params(self, num_groups, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.GroupNorm(data, gamma=gamma, beta=beta, num_groups=self._num_groups, eps=self._epsilon)

    def __repr__(self):
        return _norm_repr(self, None)


class Lambda(Block):
    """A Block computing `function`: an mx.nd function name ('tanh') or a callable f(*args)."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not hasattr(nd, function):
                raise ValueError("Function name %s is not found in ndarray." % function)
            self._func_impl = getattr(nd, function)
        elif callable(function):
            self._func_impl = function
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}".format(function, type(function)))

    def forward(self, *args):
        return self._func_impl(*args)

    def __repr__(self):
        return "{name}({function})".format(name=self.__class__.__name__, function=self._func_impl.__name__)


class HybridLambda(HybridBlock):
    """A HybridBlock computing `function`: an operator name found in both mx.nd and mx.sym ('tanh'), or a
    callable f(F, x, *args)."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not (hasattr(nd, function) and hasattr(sym, function)):
                raise ValueError("Function name %s is not found in symbol/ndarray." % function)
            functions = {sym: getattr(sym, function), nd: getattr(nd, function)}
            self._func = lambda F, *args: functions[F](*args)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = function.__name__
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}".format(function, type(function)))

    def hybrid_forward(self, F, x, *args):
        return self._func(F, x, *args)

    def __repr__(self):
        return "{name}({function})".format(name=self.__class__.__name__, function=self._func_name)
