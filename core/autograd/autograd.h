// Imperative autograd on NDArrays, as MXNet 1.x's mx.autograd: record operator calls while a thread is
// recording, then differentiate the recorded graph (backward into attached gradient buffers, or grad returning
// gradients). Every operator's gradient is its OpDef::gradient, evaluated through autograd::Invoke, so a
// backward pass run with create_graph is itself recorded and can be differentiated again.
#ifndef POLYMIX_CORE_AUTOGRAD_AUTOGRAD_H_
#define POLYMIX_CORE_AUTOGRAD_AUTOGRAD_H_

#include <functional>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/ops/invoke.h"
#include "core/ops/op.h"

namespace pmx {
namespace autograd {

// Note [The autograd slot]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// Every NDArray value has an opaque slot (NDArray::autograd_entry) that says where it sits in a recorded graph:
// either "a variable, with a gradient buffer and a GradReq" (MarkVariables) or "output k of recorded node N"
// (Invoke / RecordCustom while recording). Copies of an NDArray value carry the same slot, and a C ABI handle
// owns one NDArray, so everyone holding that handle sees what was marked on it; views and copies made by
// NDArray methods start with none. Setting a slot changes only the NDArray it is set on: functions that mark
// or record take pointers, or return the arrays that carry the new slots. A node holds
// its inputs' slots, so a graph lives as long as some array of it (or a later node) does; nodes never hold
// their own outputs' slots, so there are no cycles. A backward without retain_graph frees the nodes it walked:
// their saved arrays are dropped and an array whose slot names a freed node counts as "not in a graph" again
// (it may be written to while recording, and differentiating through it is an error that says why).
// Variables are never freed by a backward.

// How a backward writes a variable's gradient buffer (values are MXNet's OpReqType, as mark_variables takes).
enum class GradReq : int {
  kNull = 0,   // Skip: no gradient is computed for this variable.
  kWrite = 1,  // Overwrite the buffer with the new gradient.
  kAdd = 3,    // Add the new gradient to the buffer (accumulate across backward calls).
};

// ---- Recording and training state (per thread, both off by default) ----

// Whether operator calls on this thread are being recorded.
bool IsRecording();
// Turns recording on or off for this thread; returns the previous state.
bool SetRecording(bool recording);
// Whether operators on this thread run in training mode (Dropout drops, BatchNorm uses batch statistics).
bool IsTraining();
// Turns training mode on or off for this thread; returns the previous state.
bool SetTraining(bool training);

// Records (and, by default, trains) until destroyed, then restores both flags (MXNet's autograd.record()).
class RecordScope {
 public:
  // Turns recording on and sets training mode to `train_mode`.
  explicit RecordScope(bool train_mode = true);
  ~RecordScope();
  RecordScope(const RecordScope&) = delete;
  RecordScope& operator=(const RecordScope&) = delete;

 private:
  bool previous_recording_, previous_training_;
};

// Stops recording (and, by default, training) until destroyed, then restores both flags (autograd.pause()).
class PauseScope {
 public:
  // Turns recording off and sets training mode to `train_mode`.
  explicit PauseScope(bool train_mode = false);
  ~PauseScope();
  PauseScope(const PauseScope&) = delete;
  PauseScope& operator=(const PauseScope&) = delete;

 private:
  bool previous_recording_, previous_training_;
};

// ---- Variables ----

// Marks each variables[i] as a variable of future recordings (MXNet's mark_variables / attach_grad): its slot
// becomes a fresh variable whose gradient buffer is gradients[i] (same shape, dtype and device; a none array
// allocates zeros) and whose GradReq is reqs[i] (an empty `reqs` means kWrite for all). An array already in a
// graph is detached from it. ValueError on mismatched counts, shapes, dtypes or devices.
void MarkVariables(const std::vector<NDArray*>& variables, const std::vector<NDArray>& gradients,
                   const std::vector<GradReq>& reqs = {});
// The gradient buffer of a variable; a none array when `array` is not a variable.
NDArray GradOf(const NDArray& array);
// Whether a backward has written the gradient buffer of variable `array` since SetGradFresh(array, false)
// (MXNet's fresh_out_grad, which Gluon's Trainer reads to find stale gradients); false for a non-variable.
bool GradIsFresh(const NDArray& array);
// Sets or clears the fresh-gradient flag of variable `array`; ValueError when `array` is not a variable.
void SetGradFresh(const NDArray& array, bool fresh);
// Whether `array` is a variable or an output of a recorded node that has not been freed.
bool InGraph(const NDArray& array);
// A copy of `array` (same data) outside any graph (MXNet's NDArray.detach()).
NDArray Detach(const NDArray& array);
// Whether a call on `inputs` now would be recorded: this thread is recording and some input is in a graph.
bool NeedsRecording(const std::vector<NDArray>& inputs);

// ---- Recording ----

// Runs `op` like pmx::Invoke, with options.is_train taken from IsTraining(). When this thread is recording and
// some input is in a graph, records one node (op, params, the inputs with their slots, all outputs hidden
// included) and gives each visible output a slot naming it; hidden outputs (Dropout's mask) get none and so
// stay constants. While recording, a given output (options.outputs: MXNet's out=, in-place +=) that is already
// in a graph is a ValueError, since overwriting it would corrupt the recorded values. The returned arrays carry
// the slots; options.outputs are copies, so a caller that passed them must take the returned arrays (or copy
// their slots back) for its own handles to be in the graph.
std::vector<NDArray> Invoke(const OpDef& op, const std::vector<NDArray>& inputs, const OpParams& params,
                            InvokeOptions options = {});
// Looks `op` up by name or alias, parses `params`, and runs it as above.
std::vector<NDArray> Invoke(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params = {},
                            InvokeOptions options = {});
// Runs a one-output op as above and returns its output.
NDArray Invoke1(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params = {});

// Maps the gradients of a custom node's outputs to the gradients of its inputs (see RecordCustom).
using BackwardFn = std::function<std::vector<NDArray>(const std::vector<NDArray>& output_grads)>;

// Records one node whose forward already ran elsewhere (CachedOp records a whole cached graph this way) and
// whose gradient is `backward`. Returns whether it recorded: only when NeedsRecording(inputs).
//
// Contract of `backward`:
// - It gets one gradient per output, in the order of `outputs`, each with that output's shape and dtype;
//   outputs that received no gradient get zeros (never none). It returns one gradient per input, each with
//   that input's shape, or a none array where no gradient flows (e.g. an integer input).
// - It runs at most once per backward pass, with IsTraining() equal to the pass's is_train and IsRecording()
//   equal to its create_graph. To be differentiable again (create_graph) it must compute through
//   autograd::Invoke from arrays that carry slots: the output_grads it gets, and the `inputs` given here
//   (capture them; they keep their slots). Arrays it computes while not recording are plain constants.
// - It must not capture `outputs` after this call (they then hold slots naming this node: a reference cycle
//   that leaks the graph). Capture what it needs from the outputs before calling RecordCustom, or Detach them.
// - It is destroyed when the node is freed (a backward without retain_graph, or the graph's last array going
//   away), which releases whatever it captured. After that, differentiating through the node is an error.
// While recording, an output that is already in a graph is a ValueError, as for Invoke; outputs must be
// non-null. `name` appears in error messages.
bool RecordCustom(const std::vector<NDArray>& inputs, const std::vector<NDArray*>& outputs, BackwardFn backward,
                  const std::string& name = "custom");

// ---- Differentiation ----

// Differentiates `heads` and writes the gradient of every variable they depend on (whose GradReq is not kNull)
// into its buffer: kWrite overwrites, kAdd accumulates, a reached variable that no gradient flows to gets zeros
// (kWrite). `head_grads` holds one array per head (a none array, or an empty vector, means ones). Gradients of
// an array used several times are summed; unused outputs of multi-output nodes count as zeros. With
// create_graph the backward pass is recorded, so the buffers are themselves in a graph and can be
// differentiated again (keep retain_graph too, or the forward graph they depend on is freed). Without
// retain_graph the walked nodes are freed. The pass runs in training mode `is_train`. ValueError when a head is
// not in a graph (or its graph was freed), when no variable needing a gradient is reached, or when an operator
// on the path has no gradient.
void Backward(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads = {},
              bool retain_graph = false, bool create_graph = false, bool is_train = true);

// Returns the gradients of `heads` with respect to `variables` (MXNet's autograd.grad) without touching any
// gradient buffer. A variable may also be any array in a graph (an intermediate output); one that the heads do
// not depend on gets zeros, as in MXNet; one not in a graph is a ValueError. Otherwise as Backward; with
// create_graph the returned gradients are in a graph (higher-order gradients).
std::vector<NDArray> Grad(const std::vector<NDArray>& heads, const std::vector<NDArray>& variables,
                          const std::vector<NDArray>& head_grads = {}, bool retain_graph = false,
                          bool create_graph = false, bool is_train = true);

}  // namespace autograd
}  // namespace pmx

#endif  // POLYMIX_CORE_AUTOGRAD_AUTOGRAD_H_
