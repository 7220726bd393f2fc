"""Gluon's Block, HybridBlock and SymbolBlock (MXNet 1.x's mx.gluon.block).

Note [Names as MXNet gives them]
A Block created at top level takes its prefix from the current mx.name.NameManager ('dense0_'); one created inside
a parent's name_scope() counts per class within that parent ('hybridsequential0_dense1_'). Parameters are named
prefix + their own name ('dense0_weight'), and symbols built inside a block's name scope (the hybridize trace) are
named prefix + their name ('dense0_fwd'), with automatic names counted afresh in each scope ('dense0_relu0'),
exactly as MXNet 1.x does, so exported symbol files and .params files carry MXNet's names.

Note [Deferred initialization]
A layer created without its input size (Dense(10) without in_units) has parameters with 0 in their shapes.
initialize() records the request; the first forward pass traces the block into a Symbol, infers every shape from
the input's and only then allocates and initializes the data (HybridBlock._deferred_infer_shape).

Note [Hybridized calls]
hybridize() marks a HybridBlock; its next call traces hybrid_forward with F = mx.sym (parameters as variables,
inputs as 'data' or 'data0', 'data1', ...), and wraps the graph in mx.nd.CachedOp with the hybridize flags. Each
call passes the inputs and parameters in the graph's list_inputs() order; under autograd the CachedOp is recorded
as one node, so gradients reach the parameters' buffers as in imperative mode.
"""

import copy
import re
import threading
import warnings
from collections import OrderedDict

from .. import name as _name
from .. import initializer, ndarray, symbol
from ..base import mx_real_t
from ..ndarray import NDArray
from ..symbol import Symbol
from .parameter import DeferredInitializationError, Parameter, ParameterDict
from .utils import HookHandle, _brief_print_list, _indent

__all__ = ["Block", "HybridBlock", "SymbolBlock"]


class _NamePrefix(_name.NameManager):
    """The symbol name manager of a block's scope: prefix + name, automatic names counted from 0 in this scope
    (MXNet's Prefix)."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix
        self._counter = {}

    def get(self, name, hint):
        if name:
            return self._prefix + name
        count = self._counter.get(hint, 0)
        self._counter[hint] = count + 1
        return "%s%s%d" % (self._prefix, hint, count)

    def __enter__(self):
        self._old_manager = _name.NameManager.current()
        _name.NameManager._current.value = self
        return self


class _BlockScope:
    """The scope of a block's name_scope(): children created inside get prefixes under the block's."""

    _current = threading.local()

    def __init__(self, block):
        self._block = block
        self._counter = {}
        self._old_scope = None
        self._name_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) of a new block whose class alias is `hint` (Note [Names as MXNet gives them])."""
        current = getattr(_BlockScope._current, "value", None)
        if current is None:
            if prefix is None:
                prefix = _name.NameManager.current().get(None, hint) + "_"
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        self._name_scope = _NamePrefix(self._block.prefix)
        self._name_scope.__enter__()
        return self

    def __exit__(self, ptype, value, trace):
        if self._block._empty_prefix:
            return
        self._name_scope.__exit__(ptype, value, trace)
        self._name_scope = None
        _BlockScope._current.value = self._old_scope


def _flatten(args, inout_str):
    """(flat list of arrays/symbols, format) of a nested list (None stands for an omitted optional input);
    _regroup inverts it."""
    if args is None:
        return [None], -1
    if isinstance(args, NDArray):
        return [args], 0
    if isinstance(args, Symbol):
        length = len(args.list_outputs())
        return [args], (length if length > 1 else 0)
    if not isinstance(args, (list, tuple)):
        raise TypeError("HybridBlock %s must be (nested) list of Symbol or NDArray, but got %s of type %s"
                        % (inout_str, str(args), str(type(args))))
    flat, fmts = [], []
    for item in args:
        arg, fmt = _flatten(item, inout_str)
        flat.extend(arg)
        fmts.append(fmt)
    return flat, fmts


def _regroup(args, fmt):
    """(nested structure rebuilt from the flat `args` by `fmt`, the rest of args)."""
    if isinstance(fmt, int):
        if fmt in (0, -1):
            return args[0], args[1:]
        return args[:fmt], args[fmt:]
    ret = []
    for item in fmt:
        res, args = _regroup(args, item)
        ret.append(res)
    return ret, args


class Block:
    """The base of every layer and model: owns Parameters and child Blocks (assigned as attributes or through
    register_child), and computes forward() on NDArrays. prefix: the name space of its parameters and children
    (default: the class name lowercased and a counter); params: a ParameterDict to share parameters from."""

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = {}
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(block.__repr__(), 2))
                           for key, block in self.__dict__.items() if isinstance(block, Block))
        return "{name}(\n{modstr}\n)".format(name=self.__class__.__name__, modstr=modstr)

    def __setattr__(self, name, value):
        """Registers Blocks as children and Parameters as this block's own."""
        if hasattr(self, name):
            existing = getattr(self, name)
            if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
                raise TypeError("Changing attribute type for {name} from {type1} to {type2} is not allowed."
                                .format(name=name, type1=type(existing), type2=type(value)))
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            if name in self._reg_params:
                raise ValueError("Overriding Parameter attribute %s is not allowed. If you want to share parameters "
                                 "between blocks, please set 'params' at Block construction instead." % name)
            self._reg_params[name] = value
        super().__setattr__(name, value)

    def _check_container_with_block(self):
        """Warns about Blocks hidden in list/tuple/dict attributes, which are not registered."""
        children = set(id(child) for child in self._children.values())

        def hides_block(data):
            if isinstance(data, (list, tuple)):
                return any(hides_block(item) for item in data)
            if isinstance(data, dict):
                return any(hides_block(item) for item in data.values())
            return isinstance(data, Block) and id(data) not in children

        for key, value in self.__dict__.items():
            if isinstance(value, (list, tuple, dict)) and not (key.startswith("__") or key == "_children"):
                if hides_block(value):
                    warnings.warn('"{name}" is an unregistered container with Blocks. Note that Blocks inside the '
                                  'list, tuple or dict will not be registered automatically. Make sure to register '
                                  'them using register_child() or switching to nn.Sequential/nn.HybridSequential '
                                  'instead. '.format(name=self.__class__.__name__ + "." + key), stacklevel=3)

    def _alias(self):
        return self.__class__.__name__.lower()

    @property
    def prefix(self):
        """The prefix of this block's parameter and child names ('dense0_')."""
        return self._prefix

    @property
    def name(self):
        """The prefix without its trailing '_'."""
        return self._name

    def name_scope(self):
        """`with self.name_scope():` names children created inside under this block's prefix."""
        return self._scope

    @property
    def params(self):
        """This block's own ParameterDict (without its children's)."""
        return self._params

    def collect_params(self, select=None):
        """A ParameterDict of this block's and all its descendants' parameters; `select` is a regular expression
        the names must match ('.*weight|.*bias')."""
        self._check_container_with_block()
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({name: value for name, value in self.params.items() if pattern.match(name)})
        for child in self._children.values():
            ret.update(child.collect_params(select=select))
        return ret

    def _collect_params_with_prefix(self, prefix=""):
        """Parameters by structural name ('0.weight', 'conv1.bias'): the names save_parameters writes."""
        if prefix:
            prefix += "."
        ret = {prefix + key: value for key, value in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def save_parameters(self, filename, deduplicate=False):
        """Writes the parameters to an MXNet .params file under their structural names ('0.weight');
        deduplicate=True writes a parameter shared by several blocks once."""
        params = self._collect_params_with_prefix()
        if deduplicate:
            seen = {}
            for key, param in list(params.items()):
                if id(param) in seen:
                    del params[key]
                seen.setdefault(id(param), key)
        ndarray.save(filename, {key: value._reduce() for key, value in params.items()})

    def save_params(self, filename):
        """[Deprecated] Writes the parameters under their full names minus this block's prefix."""
        warnings.warn("save_params is deprecated. Please use save_parameters. Note that if you want load from "
                      "SymbolBlock later, please use export instead. For details, see "
                      "https://mxnet.incubator.apache.org/tutorials/gluon/save_load_params.html")
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False, cast_dtype=False,
                        dtype_source="current"):
        """Reads parameters written by save_parameters (or, for files without '.' in their names, by
        save_params/ParameterDict.save) onto `ctx` (default: where they are, else cpu())."""
        loaded = ndarray.load(filename)
        if not isinstance(loaded, dict):
            raise ValueError("'%s' holds arrays without names: expected a file written by save_parameters"
                             % filename)
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in key for key in loaded.keys()):
            del loaded
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra, self.prefix,
                                       cast_dtype=cast_dtype, dtype_source=dtype_source)
            return
        if not allow_missing:
            shared = {}
            for name, param in params.items():
                shared.setdefault(id(param), []).append(name)
            for name, param in params.items():
                if name not in loaded and not any(other in loaded for other in shared[id(param)]):
                    raise KeyError("Parameter '%s' is missing in file '%s', which contains parameters: %s. Set "
                                   "allow_missing=True to ignore missing parameters."
                                   % (name, filename, _brief_print_list(loaded.keys())))
        for name, value in loaded.items():
            if not ignore_extra and name not in params:
                raise KeyError("Parameter '%s' loaded from file '%s' is not present in ParameterDict, which contains "
                               "parameters %s. Set ignore_extra=True to ignore. "
                               % (name, filename, _brief_print_list(params.keys())))
            if name in params:
                params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        """[Deprecated] load_parameters."""
        warnings.warn("load_params is deprecated. Please use load_parameters.")
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def register_child(self, block, name=None):
        """Adds `block` as a child under `name` (default: its position, '0', '1', ...)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """Calls hook(block, inputs) before each forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_pre_hooks, hook)
        return handle

    def register_forward_hook(self, hook):
        """Calls hook(block, inputs, outputs) after each forward; returns a HookHandle."""
        handle = HookHandle()
        handle.attach(self._forward_hooks, hook)
        return handle

    def apply(self, fn):
        """Calls fn(block) on every descendant, then on this block; returns this block."""
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initializes every parameter (collect_params().initialize): init is the default Initializer (Uniform)
        for parameters without their own; ctx a Context or a list of them."""
        if init is None:
            init = initializer.Uniform()
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Turns hybrid execution on or off for the HybridBlocks among the descendants."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def cast(self, dtype):
        """Converts every parameter to `dtype`."""
        for child in self._children.values():
            child.cast(dtype)
        for _, param in self.params.items():
            param.cast(dtype)

    def zero_grad(self):
        """Sets every parameter's gradient to 0."""
        self.collect_params().zero_grad()

    def reset_ctx(self, ctx):
        """Moves every parameter to `ctx`."""
        self.collect_params().reset_ctx(ctx)

    def __call__(self, *args):
        """Runs the pre-hooks, forward(*args), then the hooks."""
        for hook in list(self._forward_pre_hooks.values()):
            hook(self, args)
        out = self.forward(*args)
        for hook in list(self._forward_hooks.values()):
            hook(self, args, out)
        return out

    def forward(self, *args):
        """The computation on NDArrays; subclasses override it."""
        raise NotImplementedError

    def summary(self, *inputs):
        """Prints each layer's output shape and parameter count for one forward pass on `inputs` (the block must
        be initialized and not hybridized)."""
        summary = OrderedDict()
        seen = set()
        hooks = []

        def shape_text(values):
            flat, fmt = _flatten_any(values)
            shapes = _regroup([x.shape if isinstance(x, NDArray) else x for x in flat], fmt)[0]
            return str(shapes)[1:-1] if isinstance(shapes, list) else str(shapes)

        def register(block):
            if isinstance(block, HybridBlock) and block._active:
                raise RuntimeError('"{}" must not be hybridized to print summary.'.format(block.name))

            def hook(block, _, outputs):
                key = "%s-%i" % (block.__class__.__name__, len(summary))
                entry = summary[key] = OrderedDict(output_shape=shape_text(outputs), trainable=0, shared=0)
                count = 0
                for param in block.params.values():
                    size = param.data().size
                    count += size
                    entry["trainable"] += 0 if param.grad_req == "null" else size
                    if param in seen:
                        entry["shared"] += size
                    else:
                        seen.add(param)
                entry["n_params"] = count

            from .nn.basic_layers import HybridSequential, Sequential  # pylint: disable=import-outside-toplevel
            if not isinstance(block, (Sequential, HybridSequential)):
                hooks.append(block.register_forward_hook(hook))

        summary["Input"] = OrderedDict(output_shape=shape_text(inputs), n_params=0, trainable=0, shared=0)
        try:
            self.apply(register)
            self(*inputs)
            line = "{:>20}  {:>42} {:>15}"
            print("-" * 80)
            print(line.format("Layer (type)", "Output Shape", "Param #"))
            print("=" * 80)
            total = sum(entry["n_params"] for entry in summary.values())
            trainable = sum(entry["trainable"] for entry in summary.values())
            shared = sum(entry["shared"] for entry in summary.values())
            for layer, entry in summary.items():
                print(line.format(layer, str(entry["output_shape"]), entry["n_params"]))
            print("=" * 80)
            print("Parameters in forward computation graph, duplicate included")
            print("   Total params: " + str(total))
            print("   Trainable params: " + str(trainable))
            print("   Non-trainable params: " + str(total - trainable))
            print("Shared params in forward computation graph: " + str(shared))
            print("Unique parameters in model: " + str(total - shared))
            print("-" * 80)
        finally:
            for handle in hooks:
                handle.detach()


def _flatten_any(values):
    if not isinstance(values, (list, tuple)):
        return [values], 0
    flat, fmts = [], []
    for item in values:
        arg, fmt = _flatten_any(item)
        flat.extend(arg)
        fmts.append(fmt)
    return flat, fmts


class HybridBlock(Block):
    """A Block whose computation, hybrid_forward(F, x, *args, **params), works on NDArrays (F = mx.nd) and on
    Symbols (F = mx.sym), so that hybridize() can trace it once and run the graph as one CachedOp
    (Note [Hybridized calls])."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._cached_graph = ()
        self._cached_op = None
        self._cached_op_args = []
        self._out_format = None
        self._in_format = None
        self._active = False
        self._flags = []

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock):
            self._clear_cached_op()

    def _get_graph(self, *args):
        """(input variables, output Symbol group) of hybrid_forward traced on symbols, made once."""
        if not self._cached_graph:
            args, self._in_format = _flatten(args, "input")
            count = sum(arg is not None for arg in args)
            if count == 0:
                raise ValueError("HybridBlock %s needs at least one input that is not None" % self.name)
            names = iter(["data%d" % i for i in range(count)] if count > 1 else ["data"])
            flat_inputs = [None if arg is None else symbol.var(next(names)) for arg in args]
            inputs = [variable for variable in flat_inputs if variable is not None]
            grouped_inputs = _regroup(flat_inputs, self._in_format)[0]
            params = {name: param.var() for name, param in self._reg_params.items()}
            with self.name_scope():
                out = self.hybrid_forward(symbol, *grouped_inputs, **params)  # pylint: disable=no-value-for-parameter
            out, self._out_format = _flatten(out, "output")
            self._cached_graph = inputs, symbol.Group(out)
        return self._cached_graph

    def _build_cache(self, *args):
        """Makes the CachedOp and the recipe of its arguments (inputs and parameters in list_inputs order)."""
        data, out = self._get_graph(*args)
        data_names = {variable.name: i for i, variable in enumerate(data)}
        params = self.collect_params()
        input_names = out.list_inputs()
        param_names = set(params.keys())
        expected_names = set(input_names)
        for name in expected_names:
            if name not in param_names and name not in data_names:
                raise ValueError("Unknown input to HybridBlock: %s" % name)
        unused_data = [i for name, i in data_names.items() if name not in expected_names]
        if unused_data:
            warnings.warn("The %s input to HybridBlock is not used by any computation. Is this intended?"
                          % ", ".join("%d-th" % i for i in unused_data), stacklevel=4)
        unused_params = [name for name in params.keys() if name not in expected_names]
        if unused_params:
            warnings.warn("Parameter %s is not used by any computation. Is this intended?"
                          % ", ".join(unused_params), stacklevel=4)
        data_indices, param_indices = [], []
        self._cached_op_args = []
        for i, name in enumerate(input_names):
            if name in data_names:
                data_indices.append(i)
                self._cached_op_args.append((True, data_names[name]))
            else:
                param_indices.append(i)
                self._cached_op_args.append((False, params[name]))
        flags = [("data_indices", data_indices), ("param_indices", param_indices)] + self._flags
        self._cached_op = ndarray.CachedOp(out, flags)

    def _deferred_infer_shape(self, *args):
        try:
            self.infer_shape(*args)
        except Exception as error:
            raise ValueError("Deferred initialization failed because shape cannot be inferred. {}"
                             .format(error)) from error

    def _call_cached_op(self, *args):
        if self._cached_op is None:
            self._build_cache(*args)
        args, fmt = _flatten(args, "input")
        if fmt != self._in_format:
            raise ValueError("Invalid input format: the block was traced with inputs structured as %s, called with %s"
                             % (self._in_format, fmt))
        args = [arg for arg in args if arg is not None]
        try:
            cargs = [args[i] if is_arg else i.data() for is_arg, i in self._cached_op_args]
        except DeferredInitializationError:
            self._deferred_infer_shape(*args)
            cargs = []
            for is_arg, i in self._cached_op_args:
                if is_arg:
                    cargs.append(args[i])
                else:
                    i._finish_deferred_init()
                    cargs.append(i.data())
        out = self._cached_op(*cargs)
        if isinstance(out, NDArray):
            out = [out]
        return _regroup(list(out), self._out_format)[0]

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._cached_op = None

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError("Children of HybridBlock must also be HybridBlock, but %s has type %s. If you are using "
                             "Sequential, please try HybridSequential instead." % (str(block), str(type(block))))
        super().register_child(block, name)
        self._clear_cached_op()

    def hybridize(self, active=True, backend=None, backend_opts=None, clear=True, partition_if_dynamic=True,
                  **kwargs):
        """Turns hybrid execution on (or off): the next call traces the block and later calls run the graph.
        kwargs are CachedOp flags: static_alloc, static_shape (MXNet's), forward/backward_bulk_size, ...;
        graph-partitioning backends are not supported (partition_if_dynamic has nothing to do)."""
        if backend is not None:
            raise NotImplementedError("hybridize(backend=%r): graph partitioning backends are not supported"
                                      % backend)
        self._active = active
        self._flags = list(kwargs.items())
        if clear:
            self._clear_cached_op()
        if active and (self._forward_hooks or self._forward_pre_hooks):
            warnings.warn('"{block}" is being hybridized while still having forward hook/pre-hook. If "{block}" is a '
                          'child of HybridBlock, the hooks will not take effect.'.format(block=self))
        super().hybridize(active, **kwargs)

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    def _infer_attrs(self, infer_fn, attr, *args):
        """Infers `attr` ('shape' or 'dtype') of every parameter from the inputs through the traced graph."""
        inputs, out = self._get_graph(*args)
        args = [arg for arg in _flatten(args, "input")[0] if arg is not None]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arg_attrs, _, aux_attrs = getattr(out, infer_fn)(
                **{variable.name: getattr(value, attr) for variable, value in zip(inputs, args)})
        if arg_attrs is None:
            raise ValueError(str(caught[0].message) if caught else "%s failed" % infer_fn)
        found = dict(zip(out.list_arguments(), arg_attrs))
        found.update(zip(out.list_auxiliary_states(), aux_attrs))
        for param in self.collect_params().values():
            if param.name in found:
                setattr(param, attr, found[param.name])

    def infer_shape(self, *args):
        """Infers the parameters' unknown shape dimensions from the inputs."""
        self._infer_attrs("infer_shape", "shape", *args)

    def infer_type(self, *args):
        """Infers the parameters' dtypes from the inputs."""
        self._infer_attrs("infer_type", "dtype", *args)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Writes path-symbol.json and path-%04d.params (names 'arg:<name>' / 'aux:<name>') as MXNet does, for
        SymbolBlock.imports, Module or other languages. The block must have run hybridized once. Returns the two
        file names."""
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward with this block at least "
                               "once before calling export.")
        sym = self._cached_graph[1]
        symbol_file = "%s-symbol.json" % path
        sym.save(symbol_file, remove_amp_cast=remove_amp_cast)
        arg_names = set(sym.list_arguments())
        aux_names = set(sym.list_auxiliary_states())
        arg_dict = {}
        for name, param in self.collect_params().items():
            if name in arg_names:
                arg_dict["arg:%s" % name] = param._reduce()
            elif name in aux_names:
                arg_dict["aux:%s" % name] = param._reduce()
            else:
                warnings.warn("Parameter %s is not used by the exported graph and is not saved" % name)
        params_file = "%s-%04d.params" % (path, epoch)
        ndarray.save(params_file, arg_dict)
        return symbol_file, params_file

    def forward(self, x, *args):
        """Runs hybrid_forward on NDArrays (or the cached graph when hybridized), or builds it on Symbols."""
        if isinstance(x, NDArray):
            with x.context as ctx:
                if self._active:
                    return self._call_cached_op(x, *args)
                try:
                    params = {name: param.data(ctx) for name, param in self._reg_params.items()}
                except DeferredInitializationError:
                    self._deferred_infer_shape(x, *args)
                    for _, param in self.params.items():
                        param._finish_deferred_init()
                    params = {name: param.data(ctx) for name, param in self._reg_params.items()}
                return self.hybrid_forward(ndarray, x, *args, **params)
        if not isinstance(x, Symbol):
            raise TypeError("HybridBlock requires the first argument to forward be either Symbol or NDArray, but got "
                            "%s" % type(x))
        params = {name: param.var() for name, param in self._reg_params.items()}
        with self.name_scope():
            return self.hybrid_forward(symbol, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """The computation, with F = mx.nd or mx.sym; parameters arrive as keyword arguments by attribute name."""
        raise NotImplementedError


def _common_prefix(names):
    """The longest prefix shared by all `names`."""
    if not names:
        return ""
    prefix = names[0]
    for name in names:
        i = 0
        while i < len(prefix) and i < len(name) and prefix[i] == name[i]:
            i += 1
        prefix = prefix[:i]
    return prefix


class SymbolBlock(HybridBlock):
    """A block running a given Symbol: `outputs` (Symbol or list) computed from `inputs` (variables); every
    other variable of the graph becomes a Parameter (auxiliary states with grad_req='null'). params: a
    ParameterDict to take existing parameters from."""

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False, ignore_extra=False):
        """A SymbolBlock from files written by HybridBlock.export (or Module.save_checkpoint): the symbol JSON,
        the names of its input variables and, optionally, the .params file, loaded onto `ctx`."""
        sym = symbol.load(symbol_file)
        if isinstance(input_names, str):
            input_names = [input_names]
        if param_file is None:
            inputs = [symbol.var(name, dtype=mx_real_t) for name in input_names]
        else:
            inputs = [symbol.var(name) for name in input_names]
        ret = SymbolBlock(sym, inputs)
        if param_file is not None:
            ret.collect_params().load(param_file, ctx, allow_missing, ignore_extra, cast_dtype=True,
                                      dtype_source="saved")
        return ret

    def __repr__(self):
        outputs = self._cached_graph[1]
        return "{name}(\n{block} : {numinputs} -> {numoutputs}\n)".format(
            name=self.__class__.__name__, block=outputs, numinputs=len(self._cached_graph[0]),
            numoutputs=len(outputs.list_outputs()))

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix=None, params=None)
        self._prefix = ""
        self._params = ParameterDict("", params)
        if isinstance(inputs, Symbol) and len(inputs.list_outputs()) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        syms, self._in_format = _flatten(inputs, "input")
        out, self._out_format = _flatten(outputs, "output")
        out = symbol.Group(out)
        input_names = set()
        for variable in syms:
            if len(variable.get_internals().list_outputs()) != 1:
                raise ValueError("Input symbols must be variable, but %s is an output of operators" % str(variable))
            input_names.add(variable.name)
        arg_params = out.list_arguments()
        aux_params = out.list_auxiliary_states()
        arg_types, aux_types = _infer_param_types(syms, out, arg_params, aux_params)
        for name, dtype in zip(arg_params, arg_types):
            if name not in input_names:
                self.params.get(name, allow_deferred_init=True, dtype=dtype)
        for name, dtype in zip(aux_params, aux_types):
            if name not in input_names:
                self.params.get(name, grad_req="null", allow_deferred_init=True, dtype=dtype)
        self._cached_graph = syms, out
        len_prefix = len(_common_prefix(list(self._params.keys())))
        self._reg_params = {key[len_prefix:]: value for key, value in self._params.items()}

    def forward(self, x, *args):
        if isinstance(x, NDArray):
            with x.context:
                return self._call_cached_op(x, *args)
        if not isinstance(x, Symbol):
            raise TypeError("HybridBlock requires the first argument to forward be either Symbol or NDArray, but got "
                            "%s" % type(x))
        args, in_fmt = _flatten([x] + list(args), "input")
        if in_fmt != self._in_format:
            raise ValueError("Invalid input format")
        ret = copy.copy(self._cached_graph[1])
        if not hasattr(ret, "_compose"):
            raise NotImplementedError("SymbolBlock on Symbols needs Symbol composition, which polymix's Symbol does "
                                      "not have yet")
        ret._compose(**{k.name: v for k, v in zip(self._cached_graph[0], args)})
        return _regroup(list(ret), self._out_format)[0]

    def _clear_cached_op(self):
        graph = self._cached_graph
        super()._clear_cached_op()
        self._cached_graph = graph

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


def _infer_param_types(in_params, out_params, arg_params, aux_params, default_dtype=mx_real_t):
    """(arg dtypes, aux dtypes) inferred from the inputs' __dtype__ attributes, float32 where unknown."""
    arg_types = aux_types = None
    input_types = {}
    for variable in in_params:
        types = variable.infer_type()[0]
        if not types:
            input_types = None
            break
        input_types[variable.name] = types[0]
    if input_types:
        arg_types, _, aux_types = out_params.infer_type(**input_types)
    if arg_types is None or len(arg_types) != len(arg_params):
        arg_types = [default_dtype] * len(arg_params)
    if aux_types is None or len(aux_types) != len(aux_params):
        aux_types = [default_dtype] * len(aux_params)
    return arg_types, aux_types
