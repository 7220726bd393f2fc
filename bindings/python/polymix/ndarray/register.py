"""What every generated mx.nd function calls: Python arguments -> _core.invoke -> NDArrays.

The generated functions (ndarray/_gen_*.py, from tools/opgen) pass the op name, the inputs, the (name, value)
parameter pairs of their signature and the extra keyword arguments; values become MXNet's strings here
(base._param_str), `ctx` also selects the device, and `out=` writes into given arrays.
"""

from .. import _core
from ..base import _Null, _param_str
from ..context import Context, current_context

# Set by ndarray.py once the NDArray class exists (register.py is imported first).
_ndarray_class = None
_ops = {}


def _op(name):
    """The _core.Op called `name`, looked up once."""
    op = _ops.get(name)
    if op is None:
        op = _ops[name] = _core.get_op(name)
    return op


def _handle(array, op_name):
    try:
        return array.handle
    except AttributeError:
        raise TypeError("[%s] inputs must be NDArrays, got %s" % (op_name, type(array).__name__)) from None


def _params(pairs, kwargs):
    """(keys, values, device) from the signature's pairs and the extra keyword arguments."""
    keys, values, device = [], [], None
    for pairs_or_items in (pairs, kwargs.items()):
        for key, value in pairs_or_items:
            if value is _Null:
                continue
            if key == "ctx":
                if value is None:
                    value = current_context()
                elif not isinstance(value, Context):
                    value = Context(value)
                device = value._pair()
            keys.append(key)
            values.append(_param_str(value))
    return keys, values, device


def _wrap(handle):
    return _ndarray_class._from_handle(handle)


def _call(op_name, handles, keys, values, device, out):
    if out is None:
        out_handles = []
    elif isinstance(out, (list, tuple)):
        out_handles = [_handle(array, op_name) for array in out]
    else:
        out_handles = [_handle(out, op_name)]
    results = _core.invoke(_op(op_name), handles, keys, values, out_handles, device)
    if out is not None:
        return out
    if len(results) == 1:
        return _wrap(results[0])
    return [_wrap(handle) for handle in results]


def _invoke(op_name, inputs, pairs, kwargs, out):
    """Runs `op_name` on the non-None `inputs` with the parameters of `pairs` and `kwargs`."""
    kwargs.pop("name", None)
    handles = [_handle(array, op_name) for array in inputs if array is not None]
    keys, values, device = _params(pairs, kwargs)
    return _call(op_name, handles, keys, values, device, out)


def _invoke_variadic(op_name, inputs, count_param, stride, kwargs):
    """Runs a variadic op (Concat, add_n, ...): `count_param` defaults to len(inputs) // stride."""
    out = kwargs.pop("out", None)
    kwargs.pop("name", None)
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = inputs[0]
    if count_param not in kwargs:
        kwargs[count_param] = len(inputs) // stride
    handles = [_handle(array, op_name) for array in inputs]
    keys, values, device = _params((), kwargs)
    return _call(op_name, handles, keys, values, device, out)
