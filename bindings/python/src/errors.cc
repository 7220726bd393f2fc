// Core errors as Python exceptions: polymix.base defines MXNetError and one subclass per error kind (each also
// a subclass of the matching builtin) and registers them here at import.
#include <map>

#include "bindings/python/src/bind.h"
#include "core/base/error.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

// Error kind -> exception class. The references are leaked on purpose: the translator may run while the
// interpreter shuts down, after module globals are gone.
std::map<int, PyObject*>& ErrorClasses() {
  static auto* classes = new std::map<int, PyObject*>();
  return *classes;
}

PyObject* ErrorClassFor(ErrorKind kind) {
  const auto& classes = ErrorClasses();
  auto found = classes.find(static_cast<int>(kind));
  if (found != classes.end()) return found->second;
  switch (kind) {  // Before polymix.base registered its classes: the builtins.
    case ErrorKind::kValueError:
      return PyExc_ValueError;
    case ErrorKind::kTypeError:
      return PyExc_TypeError;
    case ErrorKind::kIndexError:
      return PyExc_IndexError;
    case ErrorKind::kNotImplementedError:
      return PyExc_NotImplementedError;
    case ErrorKind::kOutOfMemory:
      return PyExc_MemoryError;
    default:
      return PyExc_RuntimeError;
  }
}

}  // namespace

void BindErrors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const Error& e) {
      PyErr_SetString(ErrorClassFor(e.kind()), e.message().c_str());
    }
  });
  m.def(
      "_set_error_classes",
      [](const std::map<int, py::object>& classes) {
        for (const auto& [kind, cls] : classes) {
          PyObject*& slot = ErrorClasses()[kind];
          Py_XDECREF(slot);
          slot = cls.inc_ref().ptr();
        }
      },
      "Registers the exception class raised for each error kind (polymix.base calls it once).");
  m.def(
      "_raise_error",
      [](int kind, const std::string& message) { throw Error(static_cast<ErrorKind>(kind), message); },
      "Raises a core error of `kind` (tests of the error mapping).");
}

}  // namespace python
}  // namespace pmx
