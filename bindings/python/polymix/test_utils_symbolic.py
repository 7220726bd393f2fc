"""mx.test_utils' symbolic checks, as MXNet 1.x tests use them: check_numeric_gradient (backward against central
finite differences), check_symbolic_forward and check_symbolic_backward (a bound symbol against expected arrays).
Re-exported by mx.test_utils."""

import numpy as np

from .context import current_context
from .ndarray.ndarray import NDArray
from .ndarray.utils import array, zeros

__all__ = ["numeric_grad", "check_numeric_gradient", "check_symbolic_forward", "check_symbolic_backward"]


def _as_numpy(value, dtype):
    return (value.asnumpy() if isinstance(value, NDArray) else np.asarray(value)).astype(dtype)


def _named_arrays(names, given, what, dtype):
    """{name: numpy array} from `given` (a dict by name or a list in `names` order); clear errors otherwise."""
    if given is None:
        given = {}
    if isinstance(given, dict):
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ValueError("%s: %s not among the symbol's %s %s" % (what, unknown, what, list(names)))
        missing = [name for name in names if name not in given]
        if missing:
            raise ValueError("%s: expected a value for every one of %s, missing %s" % (what, list(names), missing))
        return {name: _as_numpy(given[name], dtype) for name in names}
    given = list(given)
    if len(given) != len(names):
        raise ValueError("%s: expected %d arrays (for %s), got %d" % (what, len(names), list(names), len(given)))
    return {name: _as_numpy(value, dtype) for name, value in zip(names, given)}


def _bind(sym, ctx, location, aux_states, grad_req, dtype):
    """Binds `sym` on copies of the given arrays, with zero gradient arrays for every argument not 'null'."""
    args = {name: array(value, ctx=ctx, dtype=dtype) for name, value in location.items()}
    if isinstance(grad_req, str):
        grad_req = {name: grad_req for name in location}
    args_grad = {name: zeros(value.shape, ctx=ctx, dtype=dtype) for name, value in location.items()
                 if grad_req.get(name, "null") != "null"}
    aux = {name: array(value, ctx=ctx, dtype=dtype) for name, value in aux_states.items()}
    return sym.bind(ctx, args=args, args_grad=args_grad, grad_req=grad_req, aux_states=aux)


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True, dtype=np.float32):
    """Central finite differences of the sum of executor's first output with respect to each array of `location`
    (a dict name -> numpy array), evaluated one element at a time: {name: gradient array}."""
    for name, value in (aux_states or {}).items():
        executor.aux_dict[name][:] = value
    for name, value in location.items():
        executor.arg_dict[name][:] = value

    def objective():
        executor.forward(is_train=use_forward_train)
        return float(executor.outputs[0].asnumpy().astype(np.float64).sum())

    grads = {}
    for name, value in location.items():
        point = np.array(value, dtype=dtype)
        grad = np.zeros(point.shape, dtype=np.float64)
        flat, grad_flat = point.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps / 2
            executor.arg_dict[name][:] = point
            upper = objective()
            flat[i] = original - eps / 2
            executor.arg_dict[name][:] = point
            lower = objective()
            flat[i] = original
            grad_flat[i] = (upper - lower) / eps
        executor.arg_dict[name][:] = point
        grads[name] = grad
    return grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=1e-3, rtol=1e-2, atol=None, grad_nodes=None,
                           use_forward_train=True, ctx=None, grad_stype_dict=None, dtype=np.float32):
    """Checks sym's backward against central finite differences, as MXNet does: the output is projected on a
    random array (so every output element matters), the projection's sum is differentiated both ways, and the
    two gradients must agree within rtol/atol for every argument in `grad_nodes` (default: all of them;
    a list, or a dict name -> grad_req). `location`/`aux_states`: the arguments' and auxiliary states' values
    (dict by name or list in order). Raises AssertionError naming the argument that differs."""
    from . import symbol as sym_mod  # pylint: disable=import-outside-toplevel
    from .test_utils import assert_almost_equal  # pylint: disable=import-outside-toplevel
    if grad_stype_dict:
        raise NotImplementedError("check_numeric_gradient: grad_stype_dict (sparse gradients) is not supported")
    ctx = ctx or current_context()
    location = _named_arrays(sym.list_arguments(), location, "arguments", dtype)
    aux_states = _named_arrays(sym.list_auxiliary_states(), aux_states, "auxiliary states", dtype)
    if grad_nodes is None:
        grad_nodes = {name: "write" for name in location}
    elif isinstance(grad_nodes, (list, tuple)):
        grad_nodes = {name: "write" for name in grad_nodes}
    unknown = sorted(set(grad_nodes) - set(location))
    if unknown:
        raise ValueError("grad_nodes: %s are not arguments of the symbol (%s)" % (unknown, sorted(location)))

    _, out_shapes, _ = sym.infer_shape(**{name: value.shape for name, value in location.items()})
    if out_shapes is None or len(out_shapes) != 1:
        raise ValueError("check_numeric_gradient: expected a symbol with one output, got %s"
                         % (len(out_shapes) if out_shapes else "unknown outputs"))
    projection = np.random.uniform(-1.0, 1.0, size=out_shapes[0]).astype(dtype)
    projected = sym_mod.sum(sym * sym_mod.var("__random_proj"))
    full_location = dict(location, __random_proj=projection)
    grad_req = dict({name: "null" for name in full_location}, **grad_nodes)
    executor = _bind(projected, ctx, full_location, aux_states, grad_req, dtype)
    executor.forward(is_train=use_forward_train)
    executor.backward([array(np.ones(executor.outputs[0].shape, dtype=dtype), ctx=ctx, dtype=dtype)])
    symbolic = {name: executor.grad_dict[name].asnumpy() for name in grad_nodes}

    numeric = numeric_grad(executor, {name: location[name] for name in grad_nodes}, aux_states, eps=numeric_eps,
                           use_forward_train=use_forward_train, dtype=dtype)
    for name in grad_nodes:
        assert_almost_equal(numeric[name], symbolic[name], rtol=rtol, atol=atol,
                            names=("NUMERICAL_%s" % name, "BACKWARD_%s" % name))


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None, ctx=None,
                           equal_nan=False, dtype=np.float32):
    """Binds `sym` on `location` (dict or list), runs forward (inference) and compares every output with
    `expected` (a list in output order, or a dict by output name). Returns the outputs as NumPy arrays."""
    from .test_utils import assert_almost_equal  # pylint: disable=import-outside-toplevel
    ctx = ctx or current_context()
    location = _named_arrays(sym.list_arguments(), location, "arguments", dtype)
    aux_states = _named_arrays(sym.list_auxiliary_states(), aux_states, "auxiliary states", dtype)
    if isinstance(expected, dict):
        expected = [expected[name] for name in sym.list_outputs()]
    executor = _bind(sym, ctx, location, aux_states, "null", dtype)
    outputs = [output.asnumpy() for output in executor.forward(is_train=False)]
    if len(expected) != len(outputs):
        raise ValueError("expected: %d arrays for %d outputs" % (len(expected), len(outputs)))
    for name, want, got in zip(sym.list_outputs(), expected, outputs):
        assert_almost_equal(want, got, rtol=rtol, atol=atol, names=("EXPECTED_%s" % name, "FORWARD_%s" % name),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False, dtype=np.float32):
    """Binds `sym` on `location`, runs forward (training) and backward with `out_grads`, and compares the
    gradients with `expected` (a dict by argument name, or a list in argument order; arguments left out or
    with grad_req 'null' are not checked). grad_req 'add' starts from random gradients and expects them added.
    Returns the gradients as a dict of NumPy arrays."""
    from .test_utils import assert_almost_equal  # pylint: disable=import-outside-toplevel
    if grad_stypes:
        raise NotImplementedError("check_symbolic_backward: grad_stypes (sparse gradients) is not supported")
    ctx = ctx or current_context()
    names = sym.list_arguments()
    location = _named_arrays(names, location, "arguments", dtype)
    aux_states = _named_arrays(sym.list_auxiliary_states(), aux_states, "auxiliary states", dtype)
    if not isinstance(expected, dict):
        expected = dict(zip(names, expected))
    if isinstance(grad_req, str):
        grad_req = {name: grad_req for name in names}
    elif isinstance(grad_req, (list, tuple)):
        grad_req = dict(zip(names, grad_req))
    executor = _bind(sym, ctx, location, aux_states, grad_req, dtype)
    initial = {}
    for name, req in grad_req.items():
        if req == "add":
            initial[name] = np.random.normal(size=location[name].shape).astype(dtype)
            executor.grad_dict[name][:] = initial[name]
    executor.forward(is_train=True)
    if isinstance(out_grads, dict):
        out_grads = [out_grads[name] for name in sym.list_outputs()]
    elif isinstance(out_grads, (np.ndarray, NDArray)):
        out_grads = [out_grads]
    executor.backward([array(_as_numpy(grad, dtype), ctx=ctx, dtype=dtype) for grad in out_grads])
    grads = {name: executor.grad_dict[name].asnumpy() for name, req in grad_req.items() if req != "null"}
    for name, want in expected.items():
        if grad_req.get(name, "null") == "null":
            continue
        want = _as_numpy(want, dtype) + initial.get(name, 0)
        assert_almost_equal(want, grads[name], rtol=rtol, atol=atol,
                            names=("EXPECTED_%s" % name, "BACKWARD_%s" % name), equal_nan=equal_nan)
    return grads
