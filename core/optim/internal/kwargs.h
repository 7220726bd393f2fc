// Keyword arguments given as strings, as every binding passes them (str(value) of its language's value):
// typed parsing with MXNet's spellings ("None", "True", "[10, 20]") and one error for unknown names.
#ifndef POLYMIX_CORE_OPTIM_INTERNAL_KWARGS_H_
#define POLYMIX_CORE_OPTIM_INTERNAL_KWARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace pmx {
namespace optim {

// String keyword arguments, e.g. {"learning_rate": "0.1", "clip_gradient": "None"}.
using KwArgs = std::map<std::string, std::string>;

// Parses a real number ("0.1", "1e-8", "inf"); ValueError naming `where` and `name` otherwise.
double ParseFloat(const std::string& text, const std::string& where, const std::string& name);
// Parses a real number or "None" (nullopt).
std::optional<double> ParseOptionalFloat(const std::string& text, const std::string& where,
                                         const std::string& name);
// Parses an integer ("3", "3.0" is rejected).
int64_t ParseInt(const std::string& text, const std::string& where, const std::string& name);
// Parses a boolean: True/False, true/false, 1/0.
bool ParseBool(const std::string& text, const std::string& where, const std::string& name);
// Parses a list of integers: "[10, 20]", "(10, 20)", "10,20" or a single "10".
std::vector<int64_t> ParseInts(const std::string& text, const std::string& where, const std::string& name);
// Strips one pair of matching quotes ('x' or "x"), as str() of a quoted value may leave them.
std::string Unquote(const std::string& text);
// Formats a double so that it parses back to the same value ("%.17g").
std::string FormatFloat(double value);

// Reads typed values out of KwArgs, remembering which names were read, so that Finish() can reject the
// rest with one ValueError listing the accepted names. `where` prefixes messages, e.g. "[optimizer sgd]".
class KwArgsReader {
 public:
  // Reads from `kwargs`; messages start with `where`.
  KwArgsReader(std::string where, const KwArgs& kwargs) : where_(std::move(where)), kwargs_(kwargs) {}

  // The real `name`, or `fallback` when absent.
  double Float(const std::string& name, double fallback);
  // The real-or-None `name`, or `fallback` when absent.
  std::optional<double> OptionalFloat(const std::string& name, std::optional<double> fallback);
  // The required real `name`; ValueError when absent.
  double RequiredFloat(const std::string& name);
  // The integer `name`, or `fallback` when absent.
  int64_t Int(const std::string& name, int64_t fallback);
  // The required integer `name`; ValueError when absent.
  int64_t RequiredInt(const std::string& name);
  // The integer-or-None `name`, or `fallback` when absent.
  std::optional<int64_t> OptionalInt(const std::string& name, std::optional<int64_t> fallback);
  // The boolean `name`, or `fallback` when absent.
  bool Bool(const std::string& name, bool fallback);
  // The string `name` (quotes stripped), or `fallback`; ValueError unless it is one of `choices` (when given).
  std::string Str(const std::string& name, const std::string& fallback, const std::vector<std::string>& choices = {});
  // The required integer list `name`; ValueError when absent.
  std::vector<int64_t> RequiredInts(const std::string& name);
  // Whether `name` was given (marks it read).
  bool Has(const std::string& name);
  // Throws ValueError naming every given key that was never read, with the accepted names.
  void Finish() const;

 private:
  // The text of `name` if given (marking it read).
  const std::string* Find(const std::string& name);

  std::string where_;
  const KwArgs& kwargs_;
  std::set<std::string> known_;  // Every name asked for, given or not.
};

}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_INTERNAL_KWARGS_H_
