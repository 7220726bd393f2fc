// _core.Symbol: core/graph's Symbol (composition, listing, attributes, inference, MXNet's JSON) for mx.sym.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bindings/python/src/bind.h"
#include "core/graph/symbol.h"

namespace py = pybind11;

namespace pmx {
namespace python {
namespace {

using graph::Symbol;

// One inference result as Python tuples: (arguments, outputs, auxiliary_states, complete), with `convert`
// turning each known value into a Python object and unknown slots None.
template <typename T, typename Convert>
py::tuple InferredTuple(const Symbol::Inferred<T>& inferred, Convert convert) {
  auto slots = [&](const std::vector<std::optional<T>>& values) {
    py::list list;
    for (const auto& value : values) list.append(value ? convert(*value) : py::object(py::none()));
    return list;
  };
  return py::make_tuple(slots(inferred.arguments), slots(inferred.outputs), slots(inferred.auxiliary_states),
                        inferred.complete);
}

}  // namespace

void BindSymbol(py::module_& m) {
  py::class_<Symbol>(m, "Symbol", "A symbolic graph handle (the `handle` of polymix's Symbol).")
      .def_static("variable", &Symbol::Variable, py::arg("name"), py::arg("attrs") = std::map<std::string, std::string>(),
                  "A variable with user attributes (__shape__, __dtype__, ...).")
      .def_static("create", &Symbol::Create, py::arg("op"), py::arg("positional"), py::arg("named"), py::arg("params"),
                  py::arg("name") = "", py::arg("attrs") = std::map<std::string, std::string>(),
                  "Calls an operator on symbols; inputs given neither way become variables '<name>_<input>'.")
      .def_static("group", &Symbol::Group, "The outputs of all symbols, in order.")
      .def_static("from_json", &Symbol::FromJson, "Parses MXNet symbol JSON (old MXNet versions upgrade).")
      .def_static("load", &Symbol::Load, "Reads a symbol JSON file.")
      .def("output", [](const Symbol& s, int index) { return s[index]; }, "Output `index` alone.")
      .def("output_named", [](const Symbol& s, const std::string& name) { return s[name]; },
           "The output named `name` (as list_outputs shows it).")
      .def_property_readonly("num_outputs", &Symbol::num_outputs, "Number of outputs.")
      .def("list_arguments", &Symbol::ListArguments, "Argument names in MXNet's order.")
      .def("list_outputs", &Symbol::ListOutputs, "Output names.")
      .def("list_auxiliary_states", &Symbol::ListAuxiliaryStates, "Auxiliary state names.")
      .def("list_inputs", &Symbol::ListInputs, "All variable names.")
      .def("get_internals", &Symbol::GetInternals, "Every output of every node.")
      .def("get_children", &Symbol::GetChildren, "The inputs of this symbol's output node.")
      .def("copy", &Symbol::Copy, "A deep copy.")
      .def("get_attr", &Symbol::GetAttr, "A user attribute or parameter of this symbol's node, or None.")
      .def("set_attr", &Symbol::SetAttr, "Sets a user attribute (or parameter) of this symbol's node.")
      .def("attr_dict", &Symbol::AttrDict, "Every node's attributes: name -> {key: value}.")
      .def_property_readonly("name", &Symbol::name, "The name of this symbol's output node.")
      .def(
          "infer_shape",
          [](const Symbol& s, const std::map<std::string, std::vector<int64_t>>& known) {
            std::map<std::string, Shape> shapes;
            for (const auto& [name, dims] : known) shapes[name] = Shape(absl::MakeConstSpan(dims));
            return InferredTuple(s.InferShape(shapes, /*partial=*/true), [](const Shape& shape) {
              return py::object(TupleOf(shape));
            });
          },
          "Partial shape inference from known argument shapes: (args, outputs, aux, complete); unknown is None.")
      .def(
          "infer_type",
          [](const Symbol& s, const std::map<std::string, int>& known) {
            std::map<std::string, DType> dtypes;
            for (const auto& [name, flag] : known) dtypes[name] = DTypeFromFlag(flag);
            return InferredTuple(s.InferType(dtypes, /*partial=*/true), [](DType dtype) {
              return py::object(py::int_(static_cast<int>(dtype)));
            });
          },
          "Partial dtype inference from known argument type flags: (args, outputs, aux, complete).")
      .def("tojson", &Symbol::ToJson, "MXNet's symbol JSON.")
      .def("save", &Symbol::Save, "Writes the JSON to a file.");

  m.def("new_name", &graph::NameManager::NewName, "The next automatic node name for a hint ('fullyconnected0').");
  m.def("reset_names", &graph::NameManager::Reset, "Forgets this thread's automatic name counters.");
}

}  // namespace python
}  // namespace pmx
