"""Gluon's Parameter, Constant and ParameterDict (MXNet 1.x's mx.gluon.parameter).

A Parameter holds one copy of its data (and gradient) per device. Its shape may contain 0s (unknown dimensions):
initialize() then defers the allocation until the first forward pass infers the shape (Note [Deferred
initialization] in block.py). Names, files and error messages follow MXNet 1.9.
"""

import warnings
from collections import OrderedDict

import numpy as np

from .. import autograd, initializer, ndarray, symbol
from ..base import mx_real_t
from ..context import Context, cpu, current_context
from .utils import _brief_print_list, _indent

__all__ = ["DeferredInitializationError", "Parameter", "Constant", "ParameterDict", "tensor_types"]

tensor_types = (symbol.Symbol, ndarray.NDArray)


class DeferredInitializationError(Exception):
    """The data of a Parameter was requested before its deferred initialization happened."""


def _shape_is_known(shape):
    """Whether every dimension of `shape` is known (MXNet 1.x: 0 is unknown; -1 too, as numpy-shape mode)."""
    if shape is None:
        return False
    return all(dim > 0 for dim in shape) if len(shape) else True


def _same_dtype(first, second):
    return np.dtype(first) == np.dtype(second)


class Parameter:
    """A weight of a Block: data (and a gradient buffer) on one or several devices.

    name: the full name ('dense0_weight'); grad_req: 'write', 'add' or 'null'; shape: a tuple whose 0s are
    inferred at the first forward pass (with allow_deferred_init=True); dtype; lr_mult, wd_mult: multipliers of
    the optimizer's learning rate and weight decay; init: this parameter's Initializer (or its name), which
    takes precedence over the one given to initialize(); differentiable=False forces grad_req='null'.
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=mx_real_t, lr_mult=1.0, wd_mult=1.0, init=None,
                 allow_deferred_init=False, differentiable=True, stype="default", grad_stype="default"):
        self._var = None
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._ctx_map = None
        self._trainer = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        if isinstance(shape, int):
            shape = (shape,)
        self._shape = None if shape is None else tuple(int(dim) for dim in shape)
        self.name = name
        self._dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.grad_req = grad_req
        self.init = init
        for kind, value in (("stype", stype), ("grad_stype", grad_stype)):
            if value != "default":
                raise NotImplementedError("Parameter '%s': %s=%r is not supported: only 'default' (dense) storage"
                                          % (name, kind, value))
        self._stype = stype
        self._grad_stype = grad_stype

    def __repr__(self):
        return "Parameter {name} (shape={shape}, dtype={dtype})".format(name=self.name, shape=self.shape,
                                                                        dtype=self.dtype)

    # ---- Attributes --------------------------------------------------------------------------------------

    @property
    def grad_req(self):
        """'write' (backward overwrites the gradient), 'add' (accumulates) or 'null' (no gradient)."""
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be one of 'write', 'add', or 'null', but got '%s'" % req)
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [array.detach() for array in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def dtype(self):
        """The element type."""
        return self._dtype

    @dtype.setter
    def dtype(self, dtype):
        self._dtype = dtype

    @property
    def shape(self):
        """The shape; 0 marks a dimension not known yet."""
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = None if new_shape is None else tuple(int(dim) for dim in new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        if new_shape is None or len(self._shape) != len(new_shape) or not all(
                old in (0, -1, new) for new, old in zip(new_shape, self._shape)):
            raise ValueError("Expected shape %s is incompatible with given shape %s for Parameter '%s'."
                             % (str(new_shape), str(self._shape), self.name))
        self._shape = new_shape

    @property
    def stype(self):
        """The storage type ('default': dense)."""
        return self._stype

    # ---- Initialization ----------------------------------------------------------------------------------

    def _set_trainer(self, trainer):
        """Remembers the Trainer that updates this parameter."""
        self._trainer = trainer

    def _check_and_get(self, arr_list, ctx):
        """The array of `arr_list` on `ctx` (a list: all of them; None: the only one, or the current device)."""
        if arr_list is not None:
            if ctx is list:
                return arr_list
            if ctx is None:
                if len(arr_list) == 1:
                    return arr_list[0]
                ctx = current_context()
            ctx_list = self._ctx_map[ctx.device_typeid & 1]
            if ctx.device_id < len(ctx_list):
                index = ctx_list[ctx.device_id]
                if index is not None:
                    return arr_list[index]
            raise RuntimeError("Parameter '%s' was not initialized on context %s. It was only initialized on %s."
                               % (self.name, str(ctx), str(self._ctx_list)))
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was deferred. Actual "
                "initialization happens during the first forward pass. Please pass one batch of data through the "
                "network before accessing Parameters. You can also avoid deferred initialization by specifying "
                "in_units, num_features, etc., for network layers." % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize parameters and create "
            "Trainer with Block.collect_params() instead of Block.params because the later does not include "
            "Parameters of nested child Blocks" % self.name)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """Sets the data from a loaded array, checking (or completing) shape and dtype."""
        if cast_dtype and dtype_source not in ("current", "saved"):
            raise ValueError("dtype_source must be either 'current' or 'saved', got %r" % dtype_source)
        if self.shape:
            for self_dim, data_dim in zip(self.shape, data.shape):
                if self_dim not in (0, -1, data_dim):
                    raise ValueError("Failed loading Parameter '%s' from saved params: shape incompatible "
                                     "expected %s vs saved %s" % (self.name, str(self.shape), str(data.shape)))
            if len(self.shape) != len(data.shape):
                raise ValueError("Failed loading Parameter '%s' from saved params: shape incompatible expected %s "
                                 "vs saved %s" % (self.name, str(self.shape), str(data.shape)))
            self.shape = tuple(old if old > 0 else new for old, new in zip(self.shape, data.shape))
        if self.dtype is not None and not _same_dtype(self.dtype, data.dtype):
            if cast_dtype and dtype_source == "current":
                data = data.astype(self.dtype, copy=False)
            elif cast_dtype:
                self.dtype = data.dtype
            else:
                raise TypeError("Failed loading Parameter '%s' from saved params: dtype incompatible expected %s "
                                "vs saved %s. Set cast_dtype=True to cast the dtype of saved params."
                                % (self.name, str(np.dtype(self.dtype)), str(np.dtype(data.dtype))))
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data is None:
            if self._deferred_init:
                if ctx is not None and set(ctx) != set(self._deferred_init[1]):
                    raise ValueError("Failed to load Parameter '%s' on %s because it was previous initialized on %s."
                                     % (self.name, str(ctx), str(self.list_ctx())))
                ctx = self._deferred_init[1]
            elif ctx is None:
                ctx = [cpu()]
            self._init_impl(data, ctx)
        else:
            if ctx is not None and set(ctx) != set(self.list_ctx()):
                raise ValueError("Failed to load Parameter '%s' on %s because it was previous initialized on %s."
                                 % (self.name, str(ctx), str(self.list_ctx())))
            self.set_data(data)
        self._deferred_init = ()

    def _finish_deferred_init(self):
        """Allocates and initializes the data once the shape is known (after a deferred initialize())."""
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not _shape_is_known(self.shape):
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: %s. Please specify "
                             "in_units, in_channels, etc for `Block`s." % (self.name, str(self.shape)))
        with autograd.pause():
            if data is None:
                data = ndarray.zeros(shape=self.shape, dtype=self.dtype, ctx=cpu())
                initializer.create(default_init)(initializer.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        """Copies `data` to every device of ctx_list and attaches gradient buffers."""
        self._ctx_list = list(ctx_list)
        self._ctx_map = [[], []]
        for index, ctx in enumerate(self._ctx_list):
            devices = self._ctx_map[ctx.device_typeid & 1]
            while len(devices) <= ctx.device_id:
                devices.append(None)
            devices[ctx.device_id] = index
        with autograd.pause():
            self._data = [data.copyto(ctx) for ctx in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        """Gradient buffers (zeros) on every device, marked as the data's gradients for autograd."""
        if self.grad_req == "null":
            self._grad = None
            return
        self._grad = [ndarray.zeros(shape=array.shape, dtype=array.dtype, ctx=array.context)
                      for array in self._data]
        autograd.mark_variables(self._check_and_get(self._data, list), self._grad, self.grad_req)

    def _reduce(self):
        """The data on the CPU (the average of the copies when there are several devices)."""
        copies = self.list_data()
        if len(copies) == 1:
            return copies[0].copyto(cpu())
        return ndarray.add_n(*(copy.copyto(cpu()) for copy in copies)) / len(copies)

    def initialize(self, init=None, ctx=None, default_init=None, force_reinit=False):
        """Allocates and initializes the data on `ctx` (a Context or list; default: the current one) with this
        parameter's own init, else `init`, else `default_init` (Uniform). With unknown dimensions in the shape
        and allow_deferred_init, the work waits for the first forward pass."""
        if default_init is None:
            default_init = initializer.Uniform()
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set force_reinit=True to re-initialize."
                          % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        if ctx is None:
            ctx = [current_context()]
        if isinstance(ctx, Context):
            ctx = [ctx]
        if init is None:
            init = default_init if self.init is None else self.init
        if not _shape_is_known(self.shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctx, default_init, None)
                return
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: %s."
                             % (self.name, str(self.shape)))
        self._deferred_init = (init, ctx, default_init, None)
        self._finish_deferred_init()

    def reset_ctx(self, ctx):
        """Moves the data (and gradients) to other devices."""
        if ctx is None:
            ctx = [current_context()]
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been initialized."
                             % self.name)

    # ---- Data and gradients ------------------------------------------------------------------------------

    def set_data(self, data):
        """Writes `data` into every copy (or keeps it for a pending deferred initialization)."""
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        for array in self._check_and_get(self._data, list):
            array[:] = data

    def data(self, ctx=None):
        """The data on `ctx` (default: the only copy, or the one on the current device)."""
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        """The copies of the data, one per device, in initialization order."""
        return self._check_and_get(self._data, list)

    def grad(self, ctx=None):
        """The gradient buffer on `ctx`."""
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req='null'" % self.name)
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        """The gradient buffers, one per device."""
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req='null'" % self.name)
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        """The devices the data lives on (or will, after a deferred initialization)."""
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return self._ctx_list

    def zero_grad(self):
        """Sets the gradient buffers to 0 (needed with grad_req='add')."""
        if self._grad is None:
            return
        for grad in self._grad:
            ndarray.zeros_like(grad, out=grad)

    def var(self):
        """The Symbol variable of this parameter (with its shape, dtype, multipliers and init as attributes)."""
        if self._var is None:
            init = self.init if isinstance(self.init, str) or hasattr(self.init, "dumps") else None
            # __storage_type__ as MXNet writes it (0: dense), so exported symbol files match MXNet's.
            self._var = symbol.var(self.name, shape=self.shape, dtype=self.dtype, lr_mult=self.lr_mult,
                                   wd_mult=self.wd_mult, init=init, __storage_type__="0")
        return self._var

    def cast(self, dtype):
        """Converts the data and gradients to `dtype`."""
        self._dtype = dtype
        if self._data is None:
            return
        with autograd.pause():
            self._data = [array.astype(dtype) for array in self._data]
            if self._grad is None:
                return
            self._grad = [grad.astype(dtype) for grad in self._grad]
            autograd.mark_variables(self._data, self._grad, self.grad_req)

    def row_sparse_data(self, row_id):
        """Row-sparse storage is not supported."""
        raise NotImplementedError("Parameter '%s': row_sparse storage is not supported" % self.name)

    def list_row_sparse_data(self, row_id):
        """Row-sparse storage is not supported."""
        raise NotImplementedError("Parameter '%s': row_sparse storage is not supported" % self.name)


class Constant(Parameter):
    """A Parameter that never changes (grad_req='null'), initialized to `value` (an NDArray or array-like)."""

    def __init__(self, name, value):
        if not isinstance(value, ndarray.NDArray):
            value = ndarray.array(value)
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=_ConstantInit(value))

    def __repr__(self):
        return "Constant {name} (shape={shape}, dtype={dtype})".format(name=self.name, shape=self.shape,
                                                                       dtype=self.dtype)

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn("Constant parameter \"{}\" does not support grad_req other than \"null\", and new value "
                          "\"{}\" is ignored.".format(self.name, req))
        self._grad_req = "null"


class _ConstantInit(initializer.Initializer):
    """Copies a Constant's value into its data."""

    def __init__(self, value):
        super().__init__()
        self._value = value

    def _init_weight(self, _, arr):
        self._value.copyto(arr)

    def _init_default(self, _, arr):
        self._value.copyto(arr)


class ParameterDict:
    """An ordered dict of Parameters by full name, whose get() creates names under `prefix`. A `shared` dict is
    consulted before creating a parameter, which is how Blocks share weights."""

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    def __repr__(self):
        name = self._prefix + " " if self._prefix else ""
        content = "\n".join(_indent("  {0}".format(value), 2) for value in self.values())
        return "{name}(\n{content}\n)".format(name=name, content=content)

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def items(self):
        """(name, Parameter) pairs in creation order."""
        return self._params.items()

    def keys(self):
        """The full names."""
        return self._params.keys()

    def values(self):
        """The Parameters."""
        return self._params.values()

    @property
    def prefix(self):
        """The prefix get() puts before names."""
        return self._prefix

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._shared._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter prefix + name (from this dict or the shared one), created with `kwargs` if missing.
        An existing parameter's attributes must agree with `kwargs` (unknown shape dimensions are completed)."""
        name = self.prefix + name
        param = self._get_impl(name)
        if param is None:
            param = Parameter(name, **kwargs)
            self._params[name] = param
            return param
        for key, value in kwargs.items():
            existing = getattr(param, key, None)
            if existing is None:
                setattr(param, key, value)
                continue
            if key == "shape" and value is not None and len(value) == len(existing):
                merged = _merge_shapes(value, existing)
                if merged is not None:
                    param._shape = merged
                    continue
            elif key == "dtype" and _same_dtype(value, existing):
                continue
            if value is not None and value != existing:
                raise AssertionError("Cannot retrieve Parameter '%s' because desired attribute does not match with "
                                     "stored for attribute '%s': desired '%s' vs stored '%s'."
                                     % (name, key, str(value), str(existing)))
        return param

    def get_constant(self, name, value=None):
        """The Constant prefix + name, created from `value` if missing."""
        name = self.prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise KeyError("No constant named '{}'. Please specify value if you want to create a new constant."
                               .format(name))
            param = Constant(name, value)
            self._params[name] = param
        elif value is not None:
            if not isinstance(param, Constant):
                raise TypeError("Parameter '{}' already exists but it is not a constant.".format(name))
            if isinstance(value, ndarray.NDArray):
                value = value.asnumpy()
            if param.shape != np.shape(value) or not np.array_equal(param.value.asnumpy(), value):
                raise ValueError("Constant '{}' already exists but its value doesn't match new value".format(name))
        return param

    def update(self, other):
        """Adds the parameters of another ParameterDict (or dict); a name bound to a different Parameter is an
        error."""
        for key, value in other.items():
            if key in self._params and self._params[key] is not value:
                raise ValueError("Cannot update self with other because they have different Parameters with the "
                                 "same name '%s'" % key)
        for key, value in other.items():
            self._params[key] = value

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initializes every parameter (init: the default Initializer, Uniform unless given)."""
        if init is None:
            init = initializer.Uniform()
        if verbose and hasattr(init, "set_verbosity"):
            init.set_verbosity(verbose=verbose)
        for _, param in self.items():
            param.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        """Sets every gradient to 0."""
        for param in self.values():
            param.zero_grad()

    def reset_ctx(self, ctx):
        """Moves every parameter to `ctx`."""
        for param in self.values():
            param.reset_ctx(ctx)

    def list_ctx(self):
        """Every device some parameter lives on."""
        contexts = []
        for param in self.values():
            contexts.extend(ctx for ctx in param.list_ctx() if ctx not in contexts)
        return contexts

    def setattr(self, name, value):
        """Sets an attribute of every parameter (e.g. setattr('grad_req', 'null'))."""
        for param in self.values():
            setattr(param, name, value)

    def save(self, filename, strip_prefix=""):
        """Writes every parameter to an MXNet .params file, named by full name minus `strip_prefix`."""
        arg_dict = {}
        for param in self.values():
            weight = param._reduce()
            if not param.name.startswith(strip_prefix):
                raise ValueError(
                    "Prefix '%s' is to be striped before saving, but Parameter's name '%s' does not start with '%s'. "
                    "this may be due to your Block shares parameters from other Blocks or you forgot to use "
                    "'with name_scope()' when creating child blocks. For more info on naming, please see "
                    "https://mxnet.io/api/python/docs/tutorials/packages/gluon/blocks/naming.html"
                    % (strip_prefix, param.name, strip_prefix))
            arg_dict[param.name[len(strip_prefix):]] = weight
        ndarray.save(filename, arg_dict)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
             cast_dtype=False, dtype_source="current"):
        """Reads a .params file (names with or without 'arg:'/'aux:', plus restore_prefix) into the parameters."""
        if restore_prefix:
            for name in self.keys():
                if not name.startswith(restore_prefix):
                    raise ValueError("restore_prefix is '%s' but Parameters name '%s' does not start with '%s'"
                                     % (restore_prefix, name, restore_prefix))
        self.load_dict(ndarray.load(filename), ctx, allow_missing, ignore_extra, restore_prefix, filename,
                       cast_dtype, dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
                  filename=None, cast_dtype=False, dtype_source="current"):
        """Loads parameters from a dict name -> NDArray (as load() does from a file)."""
        if not isinstance(param_dict, dict):
            raise TypeError("load_dict expects a dict of name -> NDArray, got %s" % type(param_dict).__name__)
        lprefix = len(restore_prefix)
        arg_dict = {restore_prefix + (key[4:] if key.startswith(("arg:", "aux:")) else key): value
                    for key, value in param_dict.items()}
        source = "file: %s" % filename if filename else "param_dict"
        if not allow_missing:
            for name in self.keys():
                if name not in arg_dict:
                    raise KeyError("Parameter '%s' is missing in %s, which contains parameters: %s. Please make sure "
                                   "source and target networks have the same prefix."
                                   % (name[lprefix:], source, _brief_print_list(arg_dict.keys())))
        for name, value in arg_dict.items():
            if name not in self._params:
                if not ignore_extra:
                    raise KeyError("Parameter '%s' loaded from %s is not present in ParameterDict, choices are: %s. "
                                   "Set ignore_extra to True to ignore. Please make sure source and target networks "
                                   "have the same prefix." % (name[lprefix:], source,
                                                              _brief_print_list(self._params.keys())))
                continue
            self[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)


def _merge_shapes(desired, stored):
    """The shape agreeing with both (0/-1 dimensions filled from the other), or None if they conflict."""
    merged = []
    for first, second in zip(desired, stored):
        if first == second:
            merged.append(first)
        elif first in (0, -1):
            merged.append(second)
        elif second in (0, -1):
            merged.append(first)
        else:
            return None
    return tuple(merged)
