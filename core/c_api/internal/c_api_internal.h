// Shared pieces of the C ABI implementation: handle structs, the thread-local last error, and the
// PMX_API_BEGIN / PMX_API_END pair that turns every exception into a status code.
#ifndef POLYMIX_CORE_C_API_INTERNAL_C_API_INTERNAL_H_
#define POLYMIX_CORE_C_API_INTERNAL_C_API_INTERNAL_H_

#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/array/ndarray_io.h"
#include "core/base/error.h"
#include "core/c_api/polymix.h"

// The object behind a PmxNDArrayHandle.
struct PmxNDArray {
  pmx::NDArray array;  // The array (shares its chunk with other handles).
};

// The object behind a PmxNDArrayListHandle.
struct PmxNDArrayList {
  pmx::params::ArrayList list;  // Arrays and optional names.
};

namespace pmx {
namespace c_api {

// Stores `error` as the calling thread's last error.
void SetLastError(const Error& error);

// Returns a thread-local string that stays valid until the thread's next C ABI call that uses it.
std::string& ThreadLocalString();

// Throws ValueError naming `function` and `argument` if `pointer` is null.
void CheckNotNull(const void* pointer, const char* function, const char* argument);

// The array behind `handle`; ValueError naming `function` for a null handle.
const NDArray& ArrayOf(PmxNDArrayHandle handle, const char* function);

// A new handle owning a reference to `array`.
PmxNDArrayHandle NewHandle(NDArray array);

// Builds a Shape from a C array of `ndim` dims; ValueError naming `function` for bad input.
Shape ShapeFrom(const int64_t* dims, int ndim, const char* function);

}  // namespace c_api
}  // namespace pmx

// Opens the body of every C ABI function: everything until PMX_API_END is guarded.
#define PMX_API_BEGIN() try {
// Closes the body: success returns 0; any exception becomes the thread's last error and returns -1.
#define PMX_API_END()                                                \
  }                                                                  \
  catch (...) {                                                      \
    ::pmx::c_api::SetLastError(::pmx::CurrentExceptionAsError());    \
    return -1;                                                       \
  }                                                                  \
  return 0;

#endif  // POLYMIX_CORE_C_API_INTERNAL_C_API_INTERNAL_H_
