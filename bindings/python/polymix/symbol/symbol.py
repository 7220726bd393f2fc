"""Symbol: MXNet 1.x's symbolic graph (mx.sym) over core/graph's Symbol: composition through the generated
functions, arithmetic, listing, attributes, shape and type inference, and MXNet's symbol JSON."""

import os
import warnings

from .. import _core
from ..attribute import AttrScope
from ..base import MXNetError, dtype_flag, dtype_type, numeric_types
from . import _internal, op, register

__all__ = ["Symbol", "var", "Variable", "Group", "load", "load_json", "zeros", "ones", "full", "arange"]


class Symbol:
    """A symbolic expression with one or more outputs (MXNet's mx.sym.Symbol)."""

    __slots__ = ("handle", "__weakref__")

    def __init__(self, handle):
        self.handle = handle

    # ---- Identity, outputs ------------------------------------------------------------------------------

    @property
    def name(self):
        """The name of this symbol's output node (None for a group of several nodes)."""
        try:
            return self.handle.name
        except MXNetError:
            return None

    def __repr__(self):
        name = self.name
        if name is None:
            return "<%s group [%s]>" % (type(self).__name__, ", ".join(str(s.name) for s in self))
        return "<%s %s>" % (type(self).__name__, name)

    def __len__(self):
        return self.handle.num_outputs

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """Output `index` (an int, or a name from list_outputs), or a group of outputs for a slice."""
        if isinstance(index, slice):
            return Group([self[i] for i in range(len(self))[index]])
        if isinstance(index, str):
            return Symbol(self.handle.output_named(index))
        if not isinstance(index, int):
            raise TypeError("Symbol only supports integer, string or slice indices, got %s"
                            % type(index).__name__)
        if index < 0:
            index += len(self)
        return Symbol(self.handle.output(index))

    def __copy__(self):
        return Symbol(self.handle.copy())

    def __deepcopy__(self, memo):
        return Symbol(self.handle.copy())

    def __hash__(self):
        return id(self) // 16

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        self.handle = _core.Symbol.from_json(state["json"])

    def __call__(self, *args, **kwargs):
        raise NotImplementedError("composing a Symbol by calling it is not implemented yet: build it with the "
                                  "mx.sym operator functions")

    # ---- Listing, attributes ------------------------------------------------------------------------

    def list_arguments(self):
        """Argument names, in MXNet's order."""
        return self.handle.list_arguments()

    def list_outputs(self):
        """Output names ('fc1_output')."""
        return self.handle.list_outputs()

    def list_auxiliary_states(self):
        """Auxiliary state names (BatchNorm's moving statistics)."""
        return self.handle.list_auxiliary_states()

    def list_inputs(self):
        """Every variable name (arguments and auxiliary states)."""
        return self.handle.list_inputs()

    def get_internals(self):
        """A group of every output of every node of the graph."""
        return Symbol(self.handle.get_internals())

    def get_children(self):
        """The inputs of this symbol's output node as a group; None for a variable."""
        children = Symbol(self.handle.get_children())
        return children if len(children) else None

    def attr(self, key):
        """The attribute `key` of this symbol's node (a string), or None."""
        return self.handle.get_attr(key)

    def list_attr(self, recursive=False):
        """The attributes of this symbol's node (recursive=True: attr_dict() flattened as 'node$key')."""
        if recursive:
            return {"%s$%s" % (node, key): value for node, attrs in self.attr_dict().items()
                    for key, value in attrs.items()}
        return dict(self.attr_dict().get(self.name, {}))

    def attr_dict(self):
        """Every node's attributes: {node name: {key: value}}."""
        return self.handle.attr_dict()

    def _set_attr(self, **kwargs):
        """Sets string attributes of this symbol's node."""
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError("Set Attr only accepts string values")
            self.handle.set_attr(key, value)

    # ---- Inference ---------------------------------------------------------------------------------

    def _known(self, args, kwargs, convert):
        names = self.list_arguments()
        if args and kwargs:
            raise ValueError("Can only specify known argument shapes either by positional or kwargs way.")
        if len(args) > len(names):
            raise ValueError("%d positional values for %d arguments" % (len(args), len(names)))
        given = dict(zip(names, args)) if args else kwargs
        known = {}
        for name, value in given.items():
            if value is None:
                continue
            converted = convert(value)
            if converted is not None:
                known[name] = converted
        return known

    @staticmethod
    def _shape_or_none(shape):
        dims = (int(shape),) if isinstance(shape, int) else tuple(int(dim) for dim in shape)
        # MXNet 1.x: 0 is an unknown dimension, so a shape with one is not known.
        return None if not dims or 0 in dims else list(dims)

    def _infer_shape(self, args, kwargs):
        return self.handle.infer_shape(self._known(args, kwargs, self._shape_or_none))

    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) from the shapes of some arguments (positionally in
        list_arguments order, or by name); (None, None, None) with a warning when they do not decide all."""
        arguments, outputs, aux, complete = self._infer_shape(args, kwargs)
        if not complete:
            unknown = ["%s: %s" % (name, "()" if shape is None else str(shape))
                       for name, shape in zip(self.list_arguments(), arguments) if shape is None]
            warnings.warn("Cannot decide shape for the following arguments (0s in shape means unknown "
                          "dimensions). Consider providing them as input:\n\t" + "\n\t".join(unknown),
                          stacklevel=2)
            return (None, None, None)
        return (list(arguments), list(outputs), list(aux))

    def infer_shape_partial(self, *args, **kwargs):
        """Like infer_shape, but unknown shapes are () instead of failing."""
        arguments, outputs, aux, _ = self._infer_shape(args, kwargs)
        fill = lambda shapes: [() if shape is None else shape for shape in shapes]  # noqa: E731
        return (fill(arguments), fill(outputs), fill(aux))

    def _infer_type(self, args, kwargs):
        return self.handle.infer_type(self._known(args, kwargs, dtype_flag))

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as NumPy types from the dtypes of some arguments; (None, None, None)
        when they do not decide all."""
        arguments, outputs, aux, complete = self._infer_type(args, kwargs)
        if not complete:
            return (None, None, None)
        convert = lambda flags: [dtype_type(flag) for flag in flags]  # noqa: E731
        return (convert(arguments), convert(outputs), convert(aux))

    def infer_type_partial(self, *args, **kwargs):
        """Like infer_type, but unknown types are None."""
        arguments, outputs, aux, _ = self._infer_type(args, kwargs)
        convert = lambda flags: [None if flag is None else dtype_type(flag) for flag in flags]  # noqa: E731
        return (convert(arguments), convert(outputs), convert(aux))

    # ---- Files -----------------------------------------------------------------------------------------

    def tojson(self):
        """MXNet's symbol JSON (readable by MXNet 1.x)."""
        return self.handle.tojson()

    def save(self, fname, remove_amp_cast=True):
        """Writes the JSON to `fname`."""
        self.handle.save(os.fspath(fname))

    # ---- Execution (polymix/executor.py, over core/graph's Executor) ----------------------------------

    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None, shared_exec=None):
        """An Executor over the given arrays: args (and args_grad, aux_states) as lists in list_arguments
        order or dicts by name; grad_req 'write', 'add' or 'null', one for all, a list or a dict."""
        from ..executor import bind  # pylint: disable=import-outside-toplevel
        return bind(self, ctx, args, args_grad, grad_req, aux_states, group2ctx, shared_exec)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        """An Executor with every array allocated from some arguments' shapes (keyword tuples)."""
        from ..executor import simple_bind  # pylint: disable=import-outside-toplevel
        return simple_bind(self, ctx, grad_req, type_dict, stype_dict, group2ctx, shared_arg_names, shared_exec,
                           shared_buffer, **kwargs)

    def eval(self, ctx=None, **kwargs):
        """The outputs (a list of NDArrays) for the given argument arrays: bind, then forward."""
        from ..executor import bind  # pylint: disable=import-outside-toplevel
        return bind(self, ctx, kwargs).forward()

    # ---- Operators ------------------------------------------------------------------------------------

    def reshape(self, *shape, **kwargs):
        """Reshape with MXNet's special values (see NDArray.reshape)."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        if shape:
            kwargs["shape"] = tuple(shape)
        return op.reshape(self, **kwargs)

    def astype(self, dtype):
        """Casts to `dtype`."""
        return op.cast(self, dtype=dtype)

    def _arith(self, other, array_op, array_hint, scalar_op, scalar_hint):
        if isinstance(other, Symbol):
            return register._binary(array_op, array_hint, self, other)
        if isinstance(other, numeric_types):
            return register._scalar(scalar_op, scalar_hint, self, other)
        raise TypeError("type %s not supported" % type(other).__name__)

    def _rarith(self, other, scalar_op, scalar_hint):
        if isinstance(other, numeric_types):
            return register._scalar(scalar_op, scalar_hint, self, other)
        raise TypeError("type %s not supported" % type(other).__name__)

    # As MXNet: elementwise (not broadcasting) ops, named after MXNet's functions (_Plus -> '_plus0').
    def __add__(self, other):
        return self._arith(other, "elemwise_add", "_plus", "_plus_scalar", "_plusscalar")

    __radd__ = __add__

    def __sub__(self, other):
        return self._arith(other, "elemwise_sub", "_minus", "_minus_scalar", "_minusscalar")

    def __rsub__(self, other):
        return self._rarith(other, "_rminus_scalar", "_rminusscalar")

    def __mul__(self, other):
        return self._arith(other, "elemwise_mul", "_mul", "_mul_scalar", "_mulscalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._arith(other, "elemwise_div", "_div", "_div_scalar", "_divscalar")

    def __rtruediv__(self, other):
        return self._rarith(other, "_rdiv_scalar", "_rdivscalar")

    __div__, __rdiv__ = __truediv__, __rtruediv__

    def __mod__(self, other):
        return self._arith(other, "_mod", "_mod", "_mod_scalar", "_modscalar")

    def __rmod__(self, other):
        return self._rarith(other, "_rmod_scalar", "_rmodscalar")

    def __pow__(self, other):
        return self._arith(other, "_power", "_power", "_power_scalar", "_powerscalar")

    def __rpow__(self, other):
        return self._rarith(other, "_rpower_scalar", "_rpowerscalar")

    def __neg__(self):
        return self.__mul__(-1.0)

    def __abs__(self):
        return op.abs(self)

    def __eq__(self, other):
        return self._arith(other, "_equal", "_equal", "_equal_scalar", "_equal_scalar")

    def __ne__(self, other):
        return self._arith(other, "_not_equal", "_not_equal", "_not_equal_scalar", "_not_equal_scalar")

    def __gt__(self, other):
        return self._arith(other, "_greater", "_greater", "_greater_scalar", "_greater_scalar")

    def __ge__(self, other):
        return self._arith(other, "_greater_equal", "_greater_equal", "_greater_equal_scalar",
                           "_greater_equal_scalar")

    def __lt__(self, other):
        return self._arith(other, "_lesser", "_lesser", "_lesser_scalar", "_lesser_scalar")

    def __le__(self, other):
        return self._arith(other, "_lesser_equal", "_lesser_equal", "_lesser_equal_scalar", "_lesser_equal_scalar")


def _fluent(name):
    function = getattr(op, name)

    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = "Convenience fluent method for :py:func:`%s`: x.%s(...) is %s(x, ...)." % (name, name, name)
    return method


def _add_fluent_methods():
    from ..ndarray.ndarray import _FLUENT_METHODS  # pylint: disable=import-outside-toplevel
    for name in _FLUENT_METHODS:
        if hasattr(op, name) and not hasattr(Symbol, name):
            setattr(Symbol, name, _fluent(name))


_add_fluent_methods()
register._symbol_class = Symbol


def var(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None, stype=None, **kwargs):
    """A variable: a named input of a graph, with optional shape, dtype, learning-rate multipliers and
    initializer stored as MXNet's attributes (__shape__, __dtype__, ...)."""
    if not isinstance(name, str):
        raise TypeError("Expect a string for variable `name`")
    attributes = AttrScope.current().get(attr)
    if shape is not None:
        attributes["__shape__"] = str(tuple(shape) if isinstance(shape, list) else shape)
    if lr_mult is not None:
        attributes["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attributes["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attributes["__dtype__"] = str(dtype_flag(dtype))
    if init is not None:
        attributes["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None and stype != "default":
        raise NotImplementedError("storage type %r is not supported: only 'default'" % stype)
    for key, value in kwargs.items():
        if not (key.startswith("__") and key.endswith("__")):
            raise ValueError("Attribute name=%s is not supported. Additional attributes must start and end with "
                             "double underscores, e.g, __yourattr__" % key)
        attributes[key] = str(value)
    return Symbol(_core.Symbol.variable(name, {k: str(v) for k, v in attributes.items()}))


Variable = var


def Group(symbols):  # pylint: disable=invalid-name
    """One symbol whose outputs are the outputs of all `symbols`, in order."""
    symbols = list(symbols)
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a list of symbols as input")
    return Symbol(_core.Symbol.group([s.handle for s in symbols]))


def load(fname):
    """Reads a symbol JSON file (MXNet 1.x and older files)."""
    return Symbol(_core.Symbol.load(os.fspath(fname)))


def load_json(json_str):
    """Parses symbol JSON text."""
    if not isinstance(json_str, str):
        raise TypeError("fname required to be string")
    return Symbol(_core.Symbol.from_json(json_str))


def zeros(shape, dtype=None, **kwargs):
    """A node producing zeros of `shape`."""
    return _internal._zeros(shape=shape, dtype=dtype or "float32", **kwargs)


def ones(shape, dtype=None, **kwargs):
    """A node producing ones of `shape`."""
    return _internal._ones(shape=shape, dtype=dtype or "float32", **kwargs)


def full(shape, val, dtype=None, **kwargs):
    """A node producing `val` everywhere in `shape`."""
    return _internal._full(shape=shape, value=float(val), dtype=dtype or "float32", **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """A node producing evenly spaced values."""
    return _internal._arange(start=start, stop=stop, step=step, repeat=repeat, infer_range=infer_range,
                             name=name, dtype=dtype or "float32")

