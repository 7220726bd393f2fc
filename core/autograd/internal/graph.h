// The recorded graph behind the autograd slot (Note [The autograd slot]); private to core/autograd.
#ifndef POLYMIX_CORE_AUTOGRAD_INTERNAL_GRAPH_H_
#define POLYMIX_CORE_AUTOGRAD_INTERNAL_GRAPH_H_

#include <memory>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/autograd/autograd.h"
#include "core/ops/op.h"

namespace pmx {
namespace internal {

struct AutogradNode;

// The slot's content: output `index` of `node` (index 0 of a variable node). A null node means "not in a graph"
// where an entry is stored by value (a node's input that was a constant).
struct AutogradEntry {
  std::shared_ptr<AutogradNode> node;  // The producing node, or the variable node.
  int index = 0;                       // Which output of `node`.
};

// One node of a recorded graph: a variable, a recorded operator call, or a custom node (RecordCustom).
struct AutogradNode {
  // What the node is.
  enum class Kind { kVariable, kOp, kCustom };

  AutogradNode() = default;
  // Tears the node's inputs down iteratively, so that dropping a very long graph cannot overflow the stack.
  ~AutogradNode();
  AutogradNode(const AutogradNode&) = delete;
  AutogradNode& operator=(const AutogradNode&) = delete;

  Kind kind = Kind::kOp;  // What the node is.
  std::string name;       // The op's name, the custom node's name, or "variable" (for error messages).

  // Variables only.
  NDArray grad;                                    // The gradient buffer.
  autograd::GradReq grad_req = autograd::GradReq::kWrite;  // How a backward writes `grad`.
  bool fresh_grad = false;  // Set by Backward when it writes `grad`; cleared by SetGradFresh (Gluon's Trainer).

  // Recorded calls (ops and custom nodes).
  const OpDef* op = nullptr;                // The operator (ops only).
  OpParams params;                          // Its parsed parameters (ops only).
  autograd::BackwardFn backward;            // The gradient (custom nodes only).
  std::vector<AutogradEntry> inputs;        // One per input; a null node for inputs that were not in a graph.
  std::vector<Shape> input_shapes;          // The inputs' shapes (to check the gradients computed for them).
  std::vector<NDArray> input_values;        // The inputs, without slots (ops only).
  std::vector<NDArray> output_values;       // All outputs, hidden ones included, without slots (ops only).
  std::vector<Shape> output_shapes;         // The visible outputs' shapes (for zero gradients).
  std::vector<DType> output_dtypes;         // The visible outputs' dtypes.
  std::vector<Device> output_devices;       // The visible outputs' devices.
  bool freed = false;                       // Set by a backward without retain_graph; never for variables.

  // The number of visible outputs (the ones that can receive gradients).
  int num_visible_outputs() const { return static_cast<int>(output_shapes.size()); }
  // Drops everything saved for the backward pass and marks the node freed.
  void Free();
};

// The live slot of `array`: its entry when it names a variable or an unfreed node, else nullptr.
const AutogradEntry* LiveEntryOf(const NDArray& array);
// `array` with its slot set to output `index` of `node`.
NDArray WithEntry(NDArray array, const std::shared_ptr<AutogradNode>& node, int index);

}  // namespace internal
}  // namespace pmx

#endif  // POLYMIX_CORE_AUTOGRAD_INTERNAL_GRAPH_H_
