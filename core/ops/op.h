// The operator registry: one declaration per operator carries everything every consumer needs
// (docs, inputs, outputs, typed parameters, shape/dtype inference, kernels per device, the gradient).
#ifndef POLYMIX_CORE_OPS_OP_H_
#define POLYMIX_CORE_OPS_OP_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/base/device.h"
#include "core/base/dtype.h"
#include "core/base/shape.h"
#include "core/ops/params.h"

namespace pmx {

// A view of one operand inside a kernel: raw memory plus its layout (compact, row-major).
struct TensorRef {
  void* data = nullptr;           // First element; nullptr for zero-size tensors.
  Shape shape;                    // Logical shape.
  DType dtype = DType::kFloat32;  // Element type.
  Device device;                  // Where `data` lives.

  // Number of elements.
  int64_t size() const { return shape.size(); }
  // `data` as a typed pointer (no check that T matches dtype).
  template <typename T>
  T* As() const { return static_cast<T*>(data); }
};

// How a kernel must write an output.
enum class WriteMode {
  kWrite,    // Overwrite the output.
  kAdd,      // Add into the output (gradient accumulation).
  kInplace,  // The output aliases an input (declared by OpDef::inplace); overwrite it.
};

// What a kernel gets besides its operands.
struct KernelContext {
  const class OpParams* params = nullptr;  // The call's parsed parameters.
  Device device;                           // The device the kernel runs on.
  void* stream = nullptr;                  // The CUDA stream on a GPU; nullptr on the host.
  std::vector<WriteMode> modes;            // One per output.
  bool is_train = false;                   // Training mode (Dropout, BatchNorm statistics).
  // Scratch memory of at least `bytes`, valid until the kernel returns (OpDef::needs_temp_space).
  std::function<void*(size_t bytes)> temp_space;
  // A 64-bit seed for this call's random numbers, drawn from the device's generator (OpDef::needs_rng).
  uint64_t seed = 0;
};

// A kernel: reads `inputs`, writes `outputs` (shapes and dtypes already inferred and allocated).
using Kernel =
    std::function<void(const KernelContext&, absl::Span<const TensorRef> inputs, absl::Span<const TensorRef> outputs)>;

// A shape that may still be unknown during (partial) inference.
using MaybeShape = std::optional<Shape>;
// A dtype that may still be unknown during (partial) inference.
using MaybeDType = std::optional<DType>;

// Fills unknown output shapes (and, where it can, unknown input shapes, e.g. a weight's shape from the
// data); throws ValueError naming the op, input, expected and given shapes on a mismatch. Returns false
// when too little is known yet.
using InferShapeFn = std::function<bool(const OpParams&, std::vector<MaybeShape>* inputs,
                                        std::vector<MaybeShape>* outputs)>;
// The same for dtypes.
using InferTypeFn = std::function<bool(const OpParams&, std::vector<MaybeDType>* inputs,
                                       std::vector<MaybeDType>* outputs)>;

// Builds the gradient of an op out of other ops; implemented by autograd (on arrays) and by the graph
// gradient pass (on symbols), so each op's gradient is written once.
class GradientBuilder {
 public:
  // A value in the builder (an array or a graph node output); meaningful only to this builder.
  using Value = int64_t;
  // Calls operator `op` on `inputs` with string parameters; returns its visible outputs.
  virtual std::vector<Value> Call(const std::string& op, const std::vector<Value>& inputs,
                                  const ParamMap& params = {}) = 0;
  // Calls a one-output operator.
  Value Call1(const std::string& op, const std::vector<Value>& inputs, const ParamMap& params = {}) {
    return Call(op, inputs, params).at(0);
  }
  virtual ~GradientBuilder() = default;
};

// What a gradient function gets: the forward call's parameters, inputs, outputs and the gradients of
// the outputs (all as builder values).
struct GradientArgs {
  const OpParams* params = nullptr;                 // Forward parameters.
  std::vector<GradientBuilder::Value> inputs;        // Forward inputs.
  std::vector<GradientBuilder::Value> outputs;       // Forward outputs (all, including hidden ones).
  std::vector<GradientBuilder::Value> output_grads;  // Gradients of the visible outputs.
};

// Returns one gradient per input; nullopt means "no gradient flows to this input".
using GradientFn = std::function<std::vector<std::optional<GradientBuilder::Value>>(GradientBuilder&,
                                                                                     const GradientArgs&)>;

// The number of inputs or outputs of an op, possibly depending on its parameters.
using CountFn = std::function<int(const OpParams&)>;

// The declaration of one operator.
struct OpDef {
  std::string name;                  // Canonical name (MXNet's where MXNet had the op).
  std::vector<std::string> aliases;  // Other names users may call it by (MXNet aliases).
  std::string doc;                   // One paragraph, shown in every language's docs.
  std::string family;                // The file it is declared in, e.g. "unary", "nn/conv".
  std::vector<std::string> inputs;   // Input names; a variadic op has one name, given num_args times.
  std::string variadic_count_param;  // For variadic ops: the parameter giving the input count (num_args).
  // For ops whose trailing inputs are optional (SequenceMask's sequence_length, used only when
  // use_sequence_length is true): how many of `inputs`, from the first, a call takes. Default: all.
  CountFn num_inputs;
  // For variadic ops: inputs per unit of variadic_count_param; `inputs` names one such group (multi_sgd_update:
  // {"weight", "grad"} given num_weights times).
  int variadic_stride = 1;
  std::vector<int> auxiliary_inputs;  // Indices of inputs that are auxiliary states (BatchNorm stats).
  // Indices of inputs the kernel updates in place (optimizer states). For variadic ops, positions within one
  // group of variadic_stride inputs, repeated for every group (see MutatedInputs).
  std::vector<int> mutated_inputs;
  std::vector<std::string> outputs = {"output"};  // Output names (all outputs, visible first).
  CountFn num_outputs;                // All outputs; default: outputs.size().
  CountFn num_visible_outputs;        // Outputs users see; default: num_outputs.
  std::vector<ParamDef> params;       // Typed parameters.
  InferShapeFn infer_shape;           // Required.
  InferTypeFn infer_type;             // Default: every output has the first input's dtype.
  std::map<DeviceType, Kernel> kernels;  // Per device; kCPU is required for a CPU-usable op.
  GradientFn gradient;                // Empty: not differentiable.
  std::vector<std::pair<int, int>> inplace;  // (input, output) pairs that may share memory.
  bool needs_temp_space = false;      // Whether kernels call KernelContext::temp_space.
  bool needs_rng = false;             // Whether kernels use KernelContext::seed.

  // Number of inputs for the given parameters (variadic ops read variadic_count_param).
  int NumInputs(const OpParams& params) const;
  // Indices of all inputs updated in place for the given parameters (mutated_inputs expanded over groups).
  std::vector<int> MutatedInputs(const OpParams& params) const;
  // Number of outputs (all) for the given parameters.
  int NumOutputs(const OpParams& params) const;
  // Number of visible outputs for the given parameters.
  int NumVisibleOutputs(const OpParams& params) const;
  // Parses `given` against this op's parameter declarations.
  OpParams ParseParams(const ParamMap& given) const;
};

// Every registered operator, by name and alias. Thread-safe for lookups after static initialisation.
class OpRegistry {
 public:
  // The process's registry.
  static OpRegistry* Get();
  // Adds `def`; throws RuntimeError if its name or an alias is taken. Returns the stored definition.
  // Kernels that AddKernel queued for any of its names are attached here.
  const OpDef& Register(OpDef def);
  // Adds `kernel` for `device` to the op called (or aliased) `op`: at once if it is registered, else
  // when it is (Note [Kernels added by backends]). Throws RuntimeError if that op already has a kernel
  // for `device`.
  void AddKernel(const std::string& op, DeviceType device, Kernel kernel);
  // The op called `name` (or aliased so), or nullptr.
  const OpDef* Find(const std::string& name) const;
  // The op called `name`; throws ValueError "unknown operator" with close names when missing.
  const OpDef& Lookup(const std::string& name) const;
  // Every op, sorted by name.
  std::vector<const OpDef*> List() const;
  // The whole registry as JSON: names, aliases, docs, inputs, outputs, parameters with types and
  // defaults. The op-function generators of every language read this.
  std::string SchemaJson() const;

 private:
  // Stores `kernel` as `def`'s kernel for `device`; throws RuntimeError if it has one.
  static void AttachKernel(OpDef* def, DeviceType device, Kernel kernel);
  std::map<std::string, std::unique_ptr<OpDef>> ops_;
  std::map<std::string, const OpDef*> names_;  // Names and aliases.
  // Kernels from AddKernel whose op is not registered yet, by the name they were added under.
  std::multimap<std::string, std::pair<DeviceType, Kernel>> pending_kernels_;
};

// Registers an op at static-initialisation time: PMX_REGISTER_OP(my_op) { return OpDef{...}; }.
#define PMX_REGISTER_OP(NAME)                                                       \
  static ::pmx::OpDef PmxOpDefinition_##NAME();                                      \
  static const ::pmx::OpDef& pmx_op_registration_##NAME =                           \
      ::pmx::OpRegistry::Get()->Register(PmxOpDefinition_##NAME());                  \
  static ::pmx::OpDef PmxOpDefinition_##NAME()

}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_OP_H_
