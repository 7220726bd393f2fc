"""A minimal ctypes view of libpolymix.so's symbol group (core/c_api/polymix.h), for comparing with MXNet."""
import ctypes
import json

_handle = ctypes.c_void_p


class PolymixError(Exception):
    """A failed C ABI call: the library's error kind name and message."""


class Library:
    """libpolymix.so's symbol functions wrapped for Python values (names, shapes, JSON text)."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.pmx_last_error_message.restype = ctypes.c_char_p
        self.lib.pmx_error_kind_name.restype = ctypes.c_char_p

    def _check(self, status):
        if status != 0:
            kind = self.lib.pmx_error_kind_name(self.lib.pmx_last_error_kind()).decode()
            raise PolymixError("%s: %s" % (kind, self.lib.pmx_last_error_message().decode()))

    @staticmethod
    def _strings(values):
        return (ctypes.c_char_p * len(values))(*[str(v).encode() for v in values])

    def variable(self, name, attrs=None):
        attrs = attrs or {}
        out = _handle()
        self._check(self.lib.pmx_symbol_create_variable(name.encode(), len(attrs), self._strings(attrs.keys()),
                                                        self._strings(attrs.values()), ctypes.byref(out)))
        return Symbol(self, out)

    def op(self, op, inputs, params, name):
        """mx.sym.<op>(*inputs, name=name, **params); parameter values are written as str(value), as MXNet does."""
        out = _handle()
        handles = (_handle * len(inputs))(*[s.handle for s in inputs])
        self._check(self.lib.pmx_symbol_create_op(op.encode(), len(inputs), handles, 0, None, None, len(params),
                                                  self._strings(params.keys()), self._strings(params.values()),
                                                  name.encode(), 0, None, None, ctypes.byref(out)))
        return Symbol(self, out)

    def from_json(self, text):
        out = _handle()
        self._check(self.lib.pmx_symbol_from_json(text.encode(), ctypes.byref(out)))
        return Symbol(self, out)


class Symbol:
    """One Polymix symbol handle (freed with the object)."""

    def __init__(self, library, handle):
        self.library, self.handle = library, handle

    def __del__(self):
        self.library.lib.pmx_symbol_free(self.handle)

    def _names(self, function):
        count, names = ctypes.c_int(), ctypes.POINTER(ctypes.c_char_p)()
        self.library._check(getattr(self.library.lib, function)(self.handle, ctypes.byref(count), ctypes.byref(names)))
        return [names[i].decode() for i in range(count.value)]

    def list_arguments(self):
        return self._names("pmx_symbol_list_arguments")

    def list_outputs(self):
        return self._names("pmx_symbol_list_outputs")

    def list_auxiliary_states(self):
        return self._names("pmx_symbol_list_auxiliary_states")

    def tojson(self):
        out = ctypes.c_char_p()
        self.library._check(self.library.lib.pmx_symbol_to_json(self.handle, ctypes.byref(out)))
        return out.value.decode()

    def infer_shape(self, **known):
        """(arg_shapes, out_shapes, aux_shapes) as MXNet's infer_shape returns them (tuples)."""
        names = list(known)
        ndims = (ctypes.c_int * len(names))(*[len(known[n]) for n in names])
        flat = [d for n in names for d in known[n]]
        dims = (ctypes.c_int64 * len(flat))(*flat)
        counts = (ctypes.c_int * 3)()
        out_ndims, out_dims = ctypes.POINTER(ctypes.c_int)(), ctypes.POINTER(ctypes.c_int64)()
        complete = ctypes.c_int()
        self.library._check(self.library.lib.pmx_symbol_infer_shape(
            self.handle, len(names), self.library._strings(names), ndims, dims, 0, counts, ctypes.byref(out_ndims),
            ctypes.byref(out_dims), ctypes.byref(complete)))
        shapes, offset = [], 0
        for slot in range(counts[0] + counts[1] + counts[2]):
            ndim = out_ndims[slot]
            shapes.append(tuple(out_dims[offset + k] for k in range(ndim)))
            offset += max(ndim, 0)
        a, o = counts[0], counts[0] + counts[1]
        return shapes[:a], shapes[a:o], shapes[o:]


def node_row_ptr(text):
    """The node_row_ptr list of a symbol JSON text."""
    return json.loads(text)["node_row_ptr"]
