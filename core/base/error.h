// Errors inside the core: C++ exceptions that carry a kind, mapped by every binding to its own language.
#ifndef POLYMIX_CORE_BASE_ERROR_H_
#define POLYMIX_CORE_BASE_ERROR_H_

#include <exception>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace pmx {

// The kind of an error; the C ABI reports it and each binding raises its matching exception.
// Values are part of the C ABI (PMX_ERROR_* in core/c_api/polymix.h): never renumber.
enum class ErrorKind : int {
  kRuntimeError = 1,         // Anything else: failed system calls, internal invariants, device errors.
  kValueError = 2,           // An argument has the right type but a bad value (shape mismatch, bad file).
  kTypeError = 3,            // An argument has the wrong type (dtype not supported, wrong handle kind).
  kIndexError = 4,           // An index or axis is out of range.
  kNotImplementedError = 5,  // A valid request this build cannot do (no kernel, built without CUDA).
  kOutOfMemory = 6,          // An allocation failed.
};

// The name of an error kind as users see it, e.g. "ValueError".
const char* ErrorKindName(ErrorKind kind);

// The one exception type of the core: a kind plus a message that names op/argument, expected, given.
class Error : public std::exception {
 public:
  // Creates an error of `kind` with `message` (conventionally starting with "[op_name] ").
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  // The kind, for mapping to a language's exception type.
  ErrorKind kind() const noexcept { return kind_; }
  // The message without the kind prefix.
  const std::string& message() const noexcept { return message_; }
  // The message, as std::exception wants it.
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorKind kind_;
  std::string message_;
};

// Throws an Error of `kind` whose message is absl::StrFormat(format, args...).
template <typename... Args>
[[noreturn]] void Throw(ErrorKind kind, const absl::FormatSpec<Args...>& format, const Args&... args) {
  throw Error(kind, absl::StrFormat(format, args...));
}

// Converts any exception in flight into an Error (std::bad_alloc becomes kOutOfMemory; an unknown
// exception becomes kRuntimeError). Call only inside a catch block.
Error CurrentExceptionAsError();

}  // namespace pmx

// Throws pmx::Error(pmx::ErrorKind::kKIND, StrFormat(...)) unless `condition` holds.
#define PMX_CHECK(condition, KIND, ...)                          \
  do {                                                           \
    if (!(condition)) ::pmx::Throw(::pmx::ErrorKind::KIND, __VA_ARGS__); \
  } while (0)

#endif  // POLYMIX_CORE_BASE_ERROR_H_
