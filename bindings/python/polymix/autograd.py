"""mx.autograd: record operator calls on NDArrays and differentiate them (core/autograd)."""

from . import _core
from .ndarray.ndarray import _GRAD_REQ_MAP, NDArray

__all__ = ["set_recording", "set_training", "is_recording", "is_training", "record", "pause", "train_mode",
           "predict_mode", "mark_variables", "backward", "grad", "get_symbol", "Function"]


def set_recording(is_recording):
    """Turns recording on or off for this thread; returns the previous state."""
    return _core.set_recording(bool(is_recording))


def set_training(train_mode):
    """Turns training mode on or off for this thread; returns the previous state."""
    return _core.set_training(bool(train_mode))


def is_recording():
    """Whether operator calls on this thread are being recorded."""
    return _core.is_recording()


def is_training():
    """Whether operators on this thread run in training mode (Dropout, BatchNorm)."""
    return _core.is_training()


class _RecordingStateScope:
    """Sets recording and training flags inside a `with` block and restores them after it.
    None leaves a flag as it is."""

    def __init__(self, is_record, train_mode):
        self._enter_is_record = is_record
        self._enter_train_mode = train_mode
        self._prev_is_record = None
        self._prev_train_mode = None

    def __enter__(self):
        if self._enter_is_record is not None:
            self._prev_is_record = set_recording(self._enter_is_record)
        if self._enter_train_mode is not None:
            self._prev_train_mode = set_training(self._enter_train_mode)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self._enter_is_record is not None and self._prev_is_record != self._enter_is_record:
            set_recording(self._prev_is_record)
        if self._enter_train_mode is not None and self._prev_train_mode != self._enter_train_mode:
            set_training(self._prev_train_mode)


def record(train_mode=True):
    """`with record():` records operator calls (in training mode unless train_mode=False)."""
    return _RecordingStateScope(True, train_mode)


def pause(train_mode=False):
    """`with pause():` stops recording (and training mode unless train_mode=True) inside a record block."""
    return _RecordingStateScope(False, train_mode)


def train_mode():
    """`with train_mode():` runs operators in training mode without changing recording."""
    return _RecordingStateScope(None, True)


def predict_mode():
    """`with predict_mode():` runs operators in inference mode without changing recording."""
    return _RecordingStateScope(None, False)


def _handles(arrays, what):
    if isinstance(arrays, NDArray):
        return [arrays.handle]
    try:
        return [array.handle for array in arrays]
    except (AttributeError, TypeError):
        raise TypeError("%s must be an NDArray or a list of NDArrays" % what) from None


def mark_variables(variables, gradients, grad_reqs="write"):
    """Marks NDArrays as variables whose gradients a backward pass writes into `gradients` (grad_reqs:
    'write', 'add' or 'null', one for all or one per variable)."""
    variables = [variables] if isinstance(variables, NDArray) else list(variables)
    gradients = [gradients] if isinstance(gradients, NDArray) else list(gradients)
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if len(variables) != len(gradients) or len(variables) != len(grad_reqs):
        raise ValueError("mark_variables: %d variables, %d gradients and %d grad_reqs: expected equal counts"
                         % (len(variables), len(gradients), len(grad_reqs)))
    _core.mark_variables([v.handle for v in variables], [g.handle for g in gradients],
                         [_GRAD_REQ_MAP[req] for req in grad_reqs])


def _head_grads(heads, head_grads):
    if head_grads is None:
        return [None] * len(heads)
    if isinstance(head_grads, NDArray):
        head_grads = [head_grads]
    if len(head_grads) != len(heads):
        raise ValueError("heads and head_grads must have the same length: %d vs %d"
                         % (len(heads), len(head_grads)))
    return [None if g is None else g.handle for g in head_grads]


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # pylint: disable=redefined-outer-name
    """Computes the gradients of `heads` with respect to the marked variables (into their gradient buffers)."""
    handles = _handles(heads, "heads")
    _core.backward(handles, _head_grads(handles, head_grads), retain_graph, False, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):  # pylint: disable=redefined-outer-name
    """The gradients of `heads` with respect to `variables`, returned instead of written into buffers.
    retain_graph defaults to create_graph, as in MXNet; create_graph records the gradient computation so it
    can be differentiated again."""
    head_handles = _handles(heads, "heads")
    single = isinstance(variables, NDArray)
    variable_handles = _handles(variables, "variables")
    if retain_graph is None:
        retain_graph = create_graph
    results = _core.grad(head_handles, variable_handles, _head_grads(head_handles, head_grads), retain_graph,
                         create_graph, train_mode)
    grads = [NDArray._from_handle(handle) for handle in results]
    return grads[0] if single else grads


def get_symbol(x):
    """The recorded graph of `x` as a Symbol: not available yet."""
    raise NotImplementedError("autograd.get_symbol is not implemented yet")


class Function:
    """Custom differentiable functions (MXNet's autograd.Function): not available yet."""

    def __init__(self):
        raise NotImplementedError("autograd.Function is not implemented yet")
