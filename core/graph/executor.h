// Executor: a Symbol bound to arrays for forward and backward passes (MXNet's Executor: bind / simple_bind).
// Shapes and dtypes are inferred once at bind, memory is planned once, and each pass pushes its kernels to
// the engine directly, with no per-call inference or allocation.
#ifndef POLYMIX_CORE_GRAPH_EXECUTOR_H_
#define POLYMIX_CORE_GRAPH_EXECUTOR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/graph/internal/compiled_graph.h"
#include "core/graph/symbol.h"

namespace pmx {
namespace graph {

// How an executor writes an argument's gradient (MXNet's grad_req).
enum class GradReq : int {
  kNull = 0,   // No gradient.
  kWrite = 1,  // Overwrite the gradient array each backward ('write'; MXNet's 'inplace' means the same here).
  kAdd = 3,    // Add to the gradient array each backward ('add').
};

// Parses "null", "write", "inplace" or "add"; ValueError otherwise.
GradReq ParseGradReq(const std::string& text);

// How an executor compiles its graph (the passes it runs).
struct ExecutorOptions {
  bool fuse = true;          // Fuse chains of elementwise ops (CPU).
  bool inplace = true;       // Let outputs reuse dying inputs' memory where ops allow.
  bool share_memory = true;  // Share memory between entries whose lifetimes do not overlap.
  bool cse = true;           // Merge common subexpressions.
  int bulk_size = 0;         // Nodes per engine operation; 0: one engine operation per pass.
};

// A symbol bound to argument, gradient and auxiliary-state arrays on one device.
class Executor {
 public:
  // MXNet's bind: `args` one array per ListArguments() entry, `arg_grads` one per argument (none where
  // grad_reqs[i] is kNull; an empty vector means no gradients), `grad_reqs` one per argument (empty: kWrite where
  // a gradient array is given, else kNull), `aux_states` one per ListAuxiliaryStates() entry. Shapes and dtypes
  // are inferred from the arrays (ValueError naming the argument on a mismatch); arrays are used, not copied.
  static std::unique_ptr<Executor> Bind(const Symbol& symbol, Device device, std::vector<NDArray> args,
                                        std::vector<NDArray> arg_grads, std::vector<GradReq> grad_reqs,
                                        std::vector<NDArray> aux_states, const ExecutorOptions& options = {});

  // MXNet's simple_bind: infers every shape and dtype from the `shapes` and `dtypes` of some arguments (dtypes
  // default to float32), allocates arguments (zeros), gradients (zeros, except kNull) and auxiliary states
  // (zeros), with `grad_reqs` per argument name and `default_req` for the others.
  static std::unique_ptr<Executor> SimpleBind(const Symbol& symbol, Device device,
                                              const std::map<std::string, Shape>& shapes,
                                              const std::map<std::string, DType>& dtypes = {},
                                              const std::map<std::string, GradReq>& grad_reqs = {},
                                              GradReq default_req = GradReq::kWrite,
                                              const ExecutorOptions& options = {});

  // Runs the forward pass, after copying `inputs` (argument name -> array) into the argument arrays.
  // is_train: training mode (Dropout drops, BatchNorm uses and updates batch statistics).
  void Forward(bool is_train = false, const std::map<std::string, NDArray>& inputs = {});
  // Runs the backward pass of the last forward: `head_grads` holds one gradient per output (copied in), which may
  // be omitted for outputs whose gradient does not use one (loss layers such as SoftmaxOutput, MakeLoss).
  // Writes (or adds) the gradients into the gradient arrays. ValueError if bound without gradients.
  void Backward(const std::vector<NDArray>& head_grads = {}, bool is_train = true);

  // The output arrays (overwritten by each Forward).
  const std::vector<NDArray>& outputs() const { return outputs_; }
  // The argument arrays, in ListArguments order.
  const std::vector<NDArray>& arg_arrays() const { return args_; }
  // The gradient arrays, one per argument (none for kNull).
  const std::vector<NDArray>& grad_arrays() const { return grads_; }
  // The auxiliary state arrays, in ListAuxiliaryStates order.
  const std::vector<NDArray>& aux_arrays() const { return aux_; }
  // The gradient requests, one per argument.
  const std::vector<GradReq>& grad_reqs() const { return reqs_; }
  // Argument names (ListArguments).
  const std::vector<std::string>& arg_names() const { return arg_names_; }
  // Auxiliary state names (ListAuxiliaryStates).
  const std::vector<std::string>& aux_names() const { return aux_names_; }
  // Output names (ListOutputs).
  const std::vector<std::string>& output_names() const { return output_names_; }
  // Argument name -> array.
  std::map<std::string, NDArray> arg_dict() const;
  // Argument name -> gradient array (arguments with kNull are left out).
  std::map<std::string, NDArray> grad_dict() const;
  // Auxiliary state name -> array.
  std::map<std::string, NDArray> aux_dict() const;
  // Output name -> array.
  std::map<std::string, NDArray> output_dict() const;
  // The symbol bound.
  const Symbol& symbol() const { return symbol_; }
  // The device.
  Device device() const { return device_; }

  // Copies parameters in by name. A name that is not an argument (or auxiliary state) is a ValueError unless
  // allow_extra_params.
  void CopyParamsFrom(const std::map<std::string, NDArray>& arg_params,
                      const std::map<std::string, NDArray>& aux_params = {}, bool allow_extra_params = false);

  // A new executor for new argument shapes (MXNet's reshape), sharing this one's arrays where it can:
  // arguments whose shape is unchanged are shared; changed ones reuse the old memory when they are not larger,
  // else get new arrays if allow_up_sizing (ValueError otherwise). Without partial_shaping, an argument whose
  // inferred shape changes must be named in `shapes` (ValueError otherwise).
  std::unique_ptr<Executor> Reshape(const std::map<std::string, Shape>& shapes, bool partial_shaping = false,
                                    bool allow_up_sizing = false) const;

  // Bytes of the planned internal buffers (what executing takes besides arguments, gradients and outputs).
  size_t planned_bytes() const { return compiled_->plan().planned_bytes; }
  // Bytes the internal entries would take with one buffer each (no planning).
  size_t unplanned_bytes() const { return compiled_->plan().unplanned_bytes; }
  // The compiled graph (for tests and statistics).
  const internal::CompiledGraph& compiled() const { return *compiled_; }

 private:
  Executor() = default;
  // Builds the graph (forward outputs, then gradients), compiles it and binds every array.
  void Initialize(const ExecutorOptions& options);

  Symbol symbol_;
  Device device_;
  ExecutorOptions options_;
  std::vector<std::string> arg_names_, aux_names_, output_names_;
  std::vector<NDArray> args_, grads_, aux_, outputs_, head_grads_;
  std::vector<GradReq> reqs_;
  std::vector<bool> head_grad_used_;  // Per output: whether the backward pass reads its head gradient.
  std::shared_ptr<const internal::CompiledGraph> compiled_;
  std::unique_ptr<internal::RunState> state_;
  bool has_backward_ = false;
};

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_EXECUTOR_H_
