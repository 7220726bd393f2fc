// _core.Op and imperative invocation: every generated mx.nd function ends in _core.invoke.
#include <optional>
#include <string>
#include <vector>

#include "bindings/python/src/bind.h"
#include "core/autograd/autograd.h"
#include "core/base/error.h"
#include "core/ops/invoke.h"
#include "core/ops/op.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

// A registered operator, looked up once per Python function (registry entries live as long as the process).
struct OpHandle {
  const OpDef* def;
};

ParamMap ParamsFrom(const OpDef& def, const std::vector<std::string>& keys, const std::vector<std::string>& values) {
  PMX_CHECK(keys.size() == values.size(), kValueError, "[%s] %d parameter names but %d values", def.name,
            keys.size(), values.size());
  ParamMap params;
  for (size_t i = 0; i < keys.size(); ++i) params[keys[i]] = values[i];
  return params;
}

// Note [out= with hidden outputs]
// Invoke takes given outputs for all of an op's outputs, hidden ones included (Dropout's mask), while MXNet's
// out= names only the visible ones. When a caller gives only those, the op allocates its outputs and the
// results are copied into the given arrays with the _copy operator (recorded like any op), so out= behaves
// the same for every op.
std::vector<NDArray> InvokeOp(const OpHandle& op, const std::vector<NDArray>& inputs,
                              const std::vector<std::string>& keys, const std::vector<std::string>& values,
                              const std::vector<NDArray*>& outputs, const std::optional<DevicePair>& device) {
  const OpDef& def = *op.def;
  const OpParams params = def.ParseParams(ParamsFrom(def, keys, values));
  const int num_outputs = def.NumOutputs(params);
  const int num_visible = def.NumVisibleOutputs(params);
  const int num_given = static_cast<int>(outputs.size());
  PMX_CHECK(num_given == 0 || num_given == num_visible || num_given == num_outputs, kValueError,
            "[%s] out= has %d arrays: expected %d (one per output)", def.name, num_given, num_visible);
  InvokeOptions options;
  if (device) options.device = DeviceFrom(*device);
  const bool direct = num_given == num_outputs;
  if (direct) {
    for (NDArray* output : outputs) options.outputs.push_back(*output);
  }
  std::vector<NDArray> results;
  {
    py::gil_scoped_release release;
    results = autograd::Invoke(def, inputs, params, options);
    if (num_given > 0 && !direct) {
      const OpDef& copy = OpRegistry::Get()->Lookup("_copy");
      const OpParams no_params = copy.ParseParams({});
      for (int i = 0; i < num_given; ++i) {
        InvokeOptions into;
        into.outputs = {*outputs[i]};
        results[i] = autograd::Invoke(copy, {results[i]}, no_params, into).at(0);
      }
    }
  }
  // The caller's handles take the results' autograd slots (Note [Handles and the Python NDArray]).
  for (int i = 0; i < num_given; ++i) *outputs[i] = results[i];
  results.resize(num_visible);
  return results;
}

}  // namespace

void BindOps(py::module_& m) {
  py::class_<OpHandle>(m, "Op", "A registered operator.")
      .def_property_readonly("name", [](const OpHandle& op) { return op.def->name; }, "Canonical name.")
      .def_property_readonly("aliases", [](const OpHandle& op) { return op.def->aliases; }, "Other names.")
      .def_property_readonly("inputs", [](const OpHandle& op) { return op.def->inputs; }, "Input names.")
      .def_property_readonly("doc", [](const OpHandle& op) { return op.def->doc; }, "Documentation.")
      .def("__repr__", [](const OpHandle& op) { return "<Op " + op.def->name + ">"; });

  m.def(
      "get_op", [](const std::string& name) { return OpHandle{&OpRegistry::Get()->Lookup(name)}; },
      "The operator called (or aliased) `name`; ValueError naming close names when there is none.");
  m.def(
      "op_names",
      [] {
        std::vector<std::string> names;
        for (const OpDef* def : OpRegistry::Get()->List()) {
          names.push_back(def->name);
          names.insert(names.end(), def->aliases.begin(), def->aliases.end());
        }
        return names;
      },
      "Every operator name and alias.");
  m.def(
      "schema_json", [] { return OpRegistry::Get()->SchemaJson(); },
      "The operator registry as JSON (what tools/opgen generates the op functions from).");
  m.def("invoke", &InvokeOp, py::arg("op"), py::arg("inputs"), py::arg("keys"), py::arg("values"),
        py::arg("outputs"), py::arg("device") = std::nullopt,
        "Runs `op` on `inputs` with string parameters (recorded under autograd); writes into `outputs` when "
        "given; returns the visible outputs.");
  m.def("seed", &SeedRandom, "Seeds every device's random generator (mx.random.seed).");
}

}  // namespace python
}  // namespace pmx
