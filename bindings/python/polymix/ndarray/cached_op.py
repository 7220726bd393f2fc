"""mx.nd.CachedOp: a Symbol called like one operator on NDArrays (what Gluon's hybridize runs), over
core/graph's CachedOp: compiled once per input signature, recorded by autograd as one node."""

from .. import _core
from . import _internal
from .ndarray import NDArray

__all__ = ["CachedOp"]


class CachedOp:
    """CachedOp(sym, flags=()): call it with the symbol's inputs (every variable, in sym.list_inputs() order);
    it returns an NDArray for one output, else a list. flags are MXNet's (key, value) pairs (or a dict):
    static_alloc, static_shape, forward_bulk_size, backward_bulk_size; inline_limit, data_indices and
    param_indices are accepted and change nothing here."""

    __slots__ = ["handle", "_input_names", "__weakref__"]

    def __init__(self, sym, flags=()):
        pairs = flags.items() if isinstance(flags, dict) else flags
        self.handle = _core.CachedOp(sym.handle, {str(key): str(value) for key, value in pairs})
        self._input_names = self.handle.input_names

    def __call__(self, *args, **kwargs):
        out = kwargs.pop("out", None)
        if kwargs:
            raise TypeError("CachedOp.__call__ got unexpected keyword argument(s): " + ", ".join(kwargs.keys()))
        if len(args) != len(self._input_names):
            raise ValueError("CachedOp expects %d inputs (%s), got %d"
                             % (len(self._input_names), ", ".join(self._input_names), len(args)))
        for name, arg in zip(self._input_names, args):
            if not isinstance(arg, NDArray):
                raise TypeError("CachedOp input %s must be an NDArray, got %s" % (name, type(arg).__name__))
        results = [NDArray._from_handle(handle) for handle in self.handle([arg.handle for arg in args])]
        if out is not None:
            targets = [out] if isinstance(out, NDArray) else list(out)
            if len(targets) != len(results):
                raise ValueError("out= has %d arrays for %d outputs" % (len(targets), len(results)))
            for result, target in zip(results, targets):
                _internal._copy(result, out=target)  # Recorded like the op's output under autograd.
            return out
        return results[0] if len(results) == 1 else results
