// Saving and loading lists of NDArrays in MXNet's .params format (mx.nd.save / mx.nd.load).
#ifndef POLYMIX_CORE_ARRAY_NDARRAY_IO_H_
#define POLYMIX_CORE_ARRAY_NDARRAY_IO_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/array/ndarray.h"

namespace pmx {
namespace params {

// The contents of a .params file: a list of arrays and, for a named (dict) file, one name per array.
struct ArrayList {
  std::vector<NDArray> arrays;     // The arrays, in file order, on cpu(0); none arrays stay none.
  std::vector<std::string> names;  // Empty for an unnamed (list) file, else names[i] names arrays[i].
};

// Writes `arrays` (with `names`, empty for an unnamed list, else one per array) to `path`. The file is
// written to a temporary next to `path` and renamed over it, so a failure never leaves a partial file.
// Waits for pending writes to the arrays; GPU arrays are copied to the host. Layout and versions:
// Note [MXNet .params layout] in core/array/internal/params_format.h.
void Save(const std::string& path, const std::vector<NDArray>& arrays, const std::vector<std::string>& names = {});

// Reads a .params file written by Polymix or MXNet (V1, V2, V3 or legacy arrays). Every array is put on
// cpu(0), wherever it was saved from. A corrupt or truncated file is a ValueError naming the file, the
// byte offset and the field; sparse arrays and MXNet-only dtypes are NotImplementedError.
ArrayList Load(const std::string& path);

// Save's bytes, in memory.
std::string SaveToBytes(const std::vector<NDArray>& arrays, const std::vector<std::string>& names = {});

// Load, from memory; errors name the source as "<bytes>".
ArrayList LoadFromBytes(std::string_view bytes);

}  // namespace params
}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_NDARRAY_IO_H_
