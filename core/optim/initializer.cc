#include "core/optim/initializer.h"

#include <cmath>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/ops/invoke.h"
#include "core/ops/op.h"
#include "nlohmann/json.hpp"

namespace pmx {
namespace optim {
namespace {

using Params = std::map<std::string, std::string>;
using JsonArgs = std::vector<std::pair<std::string, std::string>>;

// A number as Python's json.dumps writes a constructor default: integral values as ints (Xavier's
// magnitude=3 is "3"), others as the shortest round-trip float ("0.07").
std::string JsonNumber(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return nlohmann::json(static_cast<int64_t>(value)).dump();
  }
  return nlohmann::json(value).dump();
}

// A string as JSON text.
std::string JsonString(const std::string& value) { return nlohmann::json(value).dump(); }

// The JSON text of a keyword argument given as a string: numbers keep their spelling's kind ("3" stays an
// int, "3.0" a float, as Python's json.dumps of the original value), None/True/False become null/true/false.
std::string JsonFromText(const std::string& text) {
  const std::string value = Unquote(text);
  if (value == "None") return "null";
  if (value == "True" || value == "False") return value == "True" ? "true" : "false";
  nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_number()) return parsed.dump();
  return JsonString(value);
}

// Runs the random sampler `op` (with its distribution `params`) into `array`. Non-float arrays get float32
// draws converted to their dtype; a device without a kernel for `op` gets draws made on the host.
void FillRandom(const std::string& op, Params params, const NDArray& array) {
  const bool has_kernel = OpRegistry::Get()->Lookup(op).kernels.count(array.device().type) > 0;
  const bool direct = has_kernel && (array.dtype() == DType::kFloat16 || array.dtype() == DType::kFloat32 ||
                                     array.dtype() == DType::kFloat64);
  NDArray target =
      direct ? array : NDArray::Empty(array.shape(), DType::kFloat32, has_kernel ? array.device() : Device::cpu());
  params["shape"] = target.shape().ToString();
  params["dtype"] = DTypeName(target.dtype());
  InvokeOptions options;
  options.device = target.device();
  options.outputs = {target};
  Invoke(op, {}, params, options);
  if (!direct) target.CopyTo(array);
}

// Fills uniform in [-scale, scale).
void FillUniform(double scale, const NDArray& array) {
  FillRandom("_random_uniform", {{"low", FormatFloat(-scale)}, {"high", FormatFloat(scale)}}, array);
}

// Fills normal with mean 0 and standard deviation `sigma`.
void FillNormal(double sigma, const NDArray& array) {
  FillRandom("_random_normal", {{"loc", "0"}, {"scale", FormatFloat(sigma)}}, array);
}

// Throws ValueError unless `value` is one of `choices`.
void CheckChoice(const char* where, const char* what, const std::string& value,
                 const std::vector<std::string>& choices) {
  for (const std::string& choice : choices) {
    if (value == choice) return;
  }
  Throw(ErrorKind::kValueError, "%s %s must be one of %s, given '%s'", where, what, absl::StrJoin(choices, ", "),
        value);
}

}  // namespace

void Initializer::Apply(const InitDesc& desc, const NDArray& array) const {
  PMX_CHECK(!array.is_none(), kValueError, "[initializer %s] cannot initialize %s: it is a none array", name_,
            desc.name);
  auto init = desc.attrs.find("__init__");
  if (init != desc.attrs.end() && !init->second.empty()) {
    CreateInitializer(init->second)->InitWeight(desc.name, array);
    return;
  }
  const std::string& name = desc.name;
  if (absl::EndsWith(name, "weight")) {
    InitWeight(name, array);
  } else if (absl::EndsWith(name, "bias") || absl::EndsWith(name, "beta") || absl::EndsWith(name, "moving_mean") ||
             absl::EndsWith(name, "moving_inv_var") || absl::EndsWith(name, "moving_avg")) {
    array.Fill(0);
  } else if (absl::EndsWith(name, "gamma") || absl::EndsWith(name, "moving_var")) {
    array.Fill(1);
  } else {
    Throw(ErrorKind::kValueError,
          "[initializer %s] unknown initialization pattern for '%s': default initialization covers names ending "
          "in weight, bias, gamma (1.0), beta (0.0) and BatchNorm's moving_mean/moving_var; give the parameter "
          "an init (its __init__ attribute) or use Mixed",
          name_, name);
  }
}

std::string Initializer::Dumps() const {
  std::vector<std::string> entries;
  for (const auto& entry : kwargs_) entries.push_back(JsonString(entry.first) + ": " + entry.second);
  return "[" + JsonString(name_) + ", {" + absl::StrJoin(entries, ", ") + "}]";
}

void Zero::InitWeight(const std::string&, const NDArray& array) const { array.Fill(0); }

void One::InitWeight(const std::string&, const NDArray& array) const { array.Fill(1); }

Constant::Constant(double value) : Initializer("constant", {{"value", JsonNumber(value)}}), value_(value) {}

void Constant::InitWeight(const std::string&, const NDArray& array) const { array.Fill(value_); }

Uniform::Uniform(double scale) : Initializer("uniform", {{"scale", JsonNumber(scale)}}), scale_(scale) {}

void Uniform::InitWeight(const std::string&, const NDArray& array) const { FillUniform(scale_, array); }

Normal::Normal(double sigma) : Initializer("normal", {{"sigma", JsonNumber(sigma)}}), sigma_(sigma) {}

void Normal::InitWeight(const std::string&, const NDArray& array) const { FillNormal(sigma_, array); }

Xavier::Xavier(const std::string& rnd_type, const std::string& factor_type, double magnitude)
    : Xavier("xavier",
             {{"rnd_type", JsonString(rnd_type)}, {"factor_type", JsonString(factor_type)},
              {"magnitude", JsonNumber(magnitude)}},
             rnd_type, factor_type, magnitude) {}

Xavier::Xavier(std::string name, std::vector<std::pair<std::string, std::string>> kwargs, std::string rnd_type,
               std::string factor_type, double magnitude)
    : Initializer(std::move(name), std::move(kwargs)),
      rnd_type_(std::move(rnd_type)),
      factor_type_(std::move(factor_type)),
      magnitude_(magnitude) {
  CheckChoice("[initializer xavier]", "rnd_type", rnd_type_, {"uniform", "gaussian"});
  CheckChoice("[initializer xavier]", "factor_type", factor_type_, {"avg", "in", "out"});
}

void Xavier::InitWeight(const std::string& name, const NDArray& array) const {
  const Shape& shape = array.shape();
  PMX_CHECK(shape.ndim() >= 2, kValueError,
            "[initializer %s] cannot initialize %s of shape %s: Xavier needs at least 2 dimensions", this->name(),
            name, shape.ToString());
  double receptive = 1;
  for (int i = 2; i < shape.ndim(); ++i) receptive *= static_cast<double>(shape[i]);
  const double fan_in = static_cast<double>(shape[1]) * receptive;
  const double fan_out = static_cast<double>(shape[0]) * receptive;
  const double factor = factor_type_ == "avg" ? (fan_in + fan_out) / 2 : factor_type_ == "in" ? fan_in : fan_out;
  const double scale = std::sqrt(magnitude_ / factor);
  if (rnd_type_ == "uniform") {
    FillUniform(scale, array);
  } else {
    FillNormal(scale, array);
  }
}

MSRAPrelu::MSRAPrelu(const std::string& factor_type, double slope)
    : Xavier("msraprelu", {{"factor_type", JsonString(factor_type)}, {"slope", JsonNumber(slope)}}, "gaussian",
             factor_type, 2.0 / (1 + slope * slope)) {}

Orthogonal::Orthogonal(double scale, const std::string& rand_type)
    : Initializer("orthogonal", {{"scale", JsonNumber(scale)}, {"rand_type", JsonString(rand_type)}}),
      scale_(scale),
      rand_type_(rand_type) {
  CheckChoice("[initializer orthogonal]", "rand_type", rand_type_, {"uniform", "normal"});
}

void Orthogonal::InitWeight(const std::string& name, const NDArray& array) const {
  const Shape& shape = array.shape();
  PMX_CHECK(shape.ndim() >= 1 && shape.size() > 0, kValueError,
            "[initializer orthogonal] cannot initialize %s of shape %s: expected at least one non-empty dimension",
            name, shape.ToString());
  const int64_t rows = shape[0];
  const int64_t cols = shape.size() / rows;
  // Drawn and factorized on the host, as MXNet does (NumPy's SVD), then copied to the array's device.
  NDArray draws = NDArray::Empty(Shape({rows, cols}), DType::kFloat32, Device::cpu());
  if (rand_type_ == "uniform") {
    FillRandom("_random_uniform", {{"low", "-1"}, {"high", "1"}}, draws);
  } else {
    FillNormal(1.0, draws);
  }
  // LQ gives orthonormal rows for rows <= cols; for tall matrices factor the transpose and transpose back.
  NDArray q;
  if (rows <= cols) {
    q = Invoke("_linalg_gelqf", {draws}).at(0);
  } else {
    NDArray transposed = Invoke1("transpose", {draws});
    q = Invoke1("transpose", {Invoke("_linalg_gelqf", {transposed}).at(0)});
  }
  Invoke1("_mul_scalar", {q}, {{"scalar", FormatFloat(scale_)}}).Reshape(shape).CopyTo(array);
}

Mixed::Mixed(std::vector<std::string> patterns, std::vector<std::shared_ptr<const Initializer>> initializers)
    : Initializer("mixed", {}), patterns_(std::move(patterns)), initializers_(std::move(initializers)) {
  PMX_CHECK(patterns_.size() == initializers_.size(), kValueError,
            "[initializer mixed] expected one initializer per pattern, given %d pattern(s) and %d initializer(s)",
            static_cast<int>(patterns_.size()), static_cast<int>(initializers_.size()));
  for (size_t i = 0; i < patterns_.size(); ++i) {
    PMX_CHECK(initializers_[i] != nullptr, kValueError, "[initializer mixed] initializer %d is null",
              static_cast<int>(i));
    try {
      regexes_.emplace_back(patterns_[i]);
    } catch (const std::regex_error& error) {
      Throw(ErrorKind::kValueError, "[initializer mixed] pattern '%s' is not a valid regular expression: %s",
            patterns_[i], error.what());
    }
  }
}

const Initializer& Mixed::Pick(const std::string& name) const {
  for (size_t i = 0; i < regexes_.size(); ++i) {
    if (std::regex_search(name, regexes_[i], std::regex_constants::match_continuous)) return *initializers_[i];
  }
  Throw(ErrorKind::kValueError,
        "[initializer mixed] parameter name '%s' did not match any pattern (%s): consider adding a \".*\" pattern "
        "at the end with a default initializer",
        name, absl::StrJoin(patterns_, ", "));
}

void Mixed::Apply(const InitDesc& desc, const NDArray& array) const { Pick(desc.name).Apply(desc, array); }

void Mixed::InitWeight(const std::string& name, const NDArray& array) const { Pick(name).InitWeight(name, array); }

std::string Mixed::Dumps() const {
  Throw(ErrorKind::kNotImplementedError, "[initializer mixed] Mixed has no JSON form (as in MXNet)");
}

namespace {

// Builds an initializer from its keyword arguments.
using Builder = std::function<std::unique_ptr<Initializer>(KwArgsReader&)>;

const std::map<std::string, Builder>& Registry() {
  static const auto* registry = new std::map<std::string, Builder>{
      {"zero", [](KwArgsReader&) { return std::make_unique<Zero>(); }},
      {"zeros", [](KwArgsReader&) { return std::make_unique<Zero>(); }},
      {"one", [](KwArgsReader&) { return std::make_unique<One>(); }},
      {"ones", [](KwArgsReader&) { return std::make_unique<One>(); }},
      {"constant", [](KwArgsReader& args) { return std::make_unique<Constant>(args.RequiredFloat("value")); }},
      {"uniform", [](KwArgsReader& args) { return std::make_unique<Uniform>(args.Float("scale", 0.07)); }},
      {"normal", [](KwArgsReader& args) { return std::make_unique<Normal>(args.Float("sigma", 0.01)); }},
      {"xavier",
       [](KwArgsReader& args) {
         const std::string rnd_type = args.Str("rnd_type", "uniform");
         const std::string factor_type = args.Str("factor_type", "avg");
         return std::make_unique<Xavier>(rnd_type, factor_type, args.Float("magnitude", 3));
       }},
      {"msraprelu",
       [](KwArgsReader& args) {
         const std::string factor_type = args.Str("factor_type", "avg");
         return std::make_unique<MSRAPrelu>(factor_type, args.Float("slope", 0.25));
       }},
      {"orthogonal",
       [](KwArgsReader& args) {
         const double scale = args.Float("scale", 1.414);
         return std::make_unique<Orthogonal>(scale, args.Str("rand_type", "uniform"));
       }},
  };
  return *registry;
}

// A JSON value as the string a binding would pass for it.
std::string TextFromJson(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "None";
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  return value.dump();
}

}  // namespace

std::unique_ptr<Initializer> CreateInitializer(const std::string& name_or_json, const KwArgs& kwargs) {
  std::string name = name_or_json;
  KwArgs args = kwargs;
  const std::string trimmed(absl::StripAsciiWhitespace(name_or_json));
  if (!trimmed.empty() && trimmed.front() == '[') {
    PMX_CHECK(kwargs.empty(), kValueError,
              "[initializer] give keyword arguments either in the JSON form or separately, not both: %s", trimmed);
    nlohmann::json parsed = nlohmann::json::parse(trimmed, nullptr, /*allow_exceptions=*/false);
    PMX_CHECK(parsed.is_array() && parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_object(), kValueError,
              "[initializer] expected MXNet's JSON form [\"name\", {arguments}], given %s", trimmed);
    name = parsed[0].get<std::string>();
    for (const auto& item : parsed[1].items()) args[item.key()] = TextFromJson(item.value());
  }
  const std::string key = absl::AsciiStrToLower(name);
  auto it = Registry().find(key);
  PMX_CHECK(it != Registry().end(), kValueError, "[initializer] unknown initializer '%s': expected one of %s", name,
            absl::StrJoin(InitializerNames(), ", "));
  KwArgsReader reader("[initializer " + key + "]", args);
  std::unique_ptr<Initializer> initializer = it->second(reader);
  reader.Finish();
  // Keep the given spelling of each argument so that Dumps() writes what MXNet would for the same call.
  for (auto& entry : initializer->kwargs_) {
    auto given = args.find(entry.first);
    if (given != args.end()) entry.second = JsonFromText(given->second);
  }
  return initializer;
}

std::vector<std::string> InitializerNames() {
  std::vector<std::string> names;
  for (const auto& entry : Registry()) names.push_back(entry.first);
  return names;
}

}  // namespace optim
}  // namespace pmx
