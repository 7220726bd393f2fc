// Storage: pooled memory for every device (64-byte-aligned host, pinned host, CUDA), with statistics.
#ifndef POLYMIX_CORE_STORAGE_STORAGE_H_
#define POLYMIX_CORE_STORAGE_STORAGE_H_

#include <cstddef>
#include <cstdint>

#include "core/base/device.h"

namespace pmx {

// One block of memory handed out by Storage.
struct StorageBlock {
  void* data = nullptr;  // Start of the block; 64-byte aligned on the host; nullptr for size 0.
  size_t size = 0;       // Bytes requested.
  Device device;         // Where the memory lives.
};

// Counters for one device's allocator, read by tests and benchmarks.
struct StorageStats {
  int64_t bytes_in_use = 0;        // Bytes currently handed out (requested sizes).
  int64_t peak_bytes_in_use = 0;   // Highest bytes_in_use since start or the last ResetPeak.
  int64_t bytes_pooled = 0;        // Bytes held in the pool, free for reuse.
  int64_t allocations = 0;         // Calls to Allocate.
  int64_t pool_hits = 0;           // Allocations served from the pool without asking the system.
  int64_t system_allocations = 0;  // Allocations that went to the system allocator (malloc/cudaMalloc).
  int64_t frees = 0;               // Calls to Free.
};

// The process-wide allocator front: one pool per device. Thread-safe.
class Storage {
 public:
  // The singleton.
  static Storage* Get();

  // Allocates `size` bytes on `device` (pooled unless POLYMIX_STORAGE_POOL=0). Throws OutOfMemory when
  // neither the pool nor the system has room (after releasing the pool once and retrying), and
  // NotImplementedError / ValueError for a GPU this build or machine does not have.
  StorageBlock Allocate(size_t size, Device device);

  // Returns a block to its device's pool (or to the system when pooling is off). Freeing a
  // default-constructed block is a no-op.
  void Free(StorageBlock block);

  // Returns every pooled (free) block of `device` to the system.
  void ReleasePool(Device device);

  // The counters of `device`'s allocator.
  StorageStats Stats(Device device) const;

  // Sets peak_bytes_in_use to the current bytes_in_use for `device`.
  void ResetPeak(Device device);

  virtual ~Storage() = default;

 protected:
  Storage() = default;
};

}  // namespace pmx

#endif  // POLYMIX_CORE_STORAGE_STORAGE_H_
