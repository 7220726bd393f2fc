// _core.Executor and _core.CachedOp: core/graph's Executor (Symbol.bind / simple_bind) and CachedOp
// (mx.nd.CachedOp, what Gluon's hybridize runs). Passes release the GIL: they push work to the engine.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/python/src/bind.h"
#include "core/base/error.h"
#include "core/graph/cached_op.h"
#include "core/graph/executor.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

using graph::CachedOp;
using graph::Executor;
using graph::GradReq;
using graph::Symbol;

GradReq GradReqFrom(int req) {
  PMX_CHECK(req == 0 || req == 1 || req == 3, kValueError,
            "[bind] grad_req %d: expected 0 (null), 1 (write) or 3 (add)", req);
  return static_cast<GradReq>(req);
}

std::map<std::string, Shape> ShapesFrom(const std::map<std::string, std::vector<int64_t>>& given) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, dims] : given) shapes[name] = ShapeFrom(dims);
  return shapes;
}

// Optional arrays (None: no array) as none NDArrays, and back.
std::vector<NDArray> ArraysOrNone(const std::vector<std::optional<NDArray>>& given) {
  std::vector<NDArray> arrays;
  for (const auto& array : given) arrays.push_back(array ? *array : NDArray());
  return arrays;
}

std::vector<std::optional<NDArray>> OptionalArrays(const std::vector<NDArray>& arrays) {
  std::vector<std::optional<NDArray>> result;
  for (const NDArray& array : arrays) {
    result.push_back(array.is_none() ? std::nullopt : std::optional<NDArray>(array));
  }
  return result;
}

std::shared_ptr<Executor> Bind(const Symbol& symbol, const DevicePair& device, std::vector<NDArray> args,
                               const std::vector<std::optional<NDArray>>& arg_grads, const std::vector<int>& reqs,
                               std::vector<NDArray> aux_states) {
  std::vector<GradReq> grad_reqs;
  for (int req : reqs) grad_reqs.push_back(GradReqFrom(req));
  py::gil_scoped_release release;
  return Executor::Bind(symbol, DeviceFrom(device), std::move(args), ArraysOrNone(arg_grads), std::move(grad_reqs),
                        std::move(aux_states));
}

std::shared_ptr<Executor> SimpleBind(const Symbol& symbol, const DevicePair& device,
                                     const std::map<std::string, std::vector<int64_t>>& shapes,
                                     const std::map<std::string, int>& dtypes, const std::map<std::string, int>& reqs,
                                     int default_req) {
  std::map<std::string, DType> dtype_map;
  for (const auto& [name, flag] : dtypes) dtype_map[name] = DTypeFromFlag(flag);
  std::map<std::string, GradReq> req_map;
  for (const auto& [name, req] : reqs) req_map[name] = GradReqFrom(req);
  const GradReq fallback = GradReqFrom(default_req);
  py::gil_scoped_release release;
  return Executor::SimpleBind(symbol, DeviceFrom(device), ShapesFrom(shapes), dtype_map, req_map, fallback);
}

void BindExecutor(py::module_& m) {
  py::class_<Executor, std::shared_ptr<Executor>>(m, "Executor", "A symbol bound to arrays (core/graph).")
      .def_static("bind", &Bind, py::arg("symbol"), py::arg("device"), py::arg("args"), py::arg("arg_grads"),
                  py::arg("grad_reqs"), py::arg("aux_states"),
                  "MXNet's bind: arrays per argument (gradients None where there are none), grad_req flags per "
                  "argument, arrays per auxiliary state.")
      .def_static("simple_bind", &SimpleBind, py::arg("symbol"), py::arg("device"), py::arg("shapes"),
                  py::arg("dtypes"), py::arg("grad_reqs"), py::arg("default_req"),
                  "MXNet's simple_bind: allocates every array from some arguments' shapes and dtype flags.")
      .def(
          "forward",
          [](Executor& executor, bool is_train) {
            py::gil_scoped_release release;
            executor.Forward(is_train);
          },
          py::arg("is_train"), "Runs the forward pass on the bound arrays.")
      .def(
          "backward",
          [](Executor& executor, const std::vector<std::optional<NDArray>>& head_grads, bool is_train) {
            const std::vector<NDArray> grads = ArraysOrNone(head_grads);
            py::gil_scoped_release release;
            executor.Backward(grads, is_train);
          },
          py::arg("head_grads"), py::arg("is_train"), "Runs the backward pass of the last forward.")
      .def(
          "reshape",
          [](const Executor& executor, const std::map<std::string, std::vector<int64_t>>& shapes,
             bool partial_shaping, bool allow_up_sizing) {
            return std::shared_ptr<Executor>(executor.Reshape(ShapesFrom(shapes), partial_shaping, allow_up_sizing));
          },
          "A new executor for new argument shapes, sharing arrays where it can.")
      .def_property_readonly("outputs", &Executor::outputs, "The output arrays.")
      .def_property_readonly("arg_arrays", &Executor::arg_arrays, "The argument arrays, in list_arguments order.")
      .def_property_readonly(
          "grad_arrays", [](const Executor& executor) { return OptionalArrays(executor.grad_arrays()); },
          "The gradient arrays, one per argument (None for grad_req 'null').")
      .def_property_readonly("aux_arrays", &Executor::aux_arrays, "The auxiliary state arrays.")
      .def_property_readonly("arg_names", &Executor::arg_names, "Argument names.")
      .def_property_readonly("aux_names", &Executor::aux_names, "Auxiliary state names.")
      .def_property_readonly("output_names", &Executor::output_names, "Output names.")
      .def_property_readonly("planned_bytes", &Executor::planned_bytes, "Bytes of the planned internal buffers.");
}

void BindCachedOp(py::module_& m) {
  py::class_<CachedOp, std::shared_ptr<CachedOp>>(m, "CachedOp", "A graph called like one operator (core/graph).")
      .def(py::init([](const Symbol& symbol, const std::map<std::string, std::string>& flags) {
             return std::make_shared<CachedOp>(symbol, graph::ParseCachedOpFlags(flags));
           }),
           py::arg("symbol"), py::arg("flags"), "Prepares `symbol` with MXNet's CachedOp flags (strings).")
      .def(
          "__call__",
          [](CachedOp& op, const std::vector<NDArray>& inputs) {
            py::gil_scoped_release release;
            return op(inputs);
          },
          "Runs the graph on inputs in input_names order; recorded as one node under autograd.")
      .def_property_readonly("input_names", &CachedOp::input_names, "The inputs a call takes, in order.")
      .def_property_readonly("num_outputs", &CachedOp::num_outputs, "Number of outputs.")
      .def_property_readonly("num_compilations", &CachedOp::num_compilations, "Compilations so far.");
}

}  // namespace

void BindGraphExecution(py::module_& m) {
  BindExecutor(m);
  BindCachedOp(m);
}

}  // namespace python
}  // namespace pmx
