"""Shared definitions of the polymix package: the error classes core errors arrive as, the _Null marker of
unset operator parameters, dtype tables, and the conversion of Python values into MXNet's parameter strings."""

import re

import numpy as np

from . import _core

__all__ = ["MXNetError", "MXNetValueError", "MXNetTypeError", "MXNetIndexError", "MXNetNotImplementedError",
           "MXNetMemoryError", "numeric_types", "integer_types", "string_types", "mx_real_t", "bfloat16"]


class MXNetError(RuntimeError):
    """An error reported by the core (MXNet's MXNetError). Core errors with a kind raise the subclass that also
    derives from the matching builtin, so both `except MXNetError` and `except ValueError` catch a shape error."""


class MXNetValueError(MXNetError, ValueError):
    """An argument has the right type but a bad value (shape mismatch, bad file, unknown parameter)."""


class MXNetTypeError(MXNetError, TypeError):
    """An argument has the wrong type (unsupported dtype, wrong kind of handle)."""


class MXNetIndexError(MXNetError, IndexError):
    """An index or axis is out of range."""


class MXNetNotImplementedError(MXNetError, NotImplementedError):
    """A valid request this build cannot do (no kernel, built without CUDA)."""


class MXNetMemoryError(MXNetError, MemoryError):
    """An allocation failed."""


# Error kinds as core/base/error.h numbers them (the C ABI's PMX_ERROR_*).
_core._set_error_classes({1: MXNetError, 2: MXNetValueError, 3: MXNetTypeError, 4: MXNetIndexError,
                          5: MXNetNotImplementedError, 6: MXNetMemoryError})


class _NullType:
    """The default of generated functions' parameters: "not given", so the operator's own default applies."""

    def __repr__(self):
        return "_Null"

    def __bool__(self):
        return False


_Null = _NullType()

numeric_types = (float, int, np.generic)
integer_types = (int, np.integer)
string_types = (str,)
mx_real_t = np.float32
# MXNet 1.x's bfloat16: a 16-bit record NumPy can hold and copy but not compute with.
bfloat16 = np.dtype([("bfloat16", np.uint16)])

# MXNet's type flags (core/base/dtype.h): NumPy scalar types <-> flags.
_DTYPE_NP_TO_MX = {None: -1, np.float32: 0, np.float64: 1, np.float16: 2, np.uint8: 3, np.int32: 4, np.int8: 5,
                   np.int64: 6, np.bool_: 7, bfloat16: 12}
_DTYPE_MX_TO_NP = {flag: dtype for dtype, flag in _DTYPE_NP_TO_MX.items()}


def dtype_flag(dtype):
    """MXNet's type flag of a dtype given as a NumPy type, np.dtype, name ('float32', 'bfloat16') or None
    (float32); TypeError for a dtype Polymix does not have."""
    if dtype is None:
        return 0
    if isinstance(dtype, str) and dtype == "bfloat16":
        return 12
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError("dtype %r is not a NumPy dtype" % (dtype,)) from None
    if numpy_dtype == bfloat16:
        return 12
    flag = _DTYPE_NP_TO_MX.get(numpy_dtype.type)
    if flag is None:
        raise TypeError("dtype %s is not supported: expected float16/32/64, bfloat16, uint8, int8/32/64 or bool"
                        % numpy_dtype)
    return flag


def dtype_type(flag):
    """The NumPy scalar type of a type flag (np.float32, ...; the bfloat16 record dtype for 12)."""
    return _DTYPE_MX_TO_NP[flag]


def dtype_name(dtype):
    """The NumPy-style name MXNet's parameters use: 'float32', 'bfloat16', ..."""
    return "bfloat16" if dtype_flag(dtype) == 12 else np.dtype(dtype).name


def _is_dtype(value):
    return (isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic))
            or value is float or value is int or value is bool)


def _param_str(value):
    """A parameter value in MXNet's spelling: True/False, (2, 3), dtype names, None, str(ctx), numbers."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if _is_dtype(value):
        return dtype_name(value)
    if isinstance(value, (tuple, list)):
        items = [_param_str(item) for item in value]
        return "(%s,)" % items[0] if len(items) == 1 else "(%s)" % ", ".join(items)
    if isinstance(value, np.ndarray):
        return _param_str(value.tolist())
    if isinstance(value, np.generic):
        return _param_str(value.item())
    if isinstance(value, float):
        return repr(value)
    return str(value)


_CONTEXT_TEXT = re.compile(r"^\s*(cpu|gpu|cpu_pinned|cpu_shared)\s*\(\s*(\d+)\s*\)\s*$")


def parse_context_text(text):
    """(device type name, id) of text such as 'gpu(1)'; ValueError otherwise."""
    match = _CONTEXT_TEXT.match(text)
    if not match:
        raise ValueError("context %r: expected cpu(n), gpu(n) or cpu_pinned(n)" % text)
    return match.group(1), int(match.group(2))
