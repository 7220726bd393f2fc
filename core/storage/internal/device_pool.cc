#include "core/storage/internal/device_pool.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>
#include <utility>

#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/base/error.h"

namespace pmx {
namespace storage_internal {
namespace {

constexpr size_t kPowerOfTwoLimit = size_t{1} << 20;  // Largest power-of-two bucket: 1 MiB.
constexpr size_t kLargeStep = size_t{1} << 20;        // Step between buckets above it: 1 MiB.
static_assert(sizeof(size_t) == sizeof(unsigned long long), "BucketSize uses __builtin_clzll");
static_assert(kStorageAlignment == 64 && kPowerOfTwoLimit == (size_t{64} << 14),
              "DevicePool::small_free_lists_ holds the 15 buckets 2^6 .. 2^20");

// `size` rounded up to a multiple of `step` (a power of two); OutOfMemory if that overflows.
size_t RoundUp(size_t size, size_t step) {
  PMX_CHECK(size <= std::numeric_limits<size_t>::max() - (step - 1), kOutOfMemory,
            "[Storage] cannot allocate %d bytes: expected a size below %d", size,
            std::numeric_limits<size_t>::max() - (step - 1));
  return (size + step - 1) & ~(step - 1);
}

}  // namespace

size_t BucketSize(size_t size) {
  if (size <= kStorageAlignment) return kStorageAlignment;
  if (size <= kPowerOfTwoLimit) return size_t{1} << (64 - __builtin_clzll(size - 1));
  return RoundUp(size, kLargeStep);
}

void* SystemAllocate(Device device, size_t bytes) {
  switch (device.type) {
    case DeviceType::kCPU: {
      void* data = std::aligned_alloc(kStorageAlignment, bytes);
      PMX_CHECK(data != nullptr, kOutOfMemory, "[Storage] the system allocator has no room for %d bytes on %s",
                bytes, device.ToString());
      return data;
    }
    case DeviceType::kCPUPinned: return gpu::PinnedMalloc(bytes);
    case DeviceType::kGPU: return gpu::DeviceMalloc(device.id, bytes);
  }
  Throw(ErrorKind::kValueError, "[Storage] unknown device type %d: expected cpu, gpu or cpu_pinned",
        static_cast<int>(device.type));
}

void SystemFree(Device device, void* data) {
  switch (device.type) {
    case DeviceType::kCPU: std::free(data); return;
    case DeviceType::kCPUPinned: gpu::PinnedFree(data); return;
    case DeviceType::kGPU: gpu::DeviceFree(device.id, data); return;
  }
}

void* DevicePool::Allocate(size_t size) {
  const bool pooling = Env().storage_pool;
  const size_t capacity = pooling ? BucketSize(size) : RoundUp(size, kStorageAlignment);
  if (pooling) {
    MutexLock lock(&mutex_);
    std::vector<void*>& free_list = FreeList(capacity);
    if (!free_list.empty()) {
      void* data = free_list.back();
      free_list.pop_back();
      stats_.bytes_pooled -= capacity;
      ++stats_.pool_hits;
      RecordAllocation(data, size, capacity);
      return data;
    }
  }
  void* data = AllocateFromSystem(size, capacity);
  MutexLock lock(&mutex_);
  ++stats_.system_allocations;
  stats_.bytes_reserved += capacity;
  RecordAllocation(data, size, capacity);
  return data;
}

std::vector<void*>& DevicePool::FreeList(size_t capacity) {
  if (capacity <= kPowerOfTwoLimit) return small_free_lists_[__builtin_ctzll(capacity) - 6];
  return large_free_lists_[capacity];
}

void DevicePool::RecordAllocation(void* data, size_t size, size_t capacity) {
  live_.emplace(data, LiveBlock{size, capacity});
  ++stats_.allocations;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
}

// Note [Out of memory]
// When the system has no room, the pool's free blocks are the first thing to give back: they may be
// in buckets of other sizes (or the system may need them contiguous), so the pool releases everything
// it holds and tries once more. Only this device's pool is released; other devices' memory cannot
// help. The second failure is reported with the device's counters, which usually tell a user whether
// their own arrays (bytes_in_use) or fragmentation is to blame.
void* DevicePool::AllocateFromSystem(size_t size, size_t capacity) {
  try {
    return SystemAllocate(device_, capacity);
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kOutOfMemory) throw;
  }
  Release();
  try {
    return SystemAllocate(device_, capacity);
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kOutOfMemory) throw;
    const StorageStats stats = Stats();
    Throw(ErrorKind::kOutOfMemory,
          "[Storage] out of memory on %s: cannot allocate %d bytes (%d requested) while %d bytes are in "
          "use, even after releasing the pool (%s)",
          device_.ToString(), capacity, size, stats.bytes_in_use, error.message());
  }
}

void DevicePool::Free(void* data, size_t size) {
  const bool pooling = Env().storage_pool;
  size_t capacity = 0;
  {
    MutexLock lock(&mutex_);
    auto found = live_.find(data);
    PMX_CHECK(found != live_.end(), kValueError,
              "[Storage] cannot free %p on %s: expected a block that Storage allocated there and has not "
              "taken back yet",
              data, device_.ToString());
    PMX_CHECK(found->second.size == size, kValueError,
              "[Storage] cannot free the block at %p on %s: expected its allocated size %d bytes, given %d",
              data, device_.ToString(), found->second.size, size);
    capacity = found->second.capacity;
    live_.erase(found);
    stats_.bytes_in_use -= size;
    ++stats_.frees;
    // A block allocated while pooling was off has an exact size, not a bucket's: it goes back.
    if (pooling && capacity == BucketSize(size)) {
      FreeList(capacity).push_back(data);
      stats_.bytes_pooled += capacity;
      return;
    }
    stats_.bytes_reserved -= capacity;
    ++stats_.system_frees;
  }
  SystemFree(device_, data);
}

void DevicePool::Release() {
  std::vector<void*> blocks;
  {
    MutexLock lock(&mutex_);
    for (std::vector<void*>& list : small_free_lists_) {
      blocks.insert(blocks.end(), list.begin(), list.end());
      list.clear();
    }
    for (auto& [capacity, list] : large_free_lists_) blocks.insert(blocks.end(), list.begin(), list.end());
    large_free_lists_.clear();
    stats_.bytes_reserved -= stats_.bytes_pooled;
    stats_.bytes_pooled = 0;
    stats_.system_frees += static_cast<int64_t>(blocks.size());
  }
  // Free every block even if one fails (a GPU with a sticky error), then report the first failure.
  std::exception_ptr first_error;
  for (void* data : blocks) {
    try {
      SystemFree(device_, data);
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

StorageStats DevicePool::Stats() const {
  MutexLock lock(&mutex_);
  return stats_;
}

void DevicePool::ResetPeak() {
  MutexLock lock(&mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

}  // namespace storage_internal
}  // namespace pmx
