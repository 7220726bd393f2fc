// The core of mx.optimizer, mx.lr_scheduler, mx.init and mx.metric: core/optim's update steps, schedules,
// initializer fills and metric formulas (Note [Python keeps MXNet's bookkeeping]).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/python/src/bind.h"
#include "core/optim/initializer.h"
#include "core/optim/lr_scheduler.h"
#include "core/optim/metric.h"
#include "core/optim/optimizer.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

// Note [Python keeps MXNet's bookkeeping]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// MXNet users subclass Optimizer, LRScheduler, Initializer and EvalMetric in Python and reach into their
// bookkeeping (Trainer sets optimizer.rescale_grad, calls _set_current_context and reads
// _index_update_count; custom initializers override _init_bias; metrics expose sum_metric). So polymix keeps
// that bookkeeping in Python exactly as MXNet 1.9.1 writes it — update counts, lr/wd multipliers, the
// param_dict, the name-based initializer dispatch, local and global metric sums — and calls the core for
// the numerical part only:
// - an optimizer step runs through Optimizer::UpdateWith with the lr, wd and update count Python computed;
// - built-in schedules are core schedules (a Python subclass may replace __call__);
// - an initializer's weight rule is Initializer::InitWeight;
// - a metric's batch is one core Update whose sum_metric / num_inst increments Python accumulates.

using optim::EvalMetric;
using optim::Initializer;
using optim::KwArgs;
using optim::LRScheduler;
using optim::Optimizer;
using optim::OptimizerState;

// The state arrays of `weight`, in the core's order. Python makes the float32 master copy of
// multi-precision itself (create_state_multi_precision), so the core's flag is kept off here.
std::vector<NDArray> CreateState(Optimizer& optimizer, int index, const NDArray& weight) {
  optimizer.SetParam("multi_precision", "False");
  return optimizer.CreateState(index, weight).arrays;
}

void UpdateWith(Optimizer& optimizer, int index, double lr, double wd, int64_t t, const NDArray& weight,
                const NDArray& grad, const std::vector<NDArray>& arrays, const std::optional<NDArray>& weight32) {
  OptimizerState state;
  state.arrays = arrays;
  if (weight32) state.weight32 = *weight32;
  py::gil_scoped_release release;
  optimizer.UpdateWith(index, lr, wd, t, weight, grad, &state);
}

void BindOptimizer(py::module_& m) {
  py::class_<Optimizer>(m, "Optimizer", "A core optimizer: hyper-parameters and update steps (core/optim).")
      .def_property_readonly("name", &Optimizer::name, "The registered name, e.g. 'sgd'.")
      .def("set_param", &Optimizer::SetParam, "Sets a hyper-parameter from its string form (ValueError if bad).")
      .def("get_param", &Optimizer::GetParam, "The string form of a hyper-parameter ('None' when unset).")
      .def("param_names", &Optimizer::ParamNames, "Every hyper-parameter name.")
      .def("create_state", &CreateState, py::arg("index"), py::arg("weight"),
           "The state arrays of `weight` (zeros like it), in the core's order.")
      .def("update_with", &UpdateWith, py::arg("index"), py::arg("lr"), py::arg("wd"), py::arg("t"),
           py::arg("weight"), py::arg("grad"), py::arg("arrays"), py::arg("weight32"),
           "One update step in place with the given learning rate, weight decay and update count t.");
  m.def(
      "create_optimizer",
      [](const std::string& name, const KwArgs& kwargs) { return optim::CreateOptimizer(name, kwargs); },
      "A core optimizer by registered name with string keyword arguments.");
  m.def("optimizer_names", &optim::OptimizerNames, "The core's optimizer names.");
}

void BindLRScheduler(py::module_& m) {
  py::class_<LRScheduler, std::shared_ptr<LRScheduler>>(m, "LRScheduler", "A core learning-rate schedule.")
      .def("__call__", &LRScheduler::operator(), "The learning rate after num_update updates (may advance it).")
      .def_property("base_lr", &LRScheduler::base_lr, &LRScheduler::set_base_lr, "The current base learning rate.")
      .def_property_readonly("name", &LRScheduler::name, "The registered name, e.g. 'factor'.");
  m.def(
      "create_lr_scheduler",
      [](const std::string& name, const KwArgs& kwargs) {
        return std::shared_ptr<LRScheduler>(optim::CreateLRScheduler(name, kwargs));
      },
      "A core schedule by name ('factor', 'multifactor', 'poly', 'cosine') with string keyword arguments.");
}

void BindInitializer(py::module_& m) {
  py::class_<Initializer, std::shared_ptr<Initializer>>(m, "Initializer", "A core weight initializer.")
      .def(
          "init_weight",
          [](const Initializer& init, const std::string& name, const NDArray& array) {
            py::gil_scoped_release release;
            init.InitWeight(name, array);
          },
          "Fills `array` by the weight rule whatever the name (MXNet's _init_weight).")
      .def(
          "apply",
          [](const Initializer& init, const std::string& name, const std::map<std::string, std::string>& attrs,
             const NDArray& array) {
            py::gil_scoped_release release;
            init.Apply(optim::InitDesc{name, attrs}, array);
          },
          "Fills `array` by the core's name-based dispatch (Note [Initializer dispatch]).")
      .def("dumps", &Initializer::Dumps, "MXNet's JSON form, e.g. '[\"normal\", {\"sigma\": 0.01}]'.")
      .def_property_readonly("name", &Initializer::name, "The registered name, e.g. 'xavier'.");
  m.def(
      "create_initializer",
      [](const std::string& name_or_json, const KwArgs& kwargs) {
        return std::shared_ptr<Initializer>(optim::CreateInitializer(name_or_json, kwargs));
      },
      "A core initializer by name with string keyword arguments, or from MXNet's JSON form.");
}

void BindMetric(py::module_& m) {
  py::class_<EvalMetric, std::shared_ptr<EvalMetric>>(m, "EvalMetric", "A core evaluation metric.")
      .def(
          "update",
          [](EvalMetric& metric, const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
            py::gil_scoped_release release;  // Reads the arrays back: waits for pending work.
            metric.Update(labels, preds);
          },
          "Accumulates one batch (labels[i] with preds[i]).")
      .def("reset", &EvalMetric::Reset, "Clears the accumulated values.")
      .def("get", &EvalMetric::Get, "(names, values) of the result.")
      .def_property_readonly("sum_metric", &EvalMetric::sum_metric, "The accumulated sum.")
      .def_property_readonly("num_inst", &EvalMetric::num_inst, "The accumulated number of instances.")
      .def_property_readonly("name", &EvalMetric::name, "The display name.");
  m.def(
      "create_metric",
      [](const std::string& name, const KwArgs& kwargs) {
        return std::shared_ptr<EvalMetric>(optim::CreateMetric(name, kwargs));
      },
      "A core metric by name or alias with string keyword arguments.");
}

}  // namespace

void BindOptim(py::module_& m) {
  BindOptimizer(m);
  BindLRScheduler(m);
  BindInitializer(m);
  BindMetric(m);
}

}  // namespace python
}  // namespace pmx
