#include "core/graph/fuse.h"

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/backend/cpu/parallel.h"
#include "core/base/error.h"

namespace pmx {
namespace graph {

// Note [Fused chains]
// ~~~~~~~~~~~~~~~~~~~
// A fused chain reuses each operator's own CPU kernel (so there is still one definition per op): it cuts the
// arrays into blocks of a few thousand elements and, block after block, calls every node's kernel on views of
// that block. Intermediates read only inside the chain live in per-thread scratch buffers of one block, which
// stay in L1/L2, instead of full arrays that go through memory; blocks are spread over the kernel threads. This
// is only valid for maps whose element i depends on element i of each input alone, with every operand of one
// shape and one dtype (IsFusable), which also makes buffer sharing by the memory plan safe inside a chain: two
// entries in one slot have equal element sizes, so a block never overwrites bytes another block still reads.
// Each kernel sees a block smaller than its own threading grain, so it never starts threads itself.

namespace {

constexpr int64_t kBlockBytes = 16 << 10;  // One block of one operand: fits L1 with a few operands.

}  // namespace

bool IsElementwiseOp(const OpDef& op) {
  return op.family == "unary" || op.family == "scalar" || op.family == "binary" || op.name == "Activation";
}

bool IsFusable(const IndexedGraph& graph, uint32_t id, const std::vector<Shape>& shapes,
               const std::vector<DType>& dtypes) {
  const IndexedGraph::NodeInfo& info = graph.node(id);
  const Node& node = *info.source;
  if (node.is_variable() || !IsElementwiseOp(*node.op)) return false;
  if (node.num_outputs() != 1 || node.op->needs_rng || node.op->needs_temp_space) return false;
  if (!node.op->MutatedInputs(node.parsed).empty() || !node.op->kernels.count(DeviceType::kCPU)) return false;
  const uint32_t out = info.first_entry;
  for (uint32_t input : info.inputs) {
    if (shapes[input] != shapes[out] || dtypes[input] != dtypes[out]) return false;
  }
  return true;
}

std::vector<std::vector<uint32_t>> FindFusionGroups(const IndexedGraph& graph, const std::vector<Shape>& shapes,
                                                    const std::vector<DType>& dtypes, uint32_t begin, uint32_t end,
                                                    size_t min_length) {
  std::vector<std::vector<uint32_t>> groups;
  std::vector<uint32_t> current;
  auto close = [&]() {
    if (current.size() >= std::max<size_t>(min_length, 1)) groups.push_back(current);
    current.clear();
  };
  for (uint32_t id = begin; id < end; ++id) {
    if (graph.node(id).source->is_variable()) continue;
    if (!IsFusable(graph, id, shapes, dtypes)) {
      close();
      continue;
    }
    const uint32_t out = graph.node(id).first_entry;
    if (!current.empty()) {
      const uint32_t first = graph.node(current.front()).first_entry;
      if (shapes[out] != shapes[first] || dtypes[out] != dtypes[first]) close();
    }
    current.push_back(id);
  }
  close();
  return groups;
}

FusedChain::FusedChain(const IndexedGraph& graph, const std::vector<uint32_t>& nodes, const std::vector<Shape>& shapes,
                       const std::vector<DType>& dtypes, const std::function<bool(uint32_t entry)>& needs_memory,
                       const std::function<WriteMode(uint32_t entry)>& modes)
    : nodes_(nodes) {
  PMX_CHECK(!nodes.empty(), kValueError, "[FusedChain] expected at least one node");
  const uint32_t first_out = graph.node(nodes[0]).first_entry;
  size_ = shapes[first_out].size();
  dtype_ = dtypes[first_out];

  // Operands: entries produced in the chain are "inner"; everything else read is an input from outside.
  std::unordered_map<uint32_t, int> produced_at;  // Entry -> step that produces it.
  for (size_t s = 0; s < nodes.size(); ++s) produced_at[graph.node(nodes[s]).first_entry] = static_cast<int>(s);
  std::unordered_map<uint32_t, int> last_use;  // Scratch entry -> last step that reads it.
  for (size_t s = 0; s < nodes.size(); ++s) {
    for (uint32_t input : graph.node(nodes[s]).inputs) {
      if (!produced_at.count(input)) {
        if (std::find(external_entries_.begin(), external_entries_.end(), input) == external_entries_.end()) {
          external_entries_.push_back(input);
        }
      } else {
        last_use[input] = static_cast<int>(s);
      }
    }
  }
  for (uint32_t id : nodes) {
    const uint32_t out = graph.node(id).first_entry;
    if (needs_memory(out)) {
      external_entries_.push_back(out);
    } else {
      scratch_entries_.push_back(out);
    }
  }
  const int num_external = static_cast<int>(external_entries_.size());
  std::unordered_map<uint32_t, int> operand;
  for (int i = 0; i < num_external; ++i) operand[external_entries_[i]] = i;

  // Scratch buffers by liveness inside the chain.
  std::vector<int> free_buffers;
  std::unordered_map<uint32_t, int> buffer_of;
  for (size_t s = 0; s < nodes.size(); ++s) {
    const IndexedGraph::NodeInfo& info = graph.node(nodes[s]);
    Step step;
    step.node = info.source;
    step.params = &info.source->parsed;
    step.kernel = &info.source->op->kernels.at(DeviceType::kCPU);
    for (uint32_t input : info.inputs) step.inputs.push_back(operand.at(input));
    const uint32_t out = info.first_entry;
    if (operand.count(out)) {
      step.output = operand[out];
      step.mode = modes(out);
    } else {
      int buffer;
      if (!free_buffers.empty()) {
        buffer = free_buffers.back();
        free_buffers.pop_back();
      } else {
        buffer = num_buffers_++;
      }
      buffer_of[out] = buffer;
      operand[out] = num_external + buffer;
      step.output = operand[out];
    }
    for (uint32_t input : info.inputs) {
      auto found = buffer_of.find(input);
      if (found != buffer_of.end() && last_use[input] == static_cast<int>(s)) {
        free_buffers.push_back(found->second);
        buffer_of.erase(found);
      }
    }
    // A scratch output nobody reads (possible only if needs_memory said no for an unused entry): free it.
    auto unused = buffer_of.find(out);
    if (unused != buffer_of.end() && !last_use.count(out)) {
      free_buffers.push_back(unused->second);
      buffer_of.erase(unused);
    }
    steps_.push_back(std::move(step));
  }
}

void FusedChain::Run(const KernelContext& base, absl::Span<const TensorRef> external) const {
  PMX_CHECK(external.size() == external_entries_.size(), kRuntimeError,
            "[FusedChain] expected %d operands, given %d", static_cast<int>(external_entries_.size()),
            static_cast<int>(external.size()));
  if (size_ == 0) return;
  const size_t element = DTypeSize(dtype_);
  const int64_t block = std::min<int64_t>(size_, std::max<int64_t>(1, kBlockBytes / static_cast<int64_t>(element)));
  const int64_t num_blocks = (size_ + block - 1) / block;
  const int num_external = static_cast<int>(external.size());
  // Threads only for arrays big enough that a plain elementwise kernel would use them too.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / block);
  // An exception must not leave an OpenMP thread: the first one is kept and rethrown after the loop.
  std::mutex mutex;
  std::exception_ptr failure;
  auto run_blocks = [&](int64_t first_block, int64_t last_block) {
    std::vector<char> scratch(static_cast<size_t>(num_buffers_) * block * element + 64);
    char* buffers = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
    KernelContext context;
    context.device = base.device;
    context.stream = base.stream;
    context.is_train = base.is_train;
    context.modes.assign(1, WriteMode::kWrite);
    std::vector<TensorRef> inputs, outputs(1);
    for (int64_t b = first_block; b < last_block; ++b) {
      const int64_t start = b * block;
      const int64_t length = std::min(block, size_ - start);
      const Shape shape({length});
      auto ref_of = [&](int operand) {
        TensorRef ref;
        ref.shape = shape;
        ref.dtype = dtype_;
        ref.device = base.device;
        ref.data = operand < num_external
                       ? static_cast<char*>(external[operand].data) + start * element
                       : buffers + static_cast<size_t>(operand - num_external) * block * element;
        return ref;
      };
      for (const Step& step : steps_) {
        inputs.clear();
        for (int operand : step.inputs) inputs.push_back(ref_of(operand));
        outputs[0] = ref_of(step.output);
        context.params = step.params;
        context.modes[0] = step.mode;
        try {
          (*step.kernel)(context, inputs, outputs);
        } catch (const Error& error) {
          throw Error(error.kind(), error.message() + " (graph node '" + step.node->name + "', fused)");
        }
      }
    }
  };
  cpu::ParallelFor(num_blocks, grain, [&](int64_t first_block, int64_t last_block) {
    try {
      run_blocks(first_block, last_block);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
}

}  // namespace graph
}  // namespace pmx

