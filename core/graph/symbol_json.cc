// MXNet's symbol JSON: writing it exactly as MXNet 1.9.1 does (nnvm's SaveJSON through dmlc's JSONWriter),
// and reading it, including files of older MXNet versions (upgraded as MXNet's LoadLegacyJSON does).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/graph/symbol.h"
#include "core/graph/symbol_conventions.h"
#include "nlohmann/json.hpp"

namespace pmx {
namespace graph {
namespace {

// The version ToJson records: MXNet 1.9.1, whose loader reads our files without upgrading them.
constexpr int kMxnetVersion = 10901;

// MXNet versions at which LoadLegacyJSON's upgrades start to apply (MXNET_MAKE_VERSION).
constexpr int kVersionAuxiliaryStored = 900;      // 0.9.0: auxiliary states are stored as inputs.
constexpr int kVersionInitOnCompose = 904;        // 0.9.4: ops set __init__ on their variable inputs.
constexpr int kVersionOptionalReduceAxis = 905;   // 0.9.5: argmax/argmin axis=-1 became axis=None.
constexpr int kVersionUnknown = 800;              // Files without mxnet_version are from 0.8.0.

// Note [MXNet's JSON layout]
// MXNet writes symbol JSON with dmlc's JSONWriter, whose layout rules this class reproduces so that our files
// equal MXNet's byte for byte: every scope is opened single-line or multi-line; in a multi-line scope each
// item starts on a new line indented two spaces per open scope; items are separated by ", " (the comma
// before the newline); a non-empty multi-line scope closes on its own line. MXNet opens objects multi-line
// except maps with at most one key, and arrays multi-line when they have more than 10 items or items that
// are not plain numbers.
class LayoutWriter {
 public:
  // Opens an object.
  void BeginObject(bool multi_line) { Open('{', multi_line); }
  // Closes the innermost object.
  void EndObject() { Close('}'); }
  // Opens an array.
  void BeginArray(bool multi_line) { Open('[', multi_line); }
  // Closes the innermost array.
  void EndArray() { Close(']'); }
  // Starts the member `key` of the innermost object; its value follows.
  void Key(const std::string& key) {
    if (scopes_.back().count > 0) text_ += ", ";
    ++scopes_.back().count;
    NewLine();
    String(key);
    text_ += ": ";
  }
  // Starts the next item of the innermost array; its value follows.
  void Item() {
    if (scopes_.back().count > 0) text_ += ", ";
    ++scopes_.back().count;
    NewLine();
  }
  // A string value, escaped as dmlc escapes (plus \u escapes for other control characters, which dmlc would
  // write raw and no JSON reader accepts).
  void String(const std::string& value) {
    text_ += '"';
    for (char c : value) {
      switch (c) {
        case '\r': text_ += "\\r"; break;
        case '\n': text_ += "\\n"; break;
        case '\t': text_ += "\\t"; break;
        case '\\': text_ += "\\\\"; break;
        case '"': text_ += "\\\""; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            text_ += absl::StrFormat("\\u%04x", static_cast<int>(c));
          } else {
            text_ += c;
          }
      }
    }
    text_ += '"';
  }
  // An integer value.
  void Number(int64_t value) { absl::StrAppend(&text_, value); }
  // The text written so far.
  const std::string& text() const { return text_; }

 private:
  struct Scope {
    bool multi_line;
    int count;
  };
  void Open(char bracket, bool multi_line) {
    text_ += bracket;
    scopes_.push_back({multi_line, 0});
  }
  void Close(char bracket) {
    const Scope scope = scopes_.back();
    scopes_.pop_back();
    if (scope.multi_line && scope.count > 0) NewLine();
    text_ += bracket;
  }
  void NewLine() {
    if (scopes_.empty() || scopes_.back().multi_line) {
      text_ += '\n';
      text_.append(2 * scopes_.size(), ' ');
    }
  }
  std::string text_;
  std::vector<Scope> scopes_;
};

// Writes one node entry as MXNet does: [node id, output index, version].
void WriteEntry(LayoutWriter* writer, uint32_t node, int index, uint32_t version) {
  writer->Item();
  writer->BeginArray(false);
  for (int64_t value : {static_cast<int64_t>(node), static_cast<int64_t>(index), static_cast<int64_t>(version)}) {
    writer->Item();
    writer->Number(value);
  }
  writer->EndArray();
}

// Writes a list of ids (arg_nodes, node_row_ptr, control_deps).
void WriteIds(LayoutWriter* writer, const std::vector<uint32_t>& ids) {
  writer->BeginArray(ids.size() > 10);
  for (uint32_t id : ids) {
    writer->Item();
    writer->Number(id);
  }
  writer->EndArray();
}

// ---- Reading ----------------------------------------------------------------------------------------------

using Json = nlohmann::json;

// One node as the file describes it, before it is linked.
struct FileNode {
  std::string op;                            // "null" for a variable.
  std::string name;
  std::map<std::string, std::string> dict;  // Parameters and attributes together, as MXNet keeps them.
  std::vector<std::pair<uint32_t, int>> inputs;
  std::vector<uint32_t> control_deps;
};

[[noreturn]] void Malformed(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::kValueError, "[Symbol.FromJson] " + where + ": " + what);
}

std::string NodeWhere(size_t id, const std::string& name) { return absl::StrFormat("node %d '%s'", id, name); }

// A non-negative integer of the file (ids and indices).
uint32_t ReadIndex(const Json& value, const std::string& where, const char* what) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 0xffffffffLL) {
    Malformed(where, absl::StrCat(what, " is ", value.dump(), ", expected a non-negative integer"));
  }
  return static_cast<uint32_t>(value.get<int64_t>());
}

// A [node, index] or [node, index, version] entry referring to a node before `limit`.
std::pair<uint32_t, int> ReadEntry(const Json& value, size_t limit, const std::string& where) {
  if (!value.is_array() || value.size() < 2 || value.size() > 3) {
    Malformed(where, "entry " + value.dump() + " is not [node, index] or [node, index, version]");
  }
  const uint32_t node = ReadIndex(value[0], where, "an entry's node id");
  const uint32_t index = ReadIndex(value[1], where, "an entry's output index");
  if (value.size() == 3) ReadIndex(value[2], where, "an entry's version");
  if (node >= limit) {
    Malformed(where, absl::StrFormat("entry %s refers to node %d, expected a node before it (0..%d)", value.dump(),
                                     node, static_cast<int>(limit) - 1));
  }
  return {node, static_cast<int>(index)};
}

// Adds the string members of a node's "attrs"/"attr"/"param" object to `dict` (without replacing keys).
void ReadDictionary(const Json& object, const std::string& where, const char* key,
                    std::map<std::string, std::string>* dict) {
  if (!object.is_object()) Malformed(where, absl::StrCat("\"", key, "\" is ", object.dump(), ", expected an object"));
  for (const auto& [name, value] : object.items()) {
    // MXNet writes every value as a string; accept hand-written numbers and booleans too.
    if (value.is_string()) {
      dict->emplace(name, value.get<std::string>());
    } else if (value.is_number() || value.is_boolean()) {
      dict->emplace(name, value.is_boolean() ? (value.get<bool>() ? "True" : "False") : value.dump());
    } else {
      Malformed(where, absl::StrFormat("%s value of '%s' is %s, expected a string", key, name, value.dump()));
    }
  }
}

FileNode ReadNode(const Json& value, size_t id) {
  FileNode node;
  const std::string where = absl::StrFormat("node %d", id);
  if (!value.is_object()) Malformed(where, "is " + value.dump() + ", expected an object");
  auto op = value.find("op");
  auto name = value.find("name");
  if (op == value.end() || !op->is_string()) Malformed(where, "has no \"op\" string");
  if (name == value.end() || !name->is_string()) Malformed(where, "has no \"name\" string");
  node.op = op->get<std::string>();
  node.name = name->get<std::string>();
  const std::string named = NodeWhere(id, node.name);
  auto inputs = value.find("inputs");
  if (inputs == value.end() || !inputs->is_array()) Malformed(named, "has no \"inputs\" array");
  for (const Json& entry : *inputs) node.inputs.push_back(ReadEntry(entry, id, named));
  // 1.x files say "attrs"; pre-1.0 files "attr" (user attributes) and "param" (op parameters).
  for (const char* key : {"attrs", "attr", "param"}) {
    auto dict = value.find(key);
    if (dict != value.end()) ReadDictionary(*dict, named, key, &node.dict);
  }
  auto deps = value.find("control_deps");
  if (deps != value.end()) {
    if (!deps->is_array()) Malformed(named, "\"control_deps\" is not an array");
    for (const Json& dep : *deps) {
      const uint32_t dep_id = ReadIndex(dep, named, "a control dependency");
      if (dep_id >= id) Malformed(named, absl::StrFormat("control dependency %d does not come before it", dep_id));
      node.control_deps.push_back(dep_id);
    }
  }
  return node;
}

// The MXNet version that wrote the file: attrs.mxnet_version = ["int", 10901]; 0.8.0 when absent.
int ReadVersion(const Json& document) {
  auto attrs = document.find("attrs");
  if (attrs == document.end()) return kVersionUnknown;
  if (!attrs->is_object()) Malformed("graph", "\"attrs\" is not an object");
  auto version = attrs->find("mxnet_version");
  if (version == attrs->end()) return kVersionUnknown;
  if (!version->is_array() || version->size() != 2 || !(*version)[1].is_number_integer()) {
    Malformed("graph", "attrs.mxnet_version is " + version->dump() + ", expected [\"int\", <version>]");
  }
  return (*version)[1].get<int>();
}

// Where a key of a pre-1.x node names one of MXNet's hidden attributes (LoadLegacyJSON's FixParsing step):
// "lr_mult" belongs to the node as "__lr_mult__"; "weight_lr_mult" to its input variable "weight".
struct HiddenKey {
  std::string key;         // The key as written.
  std::string value;       // Its value.
  std::string hidden;      // The hidden key it contains ("lr_mult").
  std::string input_name;  // For "<input>_<hidden>" keys: the input; empty for "<hidden>" itself.
};

// Removes from `dict` the keys FixParsing treats as hidden attributes and returns them.
std::vector<HiddenKey> TakeHiddenKeys(std::map<std::string, std::string>* dict) {
  std::vector<HiddenKey> taken;
  for (auto it = dict->begin(); it != dict->end();) {
    bool take = false;
    for (const std::string& hidden : HiddenKeys()) {
      const std::string& key = it->first;
      const size_t position = key.rfind(hidden);
      const bool ends_with = position != std::string::npos && position + hidden.size() == key.size();
      if (position == 0 && key.size() == hidden.size()) {
        taken.push_back({key, it->second, hidden, ""});
      } else if (ends_with && position > 1) {
        taken.push_back({key, it->second, hidden, key.substr(0, position - 1)});
      } else {
        continue;
      }
      take = true;
      break;
    }
    it = take ? dict->erase(it) : std::next(it);
  }
  return taken;
}

// Builds the operator node of file node `id` (upgrading pre-1.x conventions); its inputs are built already.
std::shared_ptr<Node> BuildOpNode(const OpDef& op, FileNode file, int version,
                                  const std::vector<std::shared_ptr<Node>>& built) {
  std::vector<HiddenKey> hidden = TakeHiddenKeys(&file.dict);
  if (version < kVersionOptionalReduceAxis && (op.name == "argmax" || op.name == "argmin")) {
    auto axis = file.dict.find("axis");
    if (axis != file.dict.end() && axis->second == "-1") file.dict.erase(axis);
  }
  ParamMap params;
  std::map<std::string, std::string> attrs;
  for (const auto& [key, value] : file.dict) (absl::StartsWith(key, "__") ? attrs : params)[key] = value;
  for (const HiddenKey& key : hidden) {
    if (key.input_name.empty()) attrs["__" + key.hidden + "__"] = key.value;
  }
  const OpParams parsed = op.ParseParams(params);
  std::vector<NodeEntry> inputs;
  for (const auto& [node, index] : file.inputs) {
    PMX_CHECK(index < built[node]->num_outputs(), kValueError,
              "input %d refers to output %d of node %d '%s', which has %d outputs", static_cast<int>(inputs.size()),
              index, static_cast<int>(node), built[node]->name, built[node]->num_outputs());
    inputs.push_back(NodeEntry{built[node], index});
  }
  const std::vector<std::string> input_names = InputNames(op, parsed);
  // Before 0.9.0 auxiliary states were not stored: add them as MXNet's composition would have.
  if (version < kVersionAuxiliaryStored && inputs.size() < input_names.size()) {
    std::map<std::string, std::string> copied(params.begin(), params.end());
    copied.insert(attrs.begin(), attrs.end());
    for (size_t i = inputs.size(); i < input_names.size(); ++i) {
      inputs.push_back(NodeEntry{Node::Variable(file.name + "_" + input_names[i], copied), 0});
    }
  }
  for (const HiddenKey& key : hidden) {
    if (key.input_name.empty()) continue;
    auto found = std::find(input_names.begin(), input_names.end(), key.input_name);
    const size_t index = found - input_names.begin();
    if (found != input_names.end() && index < inputs.size() && inputs[index].node->is_variable()) {
      inputs[index].node->attrs["__" + key.hidden + "__"] = key.value;
    } else {
      params[key.key] = key.value;  // Not an input's attribute: left to the parameter check, as in MXNet.
    }
  }
  std::shared_ptr<Node> node = Node::Op(op, file.name, std::move(params), std::move(inputs), std::move(attrs));
  for (uint32_t dep : file.control_deps) node->control_deps.push_back(built[dep]);
  if (version < kVersionInitOnCompose) SetInputVariableDefaults(*node);
  return node;
}

}  // namespace

std::string Symbol::ToJson() const {
  const std::vector<std::shared_ptr<Node>> order = TopologicalOrder(outputs_);
  std::unordered_map<const Node*, uint32_t> ids;
  // nnvm numbers the writes to a variable: an op that mutates a variable input (BatchNorm's moving_mean)
  // bumps its version, and every entry records the version it saw ([node, 0, 1] in MXNet's files).
  std::unordered_map<const Node*, uint32_t> versions;
  std::vector<uint32_t> arg_nodes, row_ptr{0};
  LayoutWriter writer;
  writer.BeginObject(true);
  writer.Key("nodes");
  writer.BeginArray(true);
  for (uint32_t id = 0; id < order.size(); ++id) {
    const Node& node = *order[id];
    ids[&node] = id;
    writer.Item();
    writer.BeginObject(true);
    writer.Key("op");
    writer.String(node.is_variable() ? "null" : node.op->name);
    writer.Key("name");
    writer.String(node.name);
    std::map<std::string, std::string> dict(node.params.begin(), node.params.end());
    for (const auto& [key, value] : node.attrs) dict[key] = value;
    if (!dict.empty()) {
      writer.Key("attrs");
      writer.BeginObject(dict.size() > 1);
      for (const auto& [key, value] : dict) {
        writer.Key(key);
        writer.String(value);
      }
      writer.EndObject();
    }
    std::vector<int> mutated;
    if (!node.is_variable()) mutated = node.op->MutatedInputs(node.parsed);
    writer.Key("inputs");
    writer.BeginArray(node.inputs.size() > 10);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Node* input = node.inputs[i].node.get();
      uint32_t version = 0;
      if (input->is_variable()) {
        version = versions[input];
        if (std::find(mutated.begin(), mutated.end(), static_cast<int>(i)) != mutated.end()) {
          version = ++versions[input];
        }
      }
      WriteEntry(&writer, ids.at(input), node.inputs[i].index, version);
    }
    writer.EndArray();
    if (!node.control_deps.empty()) {
      std::vector<uint32_t> deps;
      for (const std::shared_ptr<Node>& dep : node.control_deps) deps.push_back(ids.at(dep.get()));
      writer.Key("control_deps");
      WriteIds(&writer, deps);
    }
    writer.EndObject();
    if (node.is_variable()) arg_nodes.push_back(id);
    row_ptr.push_back(row_ptr.back() + MxnetNumOutputs(node));
  }
  writer.EndArray();
  writer.Key("arg_nodes");
  WriteIds(&writer, arg_nodes);
  writer.Key("node_row_ptr");
  WriteIds(&writer, row_ptr);
  writer.Key("heads");
  writer.BeginArray(outputs_.size() > 10);
  for (const NodeEntry& output : outputs_) WriteEntry(&writer, ids.at(output.node.get()), output.index, 0);
  writer.EndArray();
  writer.Key("attrs");
  writer.BeginObject(false);
  writer.Key("mxnet_version");
  writer.BeginArray(false);
  writer.Item();
  writer.String("int");
  writer.Item();
  writer.Number(kMxnetVersion);
  writer.EndArray();
  writer.EndObject();
  writer.EndObject();
  return writer.text();
}

Symbol Symbol::FromJson(const std::string& json) {
  Json document;
  try {
    document = Json::parse(json);
  } catch (const Json::exception& error) {
    Throw(ErrorKind::kValueError, "[Symbol.FromJson] the text is not valid JSON: %s", error.what());
  }
  if (!document.is_object()) Malformed("graph", "the document is not a JSON object");
  auto nodes = document.find("nodes");
  auto heads = document.find("heads");
  if (nodes == document.end() || !nodes->is_array()) Malformed("graph", "has no \"nodes\" array");
  if (heads == document.end() || !heads->is_array()) Malformed("graph", "has no \"heads\" array");
  const int version = ReadVersion(document);
  std::vector<std::shared_ptr<Node>> built;
  built.reserve(nodes->size());
  for (size_t id = 0; id < nodes->size(); ++id) {
    FileNode file = ReadNode((*nodes)[id], id);
    const std::string where = NodeWhere(id, file.name);
    try {
      if (file.op == "null") {
        if (!file.inputs.empty()) Malformed(where, "is a variable (op \"null\") with inputs");
        for (const HiddenKey& key : TakeHiddenKeys(&file.dict)) {
          file.dict[key.input_name.empty() ? "__" + key.hidden + "__" : key.key] = key.value;
        }
        built.push_back(Node::Variable(file.name, std::move(file.dict)));
        continue;
      }
      const OpDef* op = OpRegistry::Get()->Find(file.op);
      if (op == nullptr) OpRegistry::Get()->Lookup(file.op);  // Throws "unknown operator" with close names.
      built.push_back(BuildOpNode(*op, std::move(file), version, built));
    } catch (const Error& error) {
      if (absl::StartsWith(error.message(), "[Symbol.FromJson]")) throw;
      throw Error(ErrorKind::kValueError,
                  absl::StrFormat("[Symbol.FromJson] %s (op %s): %s", where, (*nodes)[id]["op"].get<std::string>(),
                                  error.message()));
    }
  }
  auto arg_nodes = document.find("arg_nodes");
  if (arg_nodes != document.end()) {
    if (!arg_nodes->is_array()) Malformed("graph", "\"arg_nodes\" is not an array");
    for (const Json& value : *arg_nodes) {
      const uint32_t id = ReadIndex(value, "arg_nodes", "a node id");
      if (id >= built.size()) Malformed("arg_nodes", absl::StrFormat("node id %d is out of range", id));
      if (!built[id]->is_variable()) {
        Malformed("arg_nodes", absl::StrFormat("lists node %d '%s', which is not a variable", id, built[id]->name));
      }
    }
  }
  std::vector<NodeEntry> outputs;
  for (const Json& value : *heads) {
    const auto [id, index] = ReadEntry(value, built.size(), "heads");
    if (index >= built[id]->num_outputs()) {
      Malformed("heads", absl::StrFormat("entry %s refers to output %d of node %d '%s', which has %d outputs",
                                         value.dump(), index, id, built[id]->name, built[id]->num_outputs()));
    }
    outputs.push_back(NodeEntry{built[id], index});
  }
  return Symbol(std::move(outputs));
}

void Symbol::Save(const std::string& path) const {
  const std::string text = ToJson();
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  PMX_CHECK(file.is_open(), kRuntimeError, "[Symbol.Save] cannot open '%s' for writing: %s", path,
            std::strerror(errno));
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  PMX_CHECK(!file.fail(), kRuntimeError, "[Symbol.Save] writing '%s' failed: %s", path, std::strerror(errno));
}

Symbol Symbol::Load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  PMX_CHECK(file.is_open(), kValueError, "[Symbol.Load] cannot open '%s': %s", path, std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  PMX_CHECK(!file.bad(), kRuntimeError, "[Symbol.Load] reading '%s' failed: %s", path, std::strerror(errno));
  try {
    return FromJson(text.str());
  } catch (const Error& error) {
    throw Error(error.kind(), error.message() + " (in '" + path + "')");
  }
}

}  // namespace graph
}  // namespace pmx
