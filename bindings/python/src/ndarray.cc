// _core.Array: an NDArray handle for Python, with host copies through the buffer protocol, views that autograd
// sees, DLPack capsules and .params files.
#include <dlpack/dlpack.h>

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "bindings/python/src/bind.h"
#include "core/array/dlpack.h"
#include "core/array/ndarray_io.h"
#include "core/autograd/autograd.h"
#include "core/base/error.h"
#include "core/ops/invoke.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

constexpr const char* kCapsuleName = "dltensor";         // DLPack's name for an unconsumed capsule.
constexpr const char* kUsedCapsuleName = "used_dltensor";  // ... and for one a consumer took.

// The contiguous bytes of a Python buffer, checked against the `nbytes` an array needs.
py::buffer_info ContiguousBuffer(const py::buffer& buffer, bool writable, size_t nbytes, const char* what) {
  py::buffer_info info = buffer.request(writable);
  int64_t expected_stride = info.itemsize;
  for (int axis = static_cast<int>(info.ndim) - 1; axis >= 0; --axis) {
    PMX_CHECK(info.shape[axis] <= 1 || info.strides[axis] == expected_stride, kValueError,
              "[%s] the buffer is not C-contiguous: expected a row-major buffer (numpy.ascontiguousarray)", what);
    expected_stride *= info.shape[axis];
  }
  const size_t given = static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize);
  PMX_CHECK(given == nbytes, kValueError, "[%s] the buffer has %d bytes: expected %d", what, given, nbytes);
  return info;
}

// The struct-module format of one element, for the buffer protocol.
std::string BufferFormat(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "f";
    case DType::kFloat64: return "d";
    case DType::kFloat16: return "e";
    case DType::kUint8: return "B";
    case DType::kInt32: return "i";
    case DType::kInt8: return "b";
    case DType::kInt64: return "q";
    case DType::kBool: return "?";
    case DType::kBfloat16: return "H";  // Raw bits: Python has no bfloat16 format.
  }
  Throw(ErrorKind::kTypeError, "[buffer] unsupported dtype flag %d", static_cast<int>(dtype));
}

std::string ShapeText(const Shape& shape) { return "(" + absl::StrJoin(shape.dims(), ", ") + ")"; }

// Note [Views under autograd]
// MXNet records reshape, x[i] and x[a:b] when their input is in a recorded graph (ReshapeWithRecord and
// friends), so gradients flow through them. Here, while recording an array that is in a graph, they run as
// the Reshape / slice_axis operators (a copy, recorded with its gradient); otherwise they are views sharing
// the data, as in MXNet.

NDArray ReshapeView(const NDArray& array, const std::vector<int64_t>& dims, bool reverse) {
  ParamMap params = {{"shape", "(" + absl::StrJoin(dims, ", ") + ")"}, {"reverse", reverse ? "True" : "False"}};
  const OpDef& reshape = OpRegistry::Get()->Lookup("Reshape");
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  InferOutputs(reshape, reshape.ParseParams(params), {array.shape()}, {array.dtype()}, &shapes, &dtypes);
  if (autograd::NeedsRecording({array})) {
    return autograd::Invoke1("Reshape", {array}, {{"shape", ShapeText(shapes[0])}});
  }
  return array.Reshape(shapes[0]);
}

NDArray SliceView(const NDArray& array, int64_t begin, int64_t end) {
  if (autograd::NeedsRecording({array})) {
    PMX_CHECK(array.ndim() > 0 && 0 <= begin && begin <= end && end <= array.shape()[0], kIndexError,
              "[slice] rows [%d, %d) of an array of shape %s: expected 0 <= begin <= end <= %d", begin, end,
              array.shape().ToString(), array.ndim() > 0 ? array.shape()[0] : 0);
    return autograd::Invoke1("slice_axis", {array},
                             {{"axis", "0"}, {"begin", std::to_string(begin)}, {"end", std::to_string(end)}});
  }
  return array.Slice(begin, end);
}

NDArray AtView(const NDArray& array, int64_t index) {
  if (autograd::NeedsRecording({array})) {
    const NDArray row = SliceView(array, index, index + 1);
    const auto dims = array.shape().dims();
    return autograd::Invoke1("Reshape", {row}, {{"shape", ShapeText(Shape(dims.subspan(1)))}});
  }
  return array.At(index);
}

// Destroys a capsule nobody consumed (its deleter frees the export); a consumed one is the consumer's.
void DestroyCapsule(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, kCapsuleName)) return;
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  if (managed != nullptr && managed->deleter != nullptr) managed->deleter(managed);
}

py::object ToCapsule(const NDArray& array) {
  DLManagedTensor* managed;
  {
    py::gil_scoped_release release;  // ToDLPack waits for pending writes.
    managed = ToDLPack(array);
  }
  PyObject* capsule = PyCapsule_New(managed, kCapsuleName, DestroyCapsule);
  if (capsule == nullptr) {
    managed->deleter(managed);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

NDArray FromCapsule(const py::capsule& capsule) {
  PMX_CHECK(PyCapsule_IsValid(capsule.ptr(), kCapsuleName), kValueError,
            "[from_dlpack] expected an unconsumed DLPack capsule named 'dltensor' (each capsule can be used once)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), kCapsuleName));
  NDArray array = FromDLPack(managed);  // On error the capsule still owns the tensor.
  PyCapsule_SetName(capsule.ptr(), kUsedCapsuleName);
  return array;
}

py::tuple LoadResult(const params::ArrayList& loaded) {
  py::list arrays;
  for (const NDArray& array : loaded.arrays) {
    arrays.append(array.is_none() ? py::object(py::none()) : py::cast(array));
  }
  return py::make_tuple(arrays, loaded.names);
}

}  // namespace

Device DeviceFrom(const DevicePair& pair) { return Device::FromTypeAndId(pair.first, pair.second); }

DevicePair PairOf(Device device) { return {static_cast<int>(device.type), device.id}; }

Shape ShapeFrom(const std::vector<int64_t>& dims) {
  for (int64_t dim : dims) {
    PMX_CHECK(dim >= 0, kValueError, "[shape] dimension %d in (%s): expected non-negative dimensions", dim,
              absl::StrJoin(dims, ", "));
  }
  return Shape(absl::MakeConstSpan(dims));
}

py::tuple TupleOf(const Shape& shape) {
  py::tuple result(shape.ndim());
  for (int axis = 0; axis < shape.ndim(); ++axis) result[axis] = py::int_(shape[axis]);
  return result;
}

void BindNDArray(py::module_& m) {
  py::class_<NDArray>(m, "Array", py::buffer_protocol(), "One NDArray handle (the `handle` of polymix's NDArray).")
      .def(py::init<>(), "A none array (no data).")
      .def_property_readonly("is_none", &NDArray::is_none, "Whether this handle holds no array.")
      .def_property_readonly("shape", [](const NDArray& a) { return TupleOf(a.shape()); }, "The shape as a tuple.")
      .def_property_readonly("dtype", [](const NDArray& a) { return static_cast<int>(a.dtype()); },
                             "The dtype as MXNet's type flag.")
      .def_property_readonly("device", [](const NDArray& a) { return PairOf(a.device()); },
                             "The device as (type, id).")
      .def_property_readonly("size", &NDArray::size, "The number of elements.")
      .def_property_readonly("ndim", &NDArray::ndim, "The number of dimensions.")
      .def("shares_memory_with", &NDArray::SharesChunkWith, "Whether both arrays use the same memory chunk.")
      .def(
          "wait_to_read",
          [](const NDArray& a) {
            py::gil_scoped_release release;
            a.WaitToRead();
          },
          "Blocks until pending writes finish; rethrows a stored error.")
      .def(
          "wait_to_write",
          [](const NDArray& a) {
            py::gil_scoped_release release;
            a.WaitToWrite();
          },
          "Blocks until pending reads and writes finish; rethrows a stored error.")
      .def(
          "copy_to_host",
          [](const NDArray& a, const py::buffer& destination) {
            py::buffer_info info = ContiguousBuffer(destination, true, a.nbytes(), "asnumpy");
            py::gil_scoped_release release;
            a.CopyToHost(info.ptr, a.nbytes());
          },
          "Copies the data into a writable C-contiguous buffer of exactly nbytes (waits for pending writes).")
      .def(
          "copy_from_host",
          [](const NDArray& a, const py::buffer& source) {
            py::buffer_info info = ContiguousBuffer(source, false, a.nbytes(), "copy_from_host");
            py::gil_scoped_release release;
            a.CopyFromHost(info.ptr, a.nbytes());
          },
          "Overwrites the data from a C-contiguous buffer of exactly nbytes.")
      .def("reshape", &ReshapeView, py::arg("dims"), py::arg("reverse") = false,
           "A view with MXNet's reshape special values (0, -1, -2, -3, -4); recorded under autograd.")
      .def("slice", &SliceView, "A view of rows [begin, end) along axis 0; recorded under autograd.")
      .def("at", &AtView, "A view of row `index` along axis 0 (shape[1:]); recorded under autograd.")
      .def(
          "copy_to_device", [](const NDArray& a, const DevicePair& device) { return a.CopyTo(DeviceFrom(device)); },
          "A copy on `device` (a new array even on the same device).")
      .def(
          "copy_into", [](const NDArray& a, const NDArray& destination) { a.CopyTo(destination); },
          "Copies (and converts) into `destination` of the same shape, across devices; asynchronous.")
      .def("to_dlpack", &ToCapsule, "A DLPack capsule sharing this array's memory (waits for pending writes).")
      .def_buffer([](const NDArray& a) -> py::buffer_info {
        PMX_CHECK(a.device().is_host(), kValueError,
                  "[buffer] the array is on %s: only host arrays export a buffer (copy it with as_in_context(mx.cpu()))",
                  a.device().ToString());
        {
          py::gil_scoped_release release;
          a.WaitToWrite();  // The consumer may read or write through the buffer.
        }
        const ssize_t itemsize = static_cast<ssize_t>(DTypeSize(a.dtype()));
        std::vector<ssize_t> shape(a.shape().dims().begin(), a.shape().dims().end());
        std::vector<ssize_t> strides(shape.size());
        ssize_t stride = itemsize;
        for (int axis = static_cast<int>(shape.size()) - 1; axis >= 0; --axis) {
          strides[axis] = stride;
          stride *= shape[axis];
        }
        return py::buffer_info(a.data(), itemsize, BufferFormat(a.dtype()), static_cast<ssize_t>(shape.size()),
                               shape, strides);
      });

  m.def(
      "empty",
      [](const std::vector<int64_t>& shape, int dtype, const DevicePair& device) {
        return NDArray::Empty(ShapeFrom(shape), DTypeFromFlag(dtype), DeviceFrom(device));
      },
      "An uninitialised array.");
  m.def(
      "full",
      [](const std::vector<int64_t>& shape, double value, int dtype, const DevicePair& device) {
        return NDArray::Full(ShapeFrom(shape), value, DTypeFromFlag(dtype), DeviceFrom(device));
      },
      "An array filled with `value`.");
  m.def(
      "from_host",
      [](const py::buffer& source, const std::vector<int64_t>& shape, int dtype, const DevicePair& device) {
        const Shape array_shape = ShapeFrom(shape);
        const DType array_dtype = DTypeFromFlag(dtype);
        const size_t nbytes = static_cast<size_t>(array_shape.size()) * DTypeSize(array_dtype);
        py::buffer_info info = ContiguousBuffer(source, false, nbytes, "array");
        py::gil_scoped_release release;
        return NDArray::FromHostBuffer(info.ptr, nbytes, array_shape, array_dtype, DeviceFrom(device));
      },
      "A copy of a C-contiguous buffer holding shape's elements of `dtype`.");
  m.def("from_dlpack", &FromCapsule, "Imports a DLPack capsule without copying (the capsule is consumed).");
  m.def(
      "save",
      [](const std::string& path, const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
        py::gil_scoped_release release;
        params::Save(path, arrays, names);
      },
      "Writes arrays (and names, or none for a list) to an MXNet .params file.");
  m.def(
      "load",
      [](const std::string& path) {
        params::ArrayList loaded;
        {
          py::gil_scoped_release release;
          loaded = params::Load(path);
        }
        return LoadResult(loaded);
      },
      "Reads an MXNet .params file: (arrays, names); names is empty for a list file.");
  m.def(
      "save_bytes",
      [](const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
        std::string bytes;
        {
          py::gil_scoped_release release;
          bytes = params::SaveToBytes(arrays, names);
        }
        return py::bytes(bytes);
      },
      "The bytes of a .params file.");
  m.def(
      "load_bytes",
      [](const py::bytes& bytes) {
        const std::string data = bytes;
        params::ArrayList loaded;
        {
          py::gil_scoped_release release;
          loaded = params::LoadFromBytes(data);
        }
        return LoadResult(loaded);
      },
      "Reads .params bytes: (arrays, names).");
}

}  // namespace python
}  // namespace pmx
