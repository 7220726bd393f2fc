// Storage: pooled memory for every device (64-byte-aligned host, pinned host, CUDA), with statistics.
#ifndef POLYMIX_CORE_STORAGE_STORAGE_H_
#define POLYMIX_CORE_STORAGE_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/device.h"
#include "core/base/mutex.h"

namespace pmx {

namespace storage_internal {
class DevicePool;
}  // namespace storage_internal

// The alignment of every host block (cpu and cpu_pinned): one cache line, one AVX-512 vector.
inline constexpr size_t kStorageAlignment = 64;

// One block of memory handed out by Storage.
struct StorageBlock {
  void* data = nullptr;  // Start of the block; 64-byte aligned on the host; nullptr for size 0.
  size_t size = 0;       // Bytes requested.
  Device device;         // Where the memory lives.
};

// Counters for one device's allocator, read by tests and benchmarks. Sizes of size-0 blocks and of
// default-constructed blocks are never counted.
struct StorageStats {
  int64_t bytes_in_use = 0;        // Bytes currently handed out (requested sizes).
  int64_t peak_bytes_in_use = 0;   // Highest bytes_in_use since start or the last ResetPeak.
  int64_t bytes_pooled = 0;        // Bytes held in the pool, free for reuse (bucket sizes).
  int64_t bytes_reserved = 0;      // Bytes held from the system: blocks in use (bucket sizes) + bytes_pooled.
  int64_t allocations = 0;         // Successful Allocate calls of a non-zero size (= pool_hits + system_allocations).
  int64_t pool_hits = 0;           // Allocations served from the pool without asking the system.
  int64_t system_allocations = 0;  // Allocations that went to the system allocator (malloc/cudaMalloc).
  int64_t frees = 0;               // Free calls of a non-null block.
  int64_t system_frees = 0;        // Blocks given back to the system (pooling off, ReleasePool, out of memory).
};

// The process-wide allocator front: one pool per device. Thread-safe.
//
// Host memory (cpu(i) for every i) is one pool: cpu ids name the same memory, as in MXNet. cpu_pinned is
// one pool too; each GPU has its own. See Note [Storage buckets] in core/storage/internal/device_pool.h
// for how blocks are pooled.
class Storage {
 public:
  // The singleton (never destroyed; see Note [Storage lifetime] in storage.cc).
  static Storage* Get();

  // Allocates `size` bytes on `device` (pooled unless POLYMIX_STORAGE_POOL=0). Throws OutOfMemory when
  // neither the pool nor the system has room (after releasing the pool once and retrying), and
  // NotImplementedError / ValueError for a GPU this build or machine does not have. A size of 0 gives
  // data == nullptr (after the same device checks) and touches no counter.
  StorageBlock Allocate(size_t size, Device device);

  // Returns a block to its device's pool (or to the system when pooling is off). Freeing a
  // default-constructed block is a no-op. Throws ValueError for a block Storage did not hand out (or
  // already took back), or whose size differs from the size it was allocated with.
  void Free(StorageBlock block);

  // Returns every pooled (free) block of `device` to the system.
  void ReleasePool(Device device);

  // The counters of `device`'s allocator (all zero for a GPU never allocated on).
  StorageStats Stats(Device device) const;

  // Sets peak_bytes_in_use to the current bytes_in_use for `device`.
  void ResetPeak(Device device);

  // Never called on the singleton; virtual so that a test double may derive from Storage.
  virtual ~Storage();

 protected:
  // Makes the host and pinned pools; GPU pools are made on first use.
  Storage();

 private:
  // The pool of `device`; creates a GPU's pool when `create`, else returns nullptr for a GPU without one.
  storage_internal::DevicePool* PoolOf(Device device, bool create) const;

  std::unique_ptr<storage_internal::DevicePool> host_pool_;    // cpu(*).
  std::unique_ptr<storage_internal::DevicePool> pinned_pool_;  // cpu_pinned(*).
  mutable Mutex gpu_pools_mutex_;                              // Guards the list, not the pools.
  // One pool per GPU ordinal, made on first use; a pool, once made, lives as long as Storage.
  mutable std::vector<std::unique_ptr<storage_internal::DevicePool>> gpu_pools_
      ABSL_GUARDED_BY(gpu_pools_mutex_);
};

}  // namespace pmx

#endif  // POLYMIX_CORE_STORAGE_STORAGE_H_
