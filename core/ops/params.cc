#include "core/ops/params.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/error.h"

namespace pmx {
namespace {

[[noreturn]] void BadValue(const std::string& op, const ParamDef& def, const std::string& text,
                           const std::string& expected) {
  Throw(ErrorKind::kValueError, "[%s] parameter '%s' is '%s': expected %s", op, def.name, text, expected);
}

bool ParseInt(absl::string_view text, int64_t* out) {
  text = absl::StripAsciiWhitespace(text);
  // MXNet writes some integer defaults as "1L" (Python 2 longs in old JSON files).
  if (absl::EndsWith(text, "L")) text.remove_suffix(1);
  return absl::SimpleAtoi(text, out);
}

bool ParseFloat(absl::string_view text, double* out) {
  text = absl::StripAsciiWhitespace(text);
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "inf" || lower == "+inf" || lower == "infinity") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "-inf" || lower == "-infinity") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(text, out);
}

// Splits "(2, 3)", "[2,3]", "(2,)", "()" or "2" into its element texts.
bool SplitTuple(absl::string_view text, std::vector<std::string>* items) {
  text = absl::StripAsciiWhitespace(text);
  if (!text.empty() && (text.front() == '(' || text.front() == '[')) {
    const char close = text.front() == '(' ? ')' : ']';
    if (text.size() < 2 || text.back() != close) return false;
    text = text.substr(1, text.size() - 2);
  }
  items->clear();
  if (absl::StripAsciiWhitespace(text).empty()) return true;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;  // "(2,)".
    items->emplace_back(item);
  }
  return true;
}

}  // namespace

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "boolean";
    case ParamType::kShape: return "Shape(tuple)";
    case ParamType::kFloatTuple: return "tuple of <float>";
    case ParamType::kDType: return "dtype";
    case ParamType::kEnum: return "enum";
    case ParamType::kString: return "string";
  }
  return "unknown";
}

ParamValue ParseParamValue(const std::string& op, const ParamDef& def, const std::string& text) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(text);
  if (def.nullable && (stripped == "None" || stripped == "none" || stripped.empty())) return std::monostate{};
  switch (def.type) {
    case ParamType::kInt: {
      int64_t value;
      if (!ParseInt(stripped, &value)) BadValue(op, def, text, "an integer");
      return value;
    }
    case ParamType::kFloat: {
      double value;
      if (!ParseFloat(stripped, &value)) BadValue(op, def, text, "a real number");
      return value;
    }
    case ParamType::kBool: {
      const std::string lower = absl::AsciiStrToLower(stripped);
      if (lower == "true" || lower == "1") return true;
      if (lower == "false" || lower == "0") return false;
      BadValue(op, def, text, "True or False");
    }
    case ParamType::kShape: {
      std::vector<std::string> items;
      std::vector<int64_t> values;
      if (!SplitTuple(stripped, &items)) BadValue(op, def, text, "a tuple of integers such as (2, 3)");
      for (const std::string& item : items) {
        int64_t value;
        // MXNet writes unknown dimensions of old files as "None" inside tuples; read them as -1.
        if (item == "None") value = -1;
        else if (!ParseInt(item, &value)) BadValue(op, def, text, "a tuple of integers such as (2, 3)");
        values.push_back(value);
      }
      return values;
    }
    case ParamType::kFloatTuple: {
      std::vector<std::string> items;
      std::vector<double> values;
      if (!SplitTuple(stripped, &items)) BadValue(op, def, text, "a tuple of numbers such as (0.5, 1.0)");
      for (const std::string& item : items) {
        double value;
        if (!ParseFloat(item, &value)) BadValue(op, def, text, "a tuple of numbers such as (0.5, 1.0)");
        values.push_back(value);
      }
      return values;
    }
    case ParamType::kDType: {
      std::string name(stripped);
      try {
        return DTypeFromName(name);
      } catch (const Error&) {
        BadValue(op, def, text, "a dtype name such as float32, float16, int32 or int64");
      }
    }
    case ParamType::kEnum: {
      for (const std::string& choice : def.choices) {
        if (stripped == choice) return choice;
      }
      BadValue(op, def, text, "one of {'" + absl::StrJoin(def.choices, "', '") + "'}");
    }
    case ParamType::kString:
      return std::string(text);
  }
  BadValue(op, def, text, "a value of a known type");
}

std::string FormatParamValue(const ParamValue& value) {
  struct Formatter {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(int64_t v) const { return absl::StrCat(v); }
    std::string operator()(double v) const {
      if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
      return absl::StrFormat("%.17g", v);
    }
    std::string operator()(bool v) const { return v ? "True" : "False"; }
    std::string operator()(const std::vector<int64_t>& v) const {
      return v.size() == 1 ? absl::StrFormat("(%d,)", v[0]) : "(" + absl::StrJoin(v, ", ") + ")";
    }
    std::string operator()(const std::vector<double>& v) const {
      std::vector<std::string> parts;
      for (double x : v) parts.push_back((*this)(x));
      return v.size() == 1 ? "(" + parts[0] + ",)" : "(" + absl::StrJoin(parts, ", ") + ")";
    }
    std::string operator()(DType v) const { return DTypeName(v); }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Formatter{}, value);
}

OpParams OpParams::Parse(const std::string& op, const std::vector<ParamDef>& defs, const ParamMap& given) {
  OpParams params;
  params.op_ = op;
  for (const auto& [name, text] : given) {
    if (absl::StartsWith(name, "__")) continue;
    const ParamDef* def = nullptr;
    for (const ParamDef& candidate : defs) {
      if (candidate.name == name) def = &candidate;
    }
    if (def == nullptr) {
      std::vector<std::string> names;
      for (const ParamDef& candidate : defs) names.push_back(candidate.name);
      Throw(ErrorKind::kValueError, "[%s] unknown parameter '%s': expected one of {%s}", op, name,
            names.empty() ? std::string("no parameters") : absl::StrJoin(names, ", "));
    }
    params.values_[name] = ParseParamValue(op, *def, text);
  }
  for (const ParamDef& def : defs) {
    if (params.values_.count(def.name)) continue;
    PMX_CHECK(!def.required, kValueError, "[%s] required parameter '%s' (%s) was not given", op, def.name,
              ParamTypeName(def.type));
    params.values_[def.name] = ParseParamValue(op, def, def.default_value);
  }
  return params;
}

const ParamValue& OpParams::Get(const std::string& name) const {
  auto found = values_.find(name);
  PMX_CHECK(found != values_.end(), kRuntimeError, "[%s] parameter '%s' is not declared", op_, name);
  return found->second;
}

namespace {
template <typename T>
const T& GetAs(const std::string& op, const std::string& name, const ParamValue& value, const char* type) {
  const T* typed = std::get_if<T>(&value);
  PMX_CHECK(typed != nullptr, kTypeError, "[%s] parameter '%s' is %s: expected %s", op, name,
            std::holds_alternative<std::monostate>(value) ? "None" : "of another type", type);
  return *typed;
}
}  // namespace

int64_t OpParams::Int(const std::string& name) const { return GetAs<int64_t>(op_, name, Get(name), "an integer"); }
double OpParams::Float(const std::string& name) const { return GetAs<double>(op_, name, Get(name), "a number"); }
bool OpParams::Bool(const std::string& name) const { return GetAs<bool>(op_, name, Get(name), "a boolean"); }
const std::vector<int64_t>& OpParams::Ints(const std::string& name) const {
  return GetAs<std::vector<int64_t>>(op_, name, Get(name), "a tuple of integers");
}
const std::vector<double>& OpParams::Floats(const std::string& name) const {
  return GetAs<std::vector<double>>(op_, name, Get(name), "a tuple of numbers");
}
DType OpParams::Type(const std::string& name) const { return GetAs<DType>(op_, name, Get(name), "a dtype"); }
const std::string& OpParams::Str(const std::string& name) const {
  return GetAs<std::string>(op_, name, Get(name), "a string");
}
bool OpParams::IsNone(const std::string& name) const {
  return std::holds_alternative<std::monostate>(Get(name));
}

ParamMap OpParams::ToStrings() const {
  ParamMap strings;
  for (const auto& [name, value] : values_) strings[name] = FormatParamValue(value);
  return strings;
}

}  // namespace pmx
