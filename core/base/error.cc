#include "core/base/error.h"

#include <new>
#include <stdexcept>

namespace pmx {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRuntimeError: return "RuntimeError";
    case ErrorKind::kValueError: return "ValueError";
    case ErrorKind::kTypeError: return "TypeError";
    case ErrorKind::kIndexError: return "IndexError";
    case ErrorKind::kNotImplementedError: return "NotImplementedError";
    case ErrorKind::kOutOfMemory: return "OutOfMemory";
  }
  return "RuntimeError";
}

Error CurrentExceptionAsError() {
  try {
    throw;
  } catch (const Error& error) {
    return error;
  } catch (const std::bad_alloc& error) {
    return Error(ErrorKind::kOutOfMemory, std::string("out of memory: ") + error.what());
  } catch (const std::out_of_range& error) {
    return Error(ErrorKind::kIndexError, error.what());
  } catch (const std::invalid_argument& error) {
    return Error(ErrorKind::kValueError, error.what());
  } catch (const std::exception& error) {
    return Error(ErrorKind::kRuntimeError, error.what());
  } catch (...) {
    return Error(ErrorKind::kRuntimeError, "unknown exception (not derived from std::exception)");
  }
}

}  // namespace pmx
