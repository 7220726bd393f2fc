// polymix._core: the pybind11 extension over the C++ core (Note [Handles and the Python NDArray] in bind.h).
#include <pybind11/pybind11.h>

#include "bindings/python/src/bind.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/device.h"
#include "core/engine/engine.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "Polymix's C++ core for Python; use the polymix package, not this module.";
  pmx::python::BindErrors(m);
  pmx::python::BindNDArray(m);
  pmx::python::BindOps(m);
  pmx::python::BindAutograd(m);
  pmx::python::BindSymbol(m);
  pmx::python::BindOptim(m);
  pmx::python::BindGraphExecution(m);

  m.def("num_gpus", [] { return pmx::gpu::BuiltWithCuda() ? pmx::gpu::DeviceCount() : 0; },
        "Number of GPUs visible to this build (0 without CUDA).");
  m.def("built_with_cuda", &pmx::gpu::BuiltWithCuda, "Whether this build has GPU support.");
  m.def(
      "set_default_device",
      [](const pmx::python::DevicePair& device) { pmx::SetDefaultDevice(pmx::python::DeviceFrom(device)); },
      "Sets this thread's default device (with mx.Context(...)).");
  m.def(
      "default_device", [] { return pmx::python::PairOf(pmx::DefaultDevice()); },
      "This thread's default device as (type, id).");
  m.def(
      "waitall",
      [] {
        py::gil_scoped_release release;
        pmx::Engine::Get()->WaitForAll();
      },
      "Blocks until every pushed operation has finished; rethrows a stored error (mx.nd.waitall).");
}
