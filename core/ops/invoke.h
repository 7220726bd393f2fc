// Imperative execution of a registered operator on NDArrays: check, infer, allocate, push to the engine.
#ifndef POLYMIX_CORE_OPS_INVOKE_H_
#define POLYMIX_CORE_OPS_INVOKE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/ops/op.h"

namespace pmx {

// Options of one imperative call.
struct InvokeOptions {
  // Arrays to write the outputs into (MXNet's `out=`); empty: allocate new ones. When given, there must be
  // one per output (all outputs, hidden ones included) with the inferred shape and dtype.
  std::vector<NDArray> outputs;
  // How each given output is written (default kWrite); kAdd accumulates (gradients with grad_req 'add').
  std::vector<WriteMode> modes;
  // Training mode, seen by Dropout and BatchNorm.
  bool is_train = false;
  // The device of an op without array inputs (zeros, random sampling); default: DefaultDevice().
  std::optional<Device> device;
};

// Runs `op` on `inputs` with parsed `params`: checks the inputs (count, device), infers output shapes
// and dtypes, allocates outputs, and pushes the device's kernel to the engine. Returns all outputs
// (visible ones first). Errors name the op; a missing kernel is NotImplementedError.
std::vector<NDArray> Invoke(const OpDef& op, const std::vector<NDArray>& inputs, const OpParams& params,
                            const InvokeOptions& options = {});

// Looks `op` up by name or alias, parses `params` and runs it.
std::vector<NDArray> Invoke(const std::string& op, const std::vector<NDArray>& inputs,
                            const ParamMap& params = {}, const InvokeOptions& options = {});

// Runs a one-output op and returns its output.
NDArray Invoke1(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params = {});

// Infers the output shapes and dtypes of `op` for the given input shapes and dtypes, throwing ValueError
// (naming the op) when they are inconsistent or too little is known.
void InferOutputs(const OpDef& op, const OpParams& params, const std::vector<Shape>& input_shapes,
                  const std::vector<DType>& input_dtypes, std::vector<Shape>* output_shapes,
                  std::vector<DType>* output_dtypes);

// Seeds every device's random generator (mx.random.seed).
void SeedRandom(uint64_t seed);

// Draws the next 64-bit seed from `device`'s generator, as Invoke does for an op with needs_rng, so that
// graph executors that run kernels themselves give the same random numbers as the same calls made one by one.
uint64_t NextRandomSeed(Device device);

}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INVOKE_H_
