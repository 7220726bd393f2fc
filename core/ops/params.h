// Typed operator parameters: declarations (ParamDef), MXNet-style string parsing, and parsed values.
#ifndef POLYMIX_CORE_OPS_PARAMS_H_
#define POLYMIX_CORE_OPS_PARAMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/dtype.h"

namespace pmx {

// The type of an operator parameter. Values travel as strings in MXNet's spelling (symbol JSON, the C
// ABI, every binding) and are parsed once, here.
enum class ParamType {
  kInt,         // An integer: "3", "-1".
  kFloat,       // A real number: "0.5", "1e-5", "inf".
  kBool,        // "True"/"False" (also "true", "1", "0").
  kShape,       // A tuple of integers: "(2, 3)", "[2,3]", "(2,)", "()", or a lone integer "2".
  kFloatTuple,  // A tuple of reals: "(0.5, 1.0)".
  kDType,       // A dtype name: "float32", ...
  kEnum,        // One of a fixed set of strings (ParamDef::choices).
  kString,      // Free text.
};

// The name of a ParamType as the schema shows it: "int", "float", "boolean", "Shape(tuple)", ...
const char* ParamTypeName(ParamType type);

// One declared parameter of an operator.
struct ParamDef {
  std::string name;                  // MXNet's parameter name; renaming one breaks users.
  ParamType type = ParamType::kInt;  // How the value is parsed.
  std::string default_value;         // Default in MXNet's spelling; empty when required.
  bool required = false;             // Whether callers must give a value.
  bool nullable = false;             // Whether "None" is a valid value (MXNet's optional<T>).
  std::vector<std::string> choices;  // The allowed values of a kEnum.
  std::string doc;                   // One sentence for docs in every language.
};

// A parsed parameter value; std::monostate is None.
using ParamValue =
    std::variant<std::monostate, int64_t, double, bool, std::vector<int64_t>, std::vector<double>, DType,
                 std::string>;

// Parameter values as callers give them: name -> MXNet-style string.
using ParamMap = std::map<std::string, std::string>;

// The parsed, validated parameters of one operator call.
class OpParams {
 public:
  // Parses `given` against `defs` for operator `op`: fills defaults, rejects unknown names and missing
  // required ones, and parses every value; errors are ValueError/TypeError naming op, parameter,
  // expected and given. Keys starting with "__" (symbol attributes) are ignored.
  static OpParams Parse(const std::string& op, const std::vector<ParamDef>& defs, const ParamMap& given);

  // Integer parameter `name`.
  int64_t Int(const std::string& name) const;
  // Real parameter `name`.
  double Float(const std::string& name) const;
  // Boolean parameter `name`.
  bool Bool(const std::string& name) const;
  // Tuple-of-integers parameter `name`.
  const std::vector<int64_t>& Ints(const std::string& name) const;
  // Tuple-of-reals parameter `name`.
  const std::vector<double>& Floats(const std::string& name) const;
  // Dtype parameter `name`.
  DType Type(const std::string& name) const;
  // Enum or string parameter `name`.
  const std::string& Str(const std::string& name) const;
  // Whether parameter `name` is None.
  bool IsNone(const std::string& name) const;
  // Every parameter in MXNet's spelling (defaults included), as symbol JSON stores them.
  ParamMap ToStrings() const;

 private:
  const ParamValue& Get(const std::string& name) const;
  std::string op_;
  std::map<std::string, ParamValue> values_;
};

// Parses one value of `def` from MXNet-style text; throws ValueError naming `op` and the parameter.
ParamValue ParseParamValue(const std::string& op, const ParamDef& def, const std::string& text);

// Formats a value back into MXNet's spelling ("(2, 3)", "True", "float32", "None").
std::string FormatParamValue(const ParamValue& value);

}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_PARAMS_H_
