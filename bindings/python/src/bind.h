// Shared pieces of the pybind11 extension polymix._core: one Bind* function per area, and the conversions
// between Python values and core types that several areas need.
#ifndef POLYMIX_BINDINGS_PYTHON_SRC_BIND_H_
#define POLYMIX_BINDINGS_PYTHON_SRC_BIND_H_

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/array/ndarray.h"
#include "core/base/device.h"
#include "core/base/shape.h"

namespace pmx {
namespace python {

// Note [Handles and the Python NDArray]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// _core.Array owns one pmx::NDArray value (so one autograd slot, Note [The autograd slot]). The Python
// NDArray class (polymix/ndarray/ndarray.py) holds one _core.Array as `handle`, as MXNet's NDArray holds a C
// handle. Calls that give an array a new slot (out=, mark_variables) overwrite the NDArray value inside the
// _core.Array the caller passed, so every Python object sharing that handle sees the change, as with MXNet's
// handles. Nothing here uses NumPy's C API: host data crosses through Python's buffer protocol and DLPack,
// so a NumPy ABI change cannot break the extension.

// A device as Python passes it: (device_type, device_id) with MXNet's type numbers.
using DevicePair = std::pair<int, int>;

// The Device of a (type, id) pair; ValueError for an unknown type or a negative id.
Device DeviceFrom(const DevicePair& pair);
// The (type, id) pair of a Device.
DevicePair PairOf(Device device);
// The Shape of a Python sequence of ints; ValueError on a negative dimension.
Shape ShapeFrom(const std::vector<int64_t>& dims);
// A Python tuple of a Shape's dimensions.
pybind11::tuple TupleOf(const Shape& shape);

// Registers the translation of pmx::Error into the exception classes polymix.base registers.
void BindErrors(pybind11::module_& m);
// _core.Array: creation, properties, views, host copies, the buffer protocol, DLPack, .params files.
void BindNDArray(pybind11::module_& m);
// _core.Op and imperative invocation of registered operators; the schema.
void BindOps(pybind11::module_& m);
// Recording state, variables, backward and grad (core/autograd).
void BindAutograd(pybind11::module_& m);
// _core.Symbol over core/graph's Symbol.
void BindSymbol(pybind11::module_& m);
// Optimizers, schedules, initializers and metrics (core/optim; Note [Python keeps MXNet's bookkeeping]).
void BindOptim(pybind11::module_& m);
// _core.Executor and _core.CachedOp (core/graph's Executor and CachedOp).
void BindGraphExecution(pybind11::module_& m);

}  // namespace python
}  // namespace pmx

#endif  // POLYMIX_BINDINGS_PYTHON_SRC_BIND_H_
