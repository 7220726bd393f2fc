#include "core/backend/cpu/dnnl_common.h"

#include <cstdlib>
#include <cstring>

namespace pmx {
namespace cpu {
namespace {

// A growable, 64-byte aligned buffer owned by one thread.
class AlignedBuffer {
 public:
  ~AlignedBuffer() { std::free(data_); }
  void* Get(size_t bytes) {
    if (bytes > capacity_) {
      std::free(data_);
      capacity_ = (bytes + 4095) / 4096 * 4096;
      data_ = std::aligned_alloc(64, capacity_);
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

constexpr int kBufferSlots = 8;

AlignedBuffer& Slot(int slot) {
  thread_local AlignedBuffer buffers[kBufferSlots + 1];  // The last one holds scratchpads.
  return buffers[slot];
}

// The bytes of a descriptor as integers, for cache keys.
void AddDescToKey(const dnnl::memory::desc& desc, PrimitiveKey* key) {
  const dnnl_memory_desc_t& raw = desc.data;
  std::vector<int64_t> words((sizeof(raw) + 7) / 8, 0);
  std::memcpy(words.data(), &raw, sizeof(raw));
  key->Add(words);
}

}  // namespace

const dnnl::engine& DnnlEngine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& DnnlStream() {
  thread_local dnnl::stream stream(DnnlEngine());
  return stream;
}

dnnl::primitive_attr DnnlAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims, dnnl::memory::data_type type) {
  dnnl::memory::dims strides(dims.size(), 1);
  for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * dims[d + 1];
  return dnnl::memory::desc(dims, type, strides);
}

dnnl::memory::desc StridedDesc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides,
                               dnnl::memory::data_type type) {
  return dnnl::memory::desc(dims, type, strides);
}

dnnl::memory WrapMemory(const dnnl::memory::desc& desc, const void* data) {
  return dnnl::memory(desc, DnnlEngine(), const_cast<void*>(data));
}

void* ThreadBuffer(int slot, size_t bytes) { return Slot(slot % kBufferSlots).Get(bytes); }

void DnnlExecute(const dnnl::primitive& primitive, std::unordered_map<int, dnnl::memory> args,
                 const dnnl::memory::desc& scratchpad_desc) {
  const size_t bytes = scratchpad_desc.get_size();
  if (bytes > 0) {
    args.emplace(DNNL_ARG_SCRATCHPAD, WrapMemory(scratchpad_desc, Slot(kBufferSlots).Get(bytes)));
  }
  dnnl::stream& stream = DnnlStream();
  primitive.execute(stream, args);
  stream.wait();
}

void DnnlReorder(const dnnl::memory& from, const dnnl::memory& to) {
  struct Reorder {
    dnnl::reorder::primitive_desc pd;
    dnnl::reorder primitive;
  };
  static auto* cache = new PrimitiveCache<Reorder>(32);
  PrimitiveKey key;
  AddDescToKey(from.get_desc(), &key);
  AddDescToKey(to.get_desc(), &key);
  auto reorder = cache->Get(key, [&] {
    dnnl::reorder::primitive_desc pd(DnnlEngine(), from.get_desc(), DnnlEngine(), to.get_desc(), DnnlAttr());
    return Reorder{pd, dnnl::reorder(pd)};
  });
  DnnlExecute(reorder->primitive, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, reorder->pd.scratchpad_desc());
}

}  // namespace cpu
}  // namespace pmx
