#include "core/graph/symbol_conventions.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/error.h"

namespace pmx {
namespace graph {

std::vector<std::string> InputNames(const OpDef& op, const OpParams& params) {
  const int count = op.NumInputs(params);
  std::vector<std::string> names;
  names.reserve(count);
  if (op.variadic_count_param.empty()) {
    for (int i = 0; i < count && i < static_cast<int>(op.inputs.size()); ++i) names.push_back(op.inputs[i]);
    // An op whose declaration names fewer inputs than it takes: MXNet's default names.
    for (int i = static_cast<int>(names.size()); i < count; ++i) names.push_back(absl::StrCat("arg", i));
    return names;
  }
  const int stride = std::max(1, op.variadic_stride);
  for (int i = 0; i < count; ++i) {
    if (stride == 1 || op.inputs.size() < static_cast<size_t>(stride)) {
      names.push_back(absl::StrCat("arg", i));
    } else {
      names.push_back(absl::StrCat(op.inputs[i % stride], "_", i / stride));
    }
  }
  return names;
}

std::string OutputName(const Node& node, int index) {
  // MXNet names the outputs of a multi-output op "output0", "output1", ... unless the op declares names
  // (FListOutputNames): only these do (checked against MXNet 1.9.1: topk, sort, moments, _linalg_gelqf,
  // _linalg_syevd, _linalg_slogdet and _sample_multinomial list "<name>_output0", ...).
  static const auto* const kNamedOutputs = new std::vector<std::string>{
      "BatchNorm", "Dropout", "GroupNorm", "InstanceNorm", "LayerNorm", "LeakyReLU", "RNN"};
  const std::vector<std::string>& declared = node.op->outputs;
  const bool named = std::find(kNamedOutputs->begin(), kNamedOutputs->end(), node.op->name) != kNamedOutputs->end();
  if (node.num_outputs() <= static_cast<int>(declared.size()) && (named || node.num_outputs() == 1)) {
    return declared[index];
  }
  return absl::StrCat("output", index);
}

int MxnetNumOutputs(const Node& node) {
  if (node.is_variable()) return 1;
  if (node.op->name == "BatchNorm") return std::min(3, node.num_outputs());
  if (node.op->name == "RNN") return node.num_visible_outputs();
  // MXNet 1.9.1 as installed from PyPI is built with oneDNN, whose LRN and max pooling keep a workspace as a
  // second output (MKLDNNRequireWorkspace and SupportMKLDNNPooling): node_row_ptr counts it.
  if (node.op->name == "LRN") return 2;
  if (node.op->name == "Pooling") {
    const std::string& layout = node.parsed.IsNone("layout") ? std::string() : node.parsed.Str("layout");
    const size_t kernel_dims = node.parsed.Ints("kernel").size();
    const bool channels_first = layout.empty() || layout == "NCW" || layout == "NCHW" || layout == "NCDHW";
    if (node.parsed.Str("pool_type") == "max" && kernel_dims >= 1 && kernel_dims <= 3 && channels_first) return 2;
  }
  return node.num_outputs();
}

const std::vector<std::string>& HiddenKeys() {
  static const std::vector<std::string> keys = {"ctx_group",      "lr_mult",      "wd_mult",
                                                "force_mirroring", "mirror_stage", "profiler_scope"};
  return keys;
}

std::string NormalizeAttributeKey(const std::string& key) {
  for (const std::string& hidden : HiddenKeys()) {
    const size_t position = key.rfind(hidden);
    if (position == 0) return "__" + key + "__";
    if (position != std::string::npos && position + hidden.size() == key.size()) {
      Throw(ErrorKind::kValueError,
            "[Symbol] setting variable attributes with '%s' is deprecated: create the variable with attribute "
            "'%s' and pass it as input '%s' instead",
            key, hidden, key.substr(0, position - 1));
    }
  }
  return key;
}

namespace {

// Note [Initializers set on composition]
// Some MXNet ops (FSetInputVarAttrOnCompose) write an __init__ attribute on their variable inputs when
// composed, so that Module/Gluon initialise running statistics and special weights correctly whatever the
// global initializer. The attribute appears in MXNet's JSON, so Polymix sets the same ones.
const std::map<std::string, std::map<int, std::string>>& InputInitializers() {
  static const auto* table = new std::map<std::string, std::map<int, std::string>>{
      {"BatchNorm", {{3, R"(["zero", {}])"}, {4, R"(["one", {}])"}}},
      {"_contrib_SyncBatchNorm", {{3, R"(["zero", {}])"}, {4, R"(["one", {}])"}}},
      {"LeakyReLU", {{1, R"(["Constant", {"value": 0.25}])"}}},
      {"UpSampling", {{1, R"(["bilinear", {}])"}}},
      {"IdentityAttachKLSparseReg", {{1, R"(["zero", {}])"}}},
  };
  return *table;
}

}  // namespace

void SetInputVariableDefaults(const Node& node) {
  if (node.op == nullptr) return;
  auto found = InputInitializers().find(node.op->name);
  if (found == InputInitializers().end()) return;
  for (const auto& [index, initializer] : found->second) {
    if (index >= static_cast<int>(node.inputs.size())) continue;
    Node& input = *node.inputs[index].node;
    if (input.is_variable() && !input.attrs.count("__init__")) input.attrs["__init__"] = initializer;
  }
}

}  // namespace graph
}  // namespace pmx
