// mx.autograd's core: recording and training flags, variables, backward and grad (core/autograd).
#include <vector>

#include "bindings/python/src/bind.h"
#include "core/autograd/autograd.h"
#include "core/base/error.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

autograd::GradReq GradReqFrom(int req) {
  PMX_CHECK(req == 0 || req == 1 || req == 3, kValueError,
            "[mark_variables] grad_req %d: expected 0 (null), 1 (write) or 3 (add)", req);
  return static_cast<autograd::GradReq>(req);
}

// None entries (no head gradient: ones) arrive as None and become none arrays.
std::vector<NDArray> ArraysOrNone(const std::vector<std::optional<NDArray>>& given) {
  std::vector<NDArray> arrays;
  for (const auto& array : given) arrays.push_back(array ? *array : NDArray());
  return arrays;
}

}  // namespace

void BindAutograd(py::module_& m) {
  m.def("is_recording", &autograd::IsRecording, "Whether this thread records operator calls.");
  m.def("set_recording", &autograd::SetRecording, "Turns recording on or off; returns the previous state.");
  m.def("is_training", &autograd::IsTraining, "Whether this thread runs operators in training mode.");
  m.def("set_training", &autograd::SetTraining, "Turns training mode on or off; returns the previous state.");
  m.def(
      "mark_variables",
      [](const std::vector<NDArray*>& variables, const std::vector<std::optional<NDArray>>& gradients,
         const std::vector<int>& reqs) {
        std::vector<autograd::GradReq> grad_reqs;
        for (int req : reqs) grad_reqs.push_back(GradReqFrom(req));
        autograd::MarkVariables(variables, ArraysOrNone(gradients), grad_reqs);
      },
      "Marks arrays as variables with gradient buffers (None allocates zeros) and grad_req flags.");
  m.def(
      "grad_of",
      [](const NDArray& array) -> std::optional<NDArray> {
        NDArray grad = autograd::GradOf(array);
        if (grad.is_none()) return std::nullopt;
        return grad;
      },
      "The gradient buffer of a variable, or None.");
  m.def("grad_is_fresh", &autograd::GradIsFresh,
        "Whether a backward wrote the variable's gradient since the flag was cleared (MXNet's _fresh_grad).");
  m.def("set_grad_fresh", &autograd::SetGradFresh, "Sets or clears a variable's fresh-gradient flag.");
  m.def("in_graph", &autograd::InGraph, "Whether the array is a variable or the output of a recorded node.");
  m.def("detach", &autograd::Detach, "The same data outside any graph.");
  m.def(
      "backward",
      [](const std::vector<NDArray>& heads, const std::vector<std::optional<NDArray>>& head_grads,
         bool retain_graph, bool create_graph, bool is_train) {
        const std::vector<NDArray> grads = ArraysOrNone(head_grads);
        py::gil_scoped_release release;
        autograd::Backward(heads, grads, retain_graph, create_graph, is_train);
      },
      "Differentiates `heads` into the variables' gradient buffers.");
  m.def(
      "grad",
      [](const std::vector<NDArray>& heads, const std::vector<NDArray>& variables,
         const std::vector<std::optional<NDArray>>& head_grads, bool retain_graph, bool create_graph, bool is_train) {
        const std::vector<NDArray> grads = ArraysOrNone(head_grads);
        py::gil_scoped_release release;
        return autograd::Grad(heads, variables, grads, retain_graph, create_graph, is_train);
      },
      "The gradients of `heads` with respect to `variables`, leaving gradient buffers alone.");
}

}  // namespace python
}  // namespace pmx
