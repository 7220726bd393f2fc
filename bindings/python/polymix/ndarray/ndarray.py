"""NDArray with MXNet 1.x semantics: an asynchronous n-dimensional array on a device.

Arithmetic between arrays broadcasts (MXNet 1.x's NDArray maps `+` to broadcast_add), scalars go through the
_*_scalar operators, in-place operators write into the array (out=self), and everything is recorded when
autograd records. Host data crosses through the buffer protocol and DLPack, never NumPy's C API.
"""

import operator

import numpy as np

from .. import _core
from ..base import dtype_flag, dtype_type, numeric_types
from ..context import Context, _from_pair
from . import _internal, indexing, op, register

__all__ = ["NDArray", "add", "subtract", "multiply", "divide", "true_divide", "modulo", "power", "maximum",
           "minimum", "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and",
           "logical_or", "logical_xor", "waitall", "from_dlpack", "to_dlpack_for_read",
           "to_dlpack_for_write", "from_numpy", "_GRAD_REQ_MAP"]

# grad_req names -> core/autograd's GradReq values (MXNet's OpReqType).
_GRAD_REQ_MAP = {"null": 0, "write": 1, "add": 3}

# DLPack device types of MXNet's device types (cpu, cuda, cuda_host).
_DLPACK_DEVICE = {1: 1, 2: 2, 3: 3}


class NDArray:
    """An n-dimensional array on a device (MXNet's mx.nd.NDArray). Operations run asynchronously;
    asnumpy(), asscalar() and wait_to_read() wait for them."""

    __slots__ = ("handle", "writable", "__weakref__")
    # NumPy defers binary operators with an NDArray on the right to NDArray's reflected ones.
    __array_priority__ = 1000.0

    def __init__(self, handle=None, writable=True):
        self.handle = handle if handle is not None else _core.Array()
        self.writable = writable

    @classmethod
    def _from_handle(cls, handle, writable=True):
        array = cls.__new__(cls)
        array.handle = handle
        array.writable = writable
        return array

    # ---- Properties ----------------------------------------------------------------------------------

    @property
    def shape(self):
        """The dimensions, a tuple of ints."""
        return self.handle.shape

    @property
    def size(self):
        """The number of elements."""
        return self.handle.size

    @property
    def ndim(self):
        """The number of dimensions."""
        return self.handle.ndim

    @property
    def dtype(self):
        """The element type as a NumPy type (np.float32, ...), as MXNet returns it."""
        return dtype_type(self.handle.dtype)

    @property
    def context(self):
        """The device the data lives on."""
        return _from_pair(self.handle.device)

    ctx = context

    @property
    def stype(self):
        """The storage type: always 'default' (dense)."""
        return "default"

    @property
    def T(self):
        """The transpose (reversed axes); arrays of fewer than 2 dimensions are returned as they are."""
        if self.ndim < 2:
            return self
        return op.transpose(self)

    @property
    def grad(self):
        """The gradient buffer attached by attach_grad (None if there is none)."""
        grad = _core.grad_of(self.handle)
        return None if grad is None else NDArray._from_handle(grad)

    @property
    def _fresh_grad(self):
        """Whether a backward wrote this variable's gradient since the flag was last cleared (Gluon's Trainer
        reads it to find stale gradients); False for an array without attach_grad."""
        return _core.grad_is_fresh(self.handle)

    @_fresh_grad.setter
    def _fresh_grad(self, state):
        _core.set_grad_fresh(self.handle, bool(state))

    # ---- Printing, conversion --------------------------------------------------------------------------

    def __repr__(self):
        if self.handle.is_none:
            return "<%s None>" % type(self).__name__
        shape_info = "x".join("%d" % dim for dim in self.shape)
        return "\n%s\n<%s %s @%s>" % (str(self.asnumpy()), type(self).__name__, shape_info, self.context)

    def asnumpy(self):
        """A NumPy copy of the data (waits for pending writes)."""
        result = np.empty(self.shape, dtype=self.dtype)
        self.handle.copy_to_host(result)
        return result

    def asscalar(self):
        """The value of a one-element array as a NumPy scalar."""
        if self.size != 1:
            raise ValueError("The current array is not a scalar")
        return self.asnumpy().reshape(-1)[0]

    def __array__(self, dtype=None, copy=None):
        result = self.asnumpy()
        return result if dtype is None else result.astype(dtype, copy=False)

    def __dlpack__(self, stream=None):
        """A DLPack capsule sharing this array's memory (waits for pending writes)."""
        return self.handle.to_dlpack()

    def __dlpack_device__(self):
        device_type, device_id = self.handle.device
        return (_DLPACK_DEVICE[device_type], device_id)

    def to_dlpack_for_read(self):
        """A DLPack capsule for reading (waits for pending writes)."""
        return to_dlpack_for_read(self)

    def to_dlpack_for_write(self):
        """A DLPack capsule for writing (waits for pending reads and writes)."""
        return to_dlpack_for_write(self)

    def __getstate__(self):
        return {"handle": None if self.handle.is_none else _core.save_bytes([self.handle], [])}

    def __setstate__(self, state):
        data = state["handle"]
        self.handle = _core.Array() if data is None else _core.load_bytes(data)[0][0]
        self.writable = True

    def __reduce__(self):
        return NDArray, (None,), self.__getstate__()

    # ---- Synchronisation, copies -----------------------------------------------------------------------

    def wait_to_read(self):
        """Blocks until pending writes to this array finish; raises a stored error."""
        self.handle.wait_to_read()

    def wait_to_write(self):
        """Blocks until pending reads and writes of this array finish."""
        self.handle.wait_to_write()

    def astype(self, dtype, copy=True):
        """A copy converted to `dtype` (or this array when copy=False and the dtype already matches)."""
        if not copy and dtype_flag(dtype) == self.handle.dtype:
            return self
        return op.Cast(self, dtype=dtype)

    def copy(self):
        """A copy on the same device."""
        return self.copyto(self.context)

    def copyto(self, other):
        """Copies into `other` (an NDArray, converting dtype) or to a new array on a Context."""
        if isinstance(other, NDArray):
            if other.handle is self.handle:
                return other
            if other.handle.device == self.handle.device and other.handle.dtype == self.handle.dtype:
                return _internal._copy(self, out=other)
            self.handle.copy_into(other.handle)
            return other
        if isinstance(other, Context):
            if other._pair() == self.handle.device:
                return _internal._copy(self)
            return NDArray._from_handle(self.handle.copy_to_device(other._pair()))
        raise TypeError("copyto does not support type %s" % type(other).__name__)

    def as_in_context(self, context):
        """This array if it is on `context`, else a copy there."""
        if self.context == context:
            return self
        return self.copyto(context)

    as_in_ctx = as_in_context

    def tostype(self, stype):
        """A copy with storage type `stype`; only 'default' (dense) exists."""
        if stype != "default":
            raise NotImplementedError("storage type %r is not supported: only 'default'" % stype)
        return self.copy()

    # ---- Views ------------------------------------------------------------------------------------------

    def reshape(self, *shape, **kwargs):
        """A view with a new shape; MXNet's special values 0 (copy), -1 (infer), -2 (copy the rest), -3
        (merge two), -4 (split one) and reverse=True (infer from the right) are understood."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        elif not shape:
            shape = kwargs.get("shape")
            if shape is None:
                raise TypeError("reshape needs a shape")
        unknown = [key for key in kwargs if key not in ("shape", "reverse")]
        if unknown:
            raise TypeError("Got unknown keywords in reshape: %s. Accepted keyword arguments are 'shape' and "
                            "'reverse'." % ", ".join(unknown))
        dims = [int(dim) for dim in (shape if isinstance(shape, (list, tuple)) else (shape,))]
        return NDArray._from_handle(self.handle.reshape(dims, bool(kwargs.get("reverse", False))), self.writable)

    def _slice(self, start, stop):
        """Rows [start, stop) along axis 0, sharing memory (recorded as an op under autograd)."""
        return NDArray._from_handle(self.handle.slice(start, stop), self.writable)

    def _at(self, index):
        """Row `index` along axis 0 (shape[1:]), sharing memory (recorded as an op under autograd)."""
        return NDArray._from_handle(self.handle.at(index), self.writable)

    def __getitem__(self, key):
        return indexing.getitem(self, key)

    def __setitem__(self, key, value):
        if not self.writable:
            raise ValueError("Cannot assign to readonly NDArray")
        indexing.setitem(self, key, value)

    def broadcast_to(self, shape):
        """Broadcasts to `shape` (size-1 axes, and missing leading axes, are repeated)."""
        shape = tuple(shape)
        current = self.shape
        if len(shape) < len(current):
            raise ValueError("cannot broadcast an array of shape %s to %s" % (current, shape))
        padded = (1,) * (len(shape) - len(current)) + current
        if any(c != s and c != 1 for c, s in zip(padded, shape)):
            raise ValueError("cannot broadcast an array of shape %s to %s" % (current, shape))
        source = self.reshape(padded) if padded != current else self
        return op.broadcast_to(source, shape=shape)

    def broadcast_like(self, other):
        """Broadcasts to the shape of `other`."""
        return self.broadcast_to(other.shape)

    # ---- Autograd --------------------------------------------------------------------------------------

    def attach_grad(self, grad_req="write", stype=None):
        """Attaches a zero gradient buffer: this array becomes a variable of future recordings."""
        if stype not in (None, "default"):
            raise NotImplementedError("gradient storage type %r is not supported" % stype)
        _core.mark_variables([self.handle], [None], [_GRAD_REQ_MAP[grad_req]])

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Computes the gradients of this array with respect to the variables it was computed from."""
        head_grads = [None if out_grad is None else out_grad.handle]
        _core.backward([self.handle], head_grads, retain_graph, False, train_mode)

    def detach(self):
        """The same data outside any recorded graph."""
        return NDArray._from_handle(_core.detach(self.handle), self.writable)

    # ---- Python protocols -----------------------------------------------------------------------------

    def __len__(self):
        return self.shape[0]

    def __bool__(self):
        size = self.size
        if size == 0:
            return False
        if size == 1:
            return bool(self.asnumpy().reshape(-1)[0])
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __hash__(self):
        return id(self) // 16

    def __neg__(self):
        return _internal._mul_scalar(self, scalar=-1.0)

    def __pos__(self):
        return self

    def __abs__(self):
        return op.abs(self)

    def __add__(self, other):
        if isinstance(other, NDArray):
            return _array_op("broadcast_add", self, other)
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        if isinstance(other, NDArray):
            return _array_op("broadcast_sub", self, other)
        return subtract(self, other)

    def __rsub__(self, other):
        return subtract(other, self)

    def __mul__(self, other):
        if isinstance(other, NDArray):
            return _array_op("broadcast_mul", self, other)
        return multiply(self, other)

    def __rmul__(self, other):
        return multiply(other, self)

    def __truediv__(self, other):
        if isinstance(other, NDArray):
            return _array_op("broadcast_div", self, other)
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    __div__, __rdiv__ = __truediv__, __rtruediv__

    def __mod__(self, other):
        return modulo(self, other)

    def __rmod__(self, other):
        return modulo(other, self)

    def __pow__(self, other):
        return power(self, other)

    def __rpow__(self, other):
        return power(other, self)

    def __eq__(self, other):
        return equal(self, other)

    def __ne__(self, other):
        return not_equal(self, other)

    def __gt__(self, other):
        return greater(self, other)

    def __ge__(self, other):
        return greater_equal(self, other)

    def __lt__(self, other):
        return lesser(self, other)

    def __le__(self, other):
        return lesser_equal(self, other)

    def _inplace(self, other, array_op, scalar_op, verb):
        if not self.writable:
            raise ValueError("trying to %s a readonly NDArray" % verb)
        if isinstance(other, NDArray):
            return array_op(self, other, out=self)
        if isinstance(other, numeric_types):
            return scalar_op(self, scalar=float(other), out=self)
        raise TypeError("type %s not supported" % type(other).__name__)

    def __iadd__(self, other):
        return self._inplace(other, op.broadcast_add, _internal._plus_scalar, "add to")

    def __isub__(self, other):
        return self._inplace(other, op.broadcast_sub, _internal._minus_scalar, "subtract from")

    def __imul__(self, other):
        return self._inplace(other, op.broadcast_mul, _internal._mul_scalar, "multiply")

    def __itruediv__(self, other):
        return self._inplace(other, op.broadcast_div, _internal._div_scalar, "divide")

    __idiv__ = __itruediv__

    def __imod__(self, other):
        return self._inplace(other, op.broadcast_mod, _internal._mod_scalar, "take the modulo of")


# Operators callable as methods (x.sum(axis=1)), as MXNet's "fluent" methods: x.f(...) is op.f(x, ...).
_FLUENT_METHODS = [
    "reshape_like", "zeros_like", "ones_like", "broadcast_axes", "repeat", "pad", "swapaxes", "split", "slice",
    "slice_axis", "slice_like", "take", "one_hot", "pick", "sort", "topk", "argsort", "argmax", "argmax_channel",
    "argmin", "clip", "abs", "sign", "flatten", "shape_array", "size_array", "expand_dims", "tile", "transpose",
    "flip", "depth_to_space", "space_to_depth", "diag", "sum", "nansum", "prod", "nanprod", "mean", "max", "min",
    "norm", "round", "rint", "fix", "floor", "ceil", "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "degrees", "radians", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "expm1", "log", "log10",
    "log2", "log1p", "sqrt", "rsqrt", "cbrt", "rcbrt", "square", "reciprocal", "relu", "sigmoid", "softmax",
    "log_softmax", "softmin", "squeeze",
]


def _fluent(name):
    function = getattr(op, name)

    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = "Convenience fluent method for :py:func:`%s`: x.%s(...) is %s(x, ...)." % (name, name, name)
    return method


for _name in _FLUENT_METHODS:
    if hasattr(op, _name):
        setattr(NDArray, _name, _fluent(_name))

register._ndarray_class = NDArray


# ---- Elementwise functions with MXNet 1.x's dispatch on arrays and scalars -----------------------------

_NO_STRINGS = []
_NO_HANDLES = []


def _array_op(op_name, lhs, rhs):
    """lhs (op) rhs for two NDArrays: the core op called directly, skipping the generated function's argument
    handling (these ops take no parameters); per-call dispatch is most of a small op's cost."""
    handles = _core.invoke(register._op(op_name), [lhs.handle, rhs.handle], _NO_STRINGS, _NO_STRINGS,
                           _NO_HANDLES, None)
    return NDArray._from_handle(handles[0])


def _ufunc_helper(lhs, rhs, fn_array, fn_scalar, lfn_scalar, rfn_scalar=None):
    """Array-array: fn_array (broadcasting); array-scalar: lfn_scalar(array, scalar); scalar-array:
    rfn_scalar(array, scalar) (or lfn_scalar for symmetric ops); scalar-scalar: fn_scalar."""
    if isinstance(lhs, numeric_types):
        if isinstance(rhs, numeric_types):
            return fn_scalar(lhs, rhs)
        if not isinstance(rhs, NDArray):
            raise TypeError("type %s not supported" % type(rhs).__name__)
        return (rfn_scalar or lfn_scalar)(rhs, scalar=float(lhs))
    if not isinstance(lhs, NDArray):
        raise TypeError("type %s not supported" % type(lhs).__name__)
    if isinstance(rhs, numeric_types):
        return lfn_scalar(lhs, scalar=float(rhs))
    if isinstance(rhs, NDArray):
        return fn_array(lhs, rhs)
    raise TypeError("type %s not supported" % type(rhs).__name__)


def _compare(fn):
    return lambda x, y: 1 if fn(x, y) else 0


def add(lhs, rhs):
    """lhs + rhs, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_add, operator.add, _internal._plus_scalar)


def subtract(lhs, rhs):
    """lhs - rhs, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_sub, operator.sub, _internal._minus_scalar,
                         _internal._rminus_scalar)


def multiply(lhs, rhs):
    """lhs * rhs, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_mul, operator.mul, _internal._mul_scalar)


def divide(lhs, rhs):
    """lhs / rhs, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_div, operator.truediv, _internal._div_scalar,
                         _internal._rdiv_scalar)


true_divide = divide


def modulo(lhs, rhs):
    """lhs % rhs, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_mod, operator.mod, _internal._mod_scalar, _internal._rmod_scalar)


def power(base, exp):
    """base ** exp, broadcasting."""
    return _ufunc_helper(base, exp, op.broadcast_power, operator.pow, _internal._power_scalar,
                         _internal._rpower_scalar)


def maximum(lhs, rhs):
    """The elementwise maximum, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_maximum, lambda x, y: x if x > y else y,
                         _internal._maximum_scalar)


def minimum(lhs, rhs):
    """The elementwise minimum, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_minimum, lambda x, y: x if x < y else y,
                         _internal._minimum_scalar)


def equal(lhs, rhs):
    """1 where lhs == rhs, else 0 (in the inputs' dtype), broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_equal, _compare(operator.eq), _internal._equal_scalar)


def not_equal(lhs, rhs):
    """1 where lhs != rhs, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_not_equal, _compare(operator.ne), _internal._not_equal_scalar)


def greater(lhs, rhs):
    """1 where lhs > rhs, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_greater, _compare(operator.gt), _internal._greater_scalar,
                         _internal._lesser_scalar)


def greater_equal(lhs, rhs):
    """1 where lhs >= rhs, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_greater_equal, _compare(operator.ge),
                         _internal._greater_equal_scalar, _internal._lesser_equal_scalar)


def lesser(lhs, rhs):
    """1 where lhs < rhs, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_lesser, _compare(operator.lt), _internal._lesser_scalar,
                         _internal._greater_scalar)


def lesser_equal(lhs, rhs):
    """1 where lhs <= rhs, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_lesser_equal, _compare(operator.le),
                         _internal._lesser_equal_scalar, _internal._greater_equal_scalar)


def logical_and(lhs, rhs):
    """1 where both are non-zero, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_logical_and, lambda x, y: 1 if x and y else 0,
                         _internal._logical_and_scalar)


def logical_or(lhs, rhs):
    """1 where either is non-zero, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_logical_or, lambda x, y: 1 if x or y else 0,
                         _internal._logical_or_scalar)


def logical_xor(lhs, rhs):
    """1 where exactly one is non-zero, else 0, broadcasting."""
    return _ufunc_helper(lhs, rhs, op.broadcast_logical_xor, lambda x, y: 1 if bool(x) != bool(y) else 0,
                         _internal._logical_xor_scalar)


# ---- Synchronisation and exchange ------------------------------------------------------------------

def waitall():
    """Blocks until every pushed operation has finished; raises a stored error."""
    _core.waitall()


def to_dlpack_for_read(data):
    """A DLPack capsule sharing `data` for reading (waits for pending writes)."""
    data.wait_to_read()
    return data.handle.to_dlpack()


def to_dlpack_for_write(data):
    """A DLPack capsule sharing `data` for writing (waits for pending reads and writes)."""
    data.wait_to_write()
    return data.handle.to_dlpack()


def from_dlpack(dlpack):
    """An NDArray sharing the memory of a DLPack capsule or of an object with __dlpack__ (NumPy, PyTorch)."""
    capsule = dlpack.__dlpack__() if hasattr(dlpack, "__dlpack__") else dlpack
    return NDArray._from_handle(_core.from_dlpack(capsule))


def from_numpy(ndarray, zero_copy=True):
    """An NDArray from a NumPy array: sharing its memory when zero_copy (it must be C-contiguous and
    writable), else a copy."""
    if zero_copy and ndarray.flags["C_CONTIGUOUS"] and ndarray.flags["WRITEABLE"]:
        return from_dlpack(ndarray)
    from .utils import array  # pylint: disable=import-outside-toplevel
    return array(ndarray, dtype=ndarray.dtype)

