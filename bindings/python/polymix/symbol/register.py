"""What every generated mx.sym function calls: Python arguments -> _core.Symbol.create -> Symbol.

Inputs may be given positionally, by input name, or (as MXNet allows) as Symbol-valued keyword arguments;
other keyword arguments are parameters, turned into MXNet's strings by base._param_str. Names come from
mx.name's NameManager (hint: the function's name lowercased, as MXNet) and attributes from mx.AttrScope.
"""

from .. import _core
from ..attribute import AttrScope
from ..base import _Null, _param_str
from ..name import NameManager

# Set by symbol.py once the Symbol class exists.
_symbol_class = None


def _handle(symbol, op_name):
    if not isinstance(symbol, _symbol_class):
        raise TypeError("[%s] inputs must be Symbols, got %s" % (op_name, type(symbol).__name__))
    return symbol.handle


def _split_kwargs(op_name, pairs, kwargs, named):
    """Parameters (name -> MXNet string) from the signature's pairs and kwargs; Symbol kwargs join `named`."""
    params = {}
    for pairs_or_items in (pairs, kwargs.items()):
        for key, value in pairs_or_items:
            if value is _Null:
                continue
            if isinstance(value, _symbol_class):
                named[key] = _handle(value, op_name)
            else:
                params[key] = _param_str(value)
    return params


def _attributes(attr):
    attributes = AttrScope.current().get(attr)
    return {key: str(value) for key, value in attributes.items()}


def _make(op_name, hint, positional, named, params, name, attr):
    name = NameManager.current().get(name, hint)
    handle = _core.Symbol.create(op_name, positional, named, params, name, _attributes(attr))
    return _symbol_class(handle)


def _create(op_name, hint, inputs, pairs, kwargs, name, attr):
    """Creates a node of `op_name` on the given (input name, Symbol or None) pairs."""
    named = {key: _handle(value, op_name) for key, value in inputs if value is not None}
    params = _split_kwargs(op_name, pairs, kwargs, named)
    return _make(op_name, hint, [], named, params, name, attr)


def _create_variadic(op_name, hint, inputs, count_param, stride, kwargs):
    """Creates a node of a variadic op (Concat, add_n, ...); `count_param` defaults to len(inputs) // stride."""
    name = kwargs.pop("name", None)
    attr = kwargs.pop("attr", None)
    kwargs.pop("out", None)
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = inputs[0]
    positional = [_handle(symbol, op_name) for symbol in inputs]
    if count_param not in kwargs:
        kwargs[count_param] = len(positional) // stride
    named = {}
    params = _split_kwargs(op_name, (), kwargs, named)
    return _make(op_name, hint, positional, named, params, name, attr)


def _scalar(op_name, hint, symbol, scalar):
    """A node of a one-input op with a `scalar` parameter (x + 1 -> _plus_scalar)."""
    return _make(op_name, hint, [_handle(symbol, op_name)], {}, {"scalar": _param_str(scalar)}, None, None)


def _binary(op_name, hint, lhs, rhs):
    """A node of a two-input op (x + y -> elemwise_add, named '_plus0' as in MXNet)."""
    return _make(op_name, hint, [_handle(lhs, op_name), _handle(rhs, op_name)], {}, {}, None, None)
