"""mx.executor: Executor, a Symbol bound to arrays (Symbol.bind / simple_bind / eval), over core/graph's
Executor: shapes and dtypes inferred and memory planned once at bind, each forward / backward pushed to the
engine as a whole."""

import numpy as np

from . import _core
from .base import dtype_flag, string_types
from .context import Context, current_context
from .ndarray import NDArray

__all__ = ["Executor"]

# grad_req names -> core/graph's GradReq ('inplace' writes, as in MXNet's graph executor).
_GRAD_REQ = {"null": 0, "write": 1, "inplace": 1, "add": 3}


def _req(name):
    if name not in _GRAD_REQ:
        raise ValueError("grad_req must be in %s, got %r" % (str(sorted(_GRAD_REQ)), name))
    return _GRAD_REQ[name]


def _wrap(handle):
    return None if handle is None else NDArray._from_handle(handle)


class Executor:
    """A symbol bound to argument, gradient and auxiliary-state arrays on one device (MXNet's Executor; make
    one with Symbol.bind or Symbol.simple_bind)."""

    def __init__(self, handle, symbol, ctx, grad_req, given=None):
        self.handle = handle
        self._symbol = symbol
        self._ctx = ctx
        self._grad_req = grad_req
        if given is None:
            self.arg_arrays = [_wrap(h) for h in handle.arg_arrays]
            self.grad_arrays = [_wrap(h) for h in handle.grad_arrays]
            self.aux_arrays = [_wrap(h) for h in handle.aux_arrays]
        else:
            # bind: the caller's arrays, as MXNet keeps them (grad_arrays is None without args_grad, and holds
            # the given array even where grad_req is 'null').
            self.arg_arrays, self.grad_arrays, self.aux_arrays = given
        self.outputs = [_wrap(h) for h in handle.outputs]
        self._arg_dict = None
        self._grad_dict = None
        self._aux_dict = None
        self._output_dict = None

    @staticmethod
    def _get_dict(names, arrays):
        if len(set(names)) != len(names):
            raise ValueError("Duplicate names detected, %s" % str(names))
        return dict(zip(names, arrays))

    def forward(self, is_train=False, **kwargs):
        """Runs the forward pass after copying keyword arrays (NDArrays or NumPy arrays, by argument name) into
        the argument arrays; returns the outputs. is_train: training mode (Dropout, BatchNorm statistics)."""
        if kwargs:
            arg_dict = self.arg_dict
            for name, value in kwargs.items():
                if not isinstance(value, (NDArray, np.ndarray)):
                    raise ValueError("only accept keyword argument of NDArrays and numpy.ndarray")
                if name not in arg_dict:
                    raise TypeError("Unknown argument %s" % name)
                if arg_dict[name].shape != value.shape:
                    raise ValueError("Shape not match! Argument %s, need: %s, received: %s"
                                     % (name, str(arg_dict[name].shape), str(value.shape)))
                arg_dict[name][:] = value
        self.handle.forward(bool(is_train))
        self.outputs = [_wrap(h) for h in self.handle.outputs]
        self._output_dict = None
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Runs the backward pass of the last forward into the gradient arrays (written or added as grad_req
        says). out_grads: one NDArray per output (a list, a dict by output name, or one NDArray), needed for
        outputs that are not losses."""
        if out_grads is None:
            out_grads = []
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        elif isinstance(out_grads, dict):
            out_grads = [out_grads[name] for name in self._symbol.list_outputs()]
        for grad in out_grads:
            if not isinstance(grad, NDArray):
                raise TypeError("inputs must be NDArray")
        self.handle.backward([grad.handle for grad in out_grads], bool(is_train))

    @property
    def arg_dict(self):
        """Argument name -> argument array."""
        if self._arg_dict is None:
            self._arg_dict = Executor._get_dict(self._symbol.list_arguments(), self.arg_arrays)
        return self._arg_dict

    @property
    def grad_dict(self):
        """Argument name -> gradient array (None for grad_req 'null')."""
        if self._grad_dict is None:
            self._grad_dict = Executor._get_dict(self._symbol.list_arguments(), self.grad_arrays)
        return self._grad_dict

    @property
    def aux_dict(self):
        """Auxiliary state name -> array."""
        if self._aux_dict is None:
            self._aux_dict = Executor._get_dict(self._symbol.list_auxiliary_states(), self.aux_arrays)
        return self._aux_dict

    @property
    def output_dict(self):
        """Output name -> output array."""
        if self._output_dict is None:
            self._output_dict = Executor._get_dict(self._symbol.list_outputs(), self.outputs)
        return self._output_dict

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copies parameters in by name (converting dtypes); a name the symbol does not have is a ValueError
        unless allow_extra_params."""
        for name, value in arg_params.items():
            if name in self.arg_dict:
                destination = self.arg_dict[name]
                value.astype(destination.dtype).copyto(destination)
            elif not allow_extra_params:
                raise ValueError("Find name \"%s\" that is not in the arguments" % name)
        for name, value in (aux_params or {}).items():
            if name in self.aux_dict:
                destination = self.aux_dict[name]
                value.astype(destination.dtype).copyto(destination)
            elif not allow_extra_params:
                raise ValueError("Find name %s that is not in the auxiliary states" % name)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new argument shapes (keyword tuples), sharing this one's arrays where shapes
        allow: unchanged arguments are shared, smaller ones reuse the memory, larger ones need
        allow_up_sizing; arguments whose shape changes without being given need partial_shaping."""
        shapes = {name: [int(d) for d in shape] for name, shape in kwargs.items() if isinstance(shape, tuple)}
        handle = self.handle.reshape(shapes, bool(partial_shaping), bool(allow_up_sizing))
        return Executor(handle, self._symbol, self._ctx, self._grad_req)

    def set_monitor_callback(self, callback, monitor_all=False):
        """Monitor callbacks are not available yet."""
        raise NotImplementedError("Executor.set_monitor_callback is not implemented yet")

    def debug_str(self):
        """A short description of the bound graph and its planned memory."""
        return "Symbol Outputs: %s\nArguments: %s\nTotal %d bytes planned" % (
            ", ".join(self._symbol.list_outputs()), ", ".join(self._symbol.list_arguments()),
            self.handle.planned_bytes)


def _arrays(what, given, names, allow_missing):
    """Positional NDArrays (None where missing and allowed) from a list or a name -> NDArray dict."""
    if isinstance(given, (list, tuple)):
        if len(given) != len(names):
            raise ValueError("Length of %s does not match the number of arguments: %d given, %d expected (%s)"
                             % (what, len(given), len(names), ", ".join(names)))
        arrays = list(given)
    elif isinstance(given, dict):
        missing = [name for name in names if name not in given]
        if missing and not allow_missing:
            raise ValueError("key `%s` is missing in `%s`" % (missing[0], what))
        arrays = [given.get(name) for name in names]
    else:
        raise TypeError("Only accept list of NDArrays or dict of str to NDArray")
    for array in arrays:
        if not (array is None and allow_missing) and not isinstance(array, NDArray):
            raise TypeError("Only accept list of NDArrays or dict of str to NDArray")
    return arrays


def _context(ctx):
    if ctx is None:
        return current_context()
    if not isinstance(ctx, Context):
        raise TypeError("Context type error")
    return ctx


def bind(symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
         shared_exec=None):
    """Symbol.bind: an Executor over the given arrays (used, not copied)."""
    ctx = _context(ctx)
    names = symbol.list_arguments()
    arg_arrays = _arrays("args", args, names, False)
    grad_arrays = None if args_grad is None else _arrays("args_grad", args_grad, names, True)
    aux_arrays = _arrays("aux_states", [] if aux_states is None else aux_states, symbol.list_auxiliary_states(),
                         False)
    if isinstance(grad_req, string_types):
        reqs = [_req(grad_req)] * len(names)
    elif isinstance(grad_req, (list, tuple)):
        if len(grad_req) != len(names):
            raise ValueError("grad_req has %d entries for %d arguments" % (len(grad_req), len(names)))
        reqs = [_req(item) for item in grad_req]
    elif isinstance(grad_req, dict):
        reqs = [_req(grad_req.get(name, "null")) for name in names]
    else:
        raise TypeError("grad_req must be a string, a list or a dict")
    # As MXNet: an argument without a gradient array gets no gradient, whatever its grad_req, and one whose
    # grad_req is 'null' leaves its array alone.
    grads = grad_arrays if grad_arrays is not None else [None] * len(names)
    grad_handles = [None if array is None or req == 0 else array.handle for array, req in zip(grads, reqs)]
    reqs = [0 if handle is None else req for req, handle in zip(reqs, grad_handles)]
    handle = _core.Executor.bind(symbol.handle, ctx._pair(), [array.handle for array in arg_arrays], grad_handles,
                                 reqs, [array.handle for array in aux_arrays])
    return Executor(handle, symbol, ctx, grad_req, given=(arg_arrays, grad_arrays, aux_arrays))


def simple_bind(symbol, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
    """Symbol.simple_bind: allocates every argument, gradient and auxiliary array (zeros) from the shapes of
    some arguments (keyword tuples) and their dtypes (type_dict; float32 otherwise)."""
    ctx = _context(ctx)
    if stype_dict and any(stype != "default" for stype in stype_dict.values()):
        raise NotImplementedError("sparse storage types are not supported: only 'default'")
    shapes = {name: [int(d) for d in shape] for name, shape in kwargs.items() if isinstance(shape, (tuple, list))}
    dtypes = {name: dtype_flag(dtype) for name, dtype in (type_dict or {}).items()}
    names = symbol.list_arguments()
    if isinstance(grad_req, string_types):
        reqs, default_req = {}, _req(grad_req)
    elif isinstance(grad_req, (list, tuple)):
        if len(grad_req) != len(names):
            raise ValueError("grad_req has %d entries for %d arguments" % (len(grad_req), len(names)))
        reqs, default_req = {name: _req(item) for name, item in zip(names, grad_req)}, 0
    elif isinstance(grad_req, dict):
        if not grad_req:
            raise ValueError("grad_req in simple_bind cannot be an empty dict")
        reqs, default_req = {name: _req(item) for name, item in grad_req.items()}, 0
    else:
        raise TypeError("grad_req must be a string, a list or a dict")
    handle = _core.Executor.simple_bind(symbol.handle, ctx._pair(), shapes, dtypes, reqs, default_req)
    return Executor(handle, symbol, ctx, grad_req)
