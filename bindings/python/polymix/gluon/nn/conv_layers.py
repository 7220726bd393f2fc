"""Convolution and pooling layers (MXNet 1.x's mx.gluon.nn.conv_layers): Conv1D/2D/3D, their transposes,
Max/Avg pooling and global pooling, calling MXNet's Convolution, Deconvolution and Pooling operators."""

from ...base import numeric_types
from ..block import HybridBlock
from .activations import Activation

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "MaxPool1D",
           "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"]


def _tuple(value, length):
    return (value,) * length if isinstance(value, numeric_types) else tuple(value)


def _weight_shape(op_name, layout, channels, in_channels, groups, kernel):
    """The weight shape MXNet's shape inference gives (0 where in_channels is still unknown): Convolution
    (channels, in/groups, *kernel) or, channel-last, (channels, *kernel, in/groups); Deconvolution
    (in, channels/groups, *kernel)."""
    if op_name == "Deconvolution":
        return (in_channels, channels // groups) + tuple(kernel)
    per_group = in_channels // groups
    if layout.index("C") == len(layout) - 1:
        return (channels,) + tuple(kernel) + (per_group,)
    return (channels, per_group) + tuple(kernel)


class _Conv(HybridBlock):
    """The shared part of convolutions and transposed convolutions (MXNet's _Conv)."""

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout, in_channels=0,
                 activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 op_name="Convolution", adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            strides = _tuple(strides, len(kernel_size))
            padding = _tuple(padding, len(kernel_size))
            dilation = _tuple(dilation, len(kernel_size))
            self._op_name = op_name
            self._kwargs = {"kernel": kernel_size, "stride": strides, "dilate": dilation, "pad": padding,
                            "num_filter": channels, "num_group": groups, "no_bias": not use_bias, "layout": layout}
            if adj is not None:
                self._kwargs["adj"] = adj
            self.weight = self.params.get(
                "weight", shape=_weight_shape(op_name, layout, channels, in_channels, groups, kernel_size),
                init=weight_initializer, allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def hybrid_forward(self, F, x, weight, bias=None):
        operator = getattr(F, self._op_name)
        if bias is None:
            act = operator(x, weight, name="fwd", **self._kwargs)
        else:
            act = operator(x, weight, bias, name="fwd", **self._kwargs)
        if self.act is not None:
            act = self.act(act)
        return act

    def _alias(self):
        return "conv"

    def __repr__(self):
        text = "{name}({mapping}, kernel_size={kernel}, stride={stride}"
        length = len(self._kwargs["kernel"])
        if self._kwargs["pad"] != (0,) * length:
            text += ", padding={pad}"
        if self._kwargs["dilate"] != (1,) * length:
            text += ", dilation={dilate}"
        if hasattr(self, "out_pad") and self.out_pad != (0,) * length:
            text += ", output_padding={out_pad}".format(out_pad=self.out_pad)
        if self._kwargs["num_group"] != 1:
            text += ", groups={num_group}"
        if self.bias is None:
            text += ", bias=False"
        if self.act:
            text += ", {}".format(self.act)
        text += ")"
        shape = self.weight.shape
        mapping = "{1} -> {0}" if "Transpose" in self.__class__.__name__ else "{0} -> {1}"
        return text.format(name=self.__class__.__name__,
                           mapping=mapping.format(shape[1] if shape[1] else None, shape[0]), **self._kwargs)


def _conv_class(name, dims, layouts, transpose):
    """A Conv{dims}D or Conv{dims}DTranspose class with MXNet's signature and defaults."""
    default_layout = layouts[0]

    def __init__(self, channels, kernel_size, strides=1, padding=0, *args, **kwargs):
        # MXNet's positional order after padding: [output_padding,] dilation, groups, layout, activation, use_bias,
        # weight_initializer, bias_initializer, in_channels.
        names = (["output_padding"] if transpose else []) + [
            "dilation", "groups", "layout", "activation", "use_bias", "weight_initializer", "bias_initializer",
            "in_channels"]
        options = dict(zip(names, args))
        for key in list(kwargs):
            if key in names:
                options[key] = kwargs.pop(key)
        layout = options.get("layout", default_layout)
        if layout not in layouts:
            raise ValueError("%s: layout %r is not supported: expected one of %s" % (name, layout, layouts))
        kernel_size = _tuple(kernel_size, dims)
        if len(kernel_size) != dims:
            raise ValueError("kernel_size must be a number or a list of %d ints" % dims)
        adj = None
        if transpose:
            adj = _tuple(options.get("output_padding", 0), dims)
            self.outpad = adj
        _Conv.__init__(self, channels, kernel_size, strides, padding, options.get("dilation", 1),
                       options.get("groups", 1), layout, options.get("in_channels", 0), options.get("activation"),
                       options.get("use_bias", True), options.get("weight_initializer"),
                       options.get("bias_initializer", "zeros"), "Deconvolution" if transpose else "Convolution",
                       adj, **kwargs)

    what = "transposed (fractionally strided) convolution" if transpose else "convolution"
    __init__.__doc__ = ("A %dD %s: channels outputs, kernel_size, strides, padding, %sdilation, groups, layout "
                        "(%s), activation, use_bias, weight_initializer, bias_initializer, in_channels (0: "
                        "inferred at the first call)." % (dims, what, "output_padding, " if transpose else "",
                                                          "/".join(layouts)))
    return type(name, (_Conv,), {"__init__": __init__, "__doc__": "%dD %s layer (MXNet's nn.%s)."
                                 % (dims, what, name)})


Conv1D = _conv_class("Conv1D", 1, ("NCW",), False)
Conv2D = _conv_class("Conv2D", 2, ("NCHW", "NHWC"), False)
Conv3D = _conv_class("Conv3D", 3, ("NCDHW", "NDHWC"), False)
Conv1DTranspose = _conv_class("Conv1DTranspose", 1, ("NCW",), True)
Conv2DTranspose = _conv_class("Conv2DTranspose", 2, ("NCHW", "NHWC"), True)
Conv3DTranspose = _conv_class("Conv3DTranspose", 3, ("NCDHW", "NDHWC"), True)


class _Pooling(HybridBlock):
    """The shared part of the pooling layers (MXNet's _Pooling)."""

    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        if strides is None:
            strides = pool_size
        strides = _tuple(strides, len(pool_size))
        padding = _tuple(padding, len(pool_size))
        self._kwargs = {"kernel": pool_size, "stride": strides, "pad": padding, "global_pool": global_pool,
                        "pool_type": pool_type, "layout": layout,
                        "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        return F.Pooling(x, name="fwd", **self._kwargs)

    def __repr__(self):
        text = "{name}(size={kernel}, stride={stride}, padding={pad}, ceil_mode={ceil_mode}"
        text += ", global_pool={global_pool}, pool_type={pool_type}, layout={layout})"
        return text.format(name=self.__class__.__name__, ceil_mode=self._kwargs["pooling_convention"] == "full",
                           **self._kwargs)


def _pool_class(name, dims, layouts, pool_type):
    """A MaxPool{dims}D or AvgPool{dims}D class with MXNet's signature and defaults."""
    default_layout = layouts[0]

    def __init__(self, pool_size=2, strides=None, padding=0, layout=default_layout, ceil_mode=False, *args,
                 **kwargs):
        count_include_pad = None
        if pool_type == "avg":
            count_include_pad = args[0] if args else kwargs.pop("count_include_pad", True)
        if layout not in layouts:
            raise ValueError("%s: layout %r is not supported: expected one of %s" % (name, layout, layouts))
        pool_size = _tuple(pool_size, dims)
        if len(pool_size) != dims:
            raise ValueError("pool_size must be a number or a list of %d ints" % dims)
        _Pooling.__init__(self, pool_size, strides, padding, ceil_mode, False, pool_type, layout,
                          count_include_pad, **kwargs)

    what = "max" if pool_type == "max" else "average"
    __init__.__doc__ = ("%dD %s pooling: pool_size, strides (default: pool_size), padding, layout (%s), ceil_mode%s."
                        % (dims, what, "/".join(layouts), ", count_include_pad" if pool_type == "avg" else ""))
    return type(name, (_Pooling,), {"__init__": __init__, "__doc__": "%dD %s pooling (MXNet's nn.%s)."
                                    % (dims, what, name)})


def _global_pool_class(name, dims, layouts, pool_type):
    """A GlobalMaxPool{dims}D or GlobalAvgPool{dims}D class: pooling over all spatial positions."""
    default_layout = layouts[0]

    def __init__(self, layout=default_layout, **kwargs):
        if layout not in layouts:
            raise ValueError("%s: layout %r is not supported: expected one of %s" % (name, layout, layouts))
        _Pooling.__init__(self, (1,) * dims, None, 0, True, True, pool_type, layout, **kwargs)

    what = "max" if pool_type == "max" else "average"
    __init__.__doc__ = "Global %dD %s pooling: layout (%s)." % (dims, what, "/".join(layouts))
    return type(name, (_Pooling,), {"__init__": __init__, "__doc__": "Global %dD %s pooling (MXNet's nn.%s)."
                                    % (dims, what, name)})


MaxPool1D = _pool_class("MaxPool1D", 1, ("NCW", "NWC"), "max")
MaxPool2D = _pool_class("MaxPool2D", 2, ("NCHW", "NHWC"), "max")
MaxPool3D = _pool_class("MaxPool3D", 3, ("NCDHW", "NDHWC"), "max")
AvgPool1D = _pool_class("AvgPool1D", 1, ("NCW", "NWC"), "avg")
AvgPool2D = _pool_class("AvgPool2D", 2, ("NCHW", "NHWC"), "avg")
AvgPool3D = _pool_class("AvgPool3D", 3, ("NCDHW", "NDHWC"), "avg")
GlobalMaxPool1D = _global_pool_class("GlobalMaxPool1D", 1, ("NCW", "NWC"), "max")
GlobalMaxPool2D = _global_pool_class("GlobalMaxPool2D", 2, ("NCHW", "NHWC"), "max")
GlobalMaxPool3D = _global_pool_class("GlobalMaxPool3D", 3, ("NCDHW", "NDHWC"), "max")
GlobalAvgPool1D = _global_pool_class("GlobalAvgPool1D", 1, ("NCW", "NWC"), "avg")
GlobalAvgPool2D = _global_pool_class("GlobalAvgPool2D", 2, ("NCHW", "NHWC"), "avg")
GlobalAvgPool3D = _global_pool_class("GlobalAvgPool3D", 3, ("NCDHW", "NDHWC"), "avg")
