#include "core/optim/internal/kwargs.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/error.h"

namespace pmx {
namespace optim {

std::string Unquote(const std::string& text) {
  std::string trimmed(absl::StripAsciiWhitespace(text));
  if (trimmed.size() >= 2 && (trimmed.front() == '\'' || trimmed.front() == '"') &&
      trimmed.back() == trimmed.front()) {
    return trimmed.substr(1, trimmed.size() - 2);
  }
  return trimmed;
}

double ParseFloat(const std::string& text, const std::string& where, const std::string& name) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(trimmed.c_str(), &end);
  PMX_CHECK(!trimmed.empty() && end == trimmed.c_str() + trimmed.size() && errno != ERANGE, kValueError,
            "%s parameter '%s' must be a real number, given '%s'", where, name, text);
  return value;
}

std::optional<double> ParseOptionalFloat(const std::string& text, const std::string& where,
                                         const std::string& name) {
  if (Unquote(text) == "None") return std::nullopt;
  return ParseFloat(text, where, name);
}

int64_t ParseInt(const std::string& text, const std::string& where, const std::string& name) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(trimmed.c_str(), &end, 10);
  PMX_CHECK(!trimmed.empty() && end == trimmed.c_str() + trimmed.size() && errno != ERANGE, kValueError,
            "%s parameter '%s' must be an integer, given '%s'", where, name, text);
  return value;
}

bool ParseBool(const std::string& text, const std::string& where, const std::string& name) {
  const std::string value = Unquote(text);
  if (value == "True" || value == "true" || value == "1") return true;
  if (value == "False" || value == "false" || value == "0") return false;
  Throw(ErrorKind::kValueError, "%s parameter '%s' must be a boolean (True or False), given '%s'", where, name,
        text);
}

std::vector<int64_t> ParseInts(const std::string& text, const std::string& where, const std::string& name) {
  std::string body(absl::StripAsciiWhitespace(text));
  if (body.size() >= 2 && ((body.front() == '[' && body.back() == ']') || (body.front() == '(' && body.back() == ')'))) {
    body = body.substr(1, body.size() - 2);
  }
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(body, ',', absl::SkipWhitespace())) {
    values.push_back(ParseInt(std::string(part), where, name));
  }
  PMX_CHECK(!values.empty(), kValueError, "%s parameter '%s' must be a non-empty list of integers, given '%s'", where,
            name, text);
  return values;
}

std::string FormatFloat(double value) { return absl::StrFormat("%.17g", value); }

const std::string* KwArgsReader::Find(const std::string& name) {
  known_.insert(name);
  auto it = kwargs_.find(name);
  return it == kwargs_.end() ? nullptr : &it->second;
}

double KwArgsReader::Float(const std::string& name, double fallback) {
  const std::string* text = Find(name);
  return text ? ParseFloat(*text, where_, name) : fallback;
}

std::optional<double> KwArgsReader::OptionalFloat(const std::string& name, std::optional<double> fallback) {
  const std::string* text = Find(name);
  return text ? ParseOptionalFloat(*text, where_, name) : fallback;
}

double KwArgsReader::RequiredFloat(const std::string& name) {
  const std::string* text = Find(name);
  PMX_CHECK(text != nullptr, kValueError, "%s missing required parameter '%s'", where_, name);
  return ParseFloat(*text, where_, name);
}

int64_t KwArgsReader::Int(const std::string& name, int64_t fallback) {
  const std::string* text = Find(name);
  return text ? ParseInt(*text, where_, name) : fallback;
}

int64_t KwArgsReader::RequiredInt(const std::string& name) {
  const std::string* text = Find(name);
  PMX_CHECK(text != nullptr, kValueError, "%s missing required parameter '%s'", where_, name);
  return ParseInt(*text, where_, name);
}

std::optional<int64_t> KwArgsReader::OptionalInt(const std::string& name, std::optional<int64_t> fallback) {
  const std::string* text = Find(name);
  if (text == nullptr) return fallback;
  if (Unquote(*text) == "None") return std::nullopt;
  return ParseInt(*text, where_, name);
}

bool KwArgsReader::Bool(const std::string& name, bool fallback) {
  const std::string* text = Find(name);
  return text ? ParseBool(*text, where_, name) : fallback;
}

std::string KwArgsReader::Str(const std::string& name, const std::string& fallback,
                              const std::vector<std::string>& choices) {
  const std::string* text = Find(name);
  const std::string value = text ? Unquote(*text) : fallback;
  if (!choices.empty()) {
    bool found = false;
    for (const std::string& choice : choices) found = found || choice == value;
    PMX_CHECK(found, kValueError, "%s parameter '%s' must be one of %s, given '%s'", where_, name,
              absl::StrJoin(choices, ", "), value);
  }
  return value;
}

std::vector<int64_t> KwArgsReader::RequiredInts(const std::string& name) {
  const std::string* text = Find(name);
  PMX_CHECK(text != nullptr, kValueError, "%s missing required parameter '%s'", where_, name);
  return ParseInts(*text, where_, name);
}

bool KwArgsReader::Has(const std::string& name) { return Find(name) != nullptr; }

void KwArgsReader::Finish() const {
  std::vector<std::string> unknown;
  for (const auto& entry : kwargs_) {
    if (known_.count(entry.first) == 0) unknown.push_back(entry.first);
  }
  PMX_CHECK(unknown.empty(), kValueError, "%s unknown parameter(s) %s: expected some of %s", where_,
            absl::StrJoin(unknown, ", "), absl::StrJoin(known_, ", "));
}

}  // namespace optim
}  // namespace pmx
