// oneDNN plumbing shared by the CPU kernels that use it: the engine, one stream per thread, user-managed
// scratchpads, plain memory descriptors, and a small LRU cache of primitives keyed by shapes and parameters.
#ifndef POLYMIX_CORE_BACKEND_CPU_DNNL_COMMON_H_
#define POLYMIX_CORE_BACKEND_CPU_DNNL_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <dnnl.hpp>

namespace pmx {
namespace cpu {

// Note [oneDNN primitives in Polymix]
// Creating a oneDNN primitive descriptor walks the implementation list and can take tens of microseconds
// to milliseconds, so each op family keeps a small LRU cache of ready primitives keyed by everything that
// shapes them (dims, strides, parameters, write mode). Primitives are created with a user-managed
// scratchpad: every execution passes a scratchpad from the executing thread's own buffer, which makes it
// safe for two engine workers to run the same cached primitive at once. Debian's oneDNN uses OpenMP, the
// same runtime as cpu::ParallelFor, so both respect OMP_NUM_THREADS.

// The process's CPU engine.
const dnnl::engine& DnnlEngine();

// The calling thread's stream (oneDNN streams are not meant to be shared across threads; on the CPU with
// OpenMP a primitive runs synchronously on the calling thread and its team).
dnnl::stream& DnnlStream();

// Attributes every Polymix primitive starts from: user-managed scratchpad (see the Note above).
dnnl::primitive_attr DnnlAttr();

// A row-major (dense, C-order) descriptor for `dims`.
dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims,
                             dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// A descriptor for `dims` laid out with explicit element `strides`.
dnnl::memory::desc StridedDesc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides,
                               dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// A memory object over caller-owned `data` (no copy; `data` may be const for inputs).
dnnl::memory WrapMemory(const dnnl::memory::desc& desc, const void* data);

// Runs `primitive` on this thread's stream with `args`, adding a scratchpad for `scratchpad_desc` from the
// thread's buffer, and waits for it.
void DnnlExecute(const dnnl::primitive& primitive, std::unordered_map<int, dnnl::memory> args,
                 const dnnl::memory::desc& scratchpad_desc);

// Memory from a per-thread buffer that grows as needed; valid until the next call on the same thread with
// the same `slot`. Used for format conversions around primitives.
void* ThreadBuffer(int slot, size_t bytes);

// Reorders `from` into `to` (a oneDNN reorder primitive, cached by the two descriptors).
void DnnlReorder(const dnnl::memory& from, const dnnl::memory& to);

// A key describing one primitive configuration: a list of integers.
class PrimitiveKey {
 public:
  // Appends integers to the key.
  PrimitiveKey& Add(int64_t value) {
    values_.push_back(value);
    return *this;
  }
  // Appends every integer of `values`, preceded by their count so lists of different lengths differ.
  PrimitiveKey& Add(const std::vector<int64_t>& values) {
    values_.push_back(static_cast<int64_t>(values.size()));
    values_.insert(values_.end(), values.begin(), values.end());
    return *this;
  }
  // Keys order lexicographically (for std::map).
  friend bool operator<(const PrimitiveKey& a, const PrimitiveKey& b) { return a.values_ < b.values_; }

 private:
  std::vector<int64_t> values_;
};

// A thread-safe LRU cache of `Value`s (primitives and their descriptors), created on first use.
template <typename Value>
class PrimitiveCache {
 public:
  // Holds at most `capacity` entries; the least recently used one is dropped first.
  explicit PrimitiveCache(size_t capacity) : capacity_(capacity) {}

  // The value for `key`, created with `make()` on a miss (outside the lock: two threads missing together
  // may both create it; one copy wins).
  std::shared_ptr<const Value> Get(const PrimitiveKey& key, const std::function<Value()>& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = index_.find(key);
      if (found != index_.end()) {
        order_.splice(order_.begin(), order_, found->second);
        return found->second->second;
      }
    }
    auto value = std::make_shared<const Value>(make());
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found != index_.end()) return found->second->second;
    order_.emplace_front(key, value);
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return value;
  }

  // Number of cached entries (for tests).
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return order_.size();
  }

 private:
  using Entry = std::pair<PrimitiveKey, std::shared_ptr<const Value>>;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  // Most recently used first.
  std::map<PrimitiveKey, typename std::list<Entry>::iterator> index_;
};

}  // namespace cpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CPU_DNNL_COMMON_H_
