// One device's pooled allocator: size buckets, free lists, counters; used by core/storage/storage.cc.
#ifndef POLYMIX_CORE_STORAGE_INTERNAL_DEVICE_POOL_H_
#define POLYMIX_CORE_STORAGE_INTERNAL_DEVICE_POOL_H_

#include <cstddef>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/base/device.h"
#include "core/base/mutex.h"
#include "core/storage/storage.h"

namespace pmx {
namespace storage_internal {

// Note [Storage buckets]
// A pooled block is reused only for a request that rounds to the same bucket; blocks are never split
// or merged. Buckets are:
//   - sizes up to 1 MiB: the next power of two, at least 64 bytes (64, 128, ..., 1 MiB: 15 buckets);
//   - larger sizes: the next multiple of 1 MiB.
// Why powers of two below 1 MiB: small arrays (biases, scalars, optimizer temporaries) come in many
// slightly different sizes, and few wide buckets make a freed block fit the next similar request; the
// waste (under 2x) is bounded by 1 MiB per block. Page multiples were rejected for this range: a 4 KiB
// floor would waste 4 KiB on every scalar, and 256 buckets per MiB would rarely match.
// Why 1 MiB steps above: doubling a 600 MiB activation would waste 424 MiB of GPU memory, while 1 MiB
// steps waste under 1 MiB per block (under 1% from 100 MiB on) and still let a training loop, which
// repeats the same shapes every step, hit the pool on every step after the first. 1 MiB is a multiple
// of the 4 KiB page, so large host blocks come straight from mmap without a partial page.
// This is MXNet's "Round" GPU pool strategy (powers of two below a cutoff, linear steps above), with a
// lower cutoff. PyTorch's caching allocator splits and merges blocks instead, which saves memory under
// varying shapes but needs best-fit search and coalescing; exact buckets keep every operation O(1).

// The size that pooling turns a request of `size` (> 0) bytes into; see Note [Storage buckets].
// Throws OutOfMemory when the rounded size would not fit in size_t.
size_t BucketSize(size_t size);

// Gets `bytes` (a multiple of kStorageAlignment) from the system allocator of `device`; throws
// OutOfMemory when it has no room.
void* SystemAllocate(Device device, size_t bytes);

// Gives memory from SystemAllocate back to `device`'s system allocator.
void SystemFree(Device device, void* data);

// The pooled allocator of one device. Thread-safe; system calls run outside the lock.
class DevicePool {
 public:
  // A pool for `device` (for host devices, any id; the pool's device is what it reports in messages).
  explicit DevicePool(Device device) : device_(device) {}
  DevicePool(const DevicePool&) = delete;
  DevicePool& operator=(const DevicePool&) = delete;

  // Allocates `size` (> 0) bytes: from the pool if pooling is on and the bucket has a block, else from
  // the system, releasing the pool and retrying once on OutOfMemory (see Note [Out of memory]).
  void* Allocate(size_t size);

  // Takes back `data`, allocated here with `size` bytes: into the pool, or to the system when pooling
  // is off. Throws ValueError for a pointer this pool did not hand out or a wrong size.
  void Free(void* data, size_t size);

  // Returns every pooled block to the system.
  void Release();

  // A copy of the counters.
  StorageStats Stats() const;

  // Sets peak_bytes_in_use to bytes_in_use.
  void ResetPeak();

 private:
  // What the pool knows about a block it handed out.
  struct LiveBlock {
    size_t size;      // Bytes requested.
    size_t capacity;  // Bytes obtained from the system (the bucket size when pooled).
  };

  // SystemAllocate, with one Release-and-retry on OutOfMemory.
  void* AllocateFromSystem(size_t size, size_t capacity);

  // Records `data` as handed out.
  void RecordAllocation(void* data, size_t size, size_t capacity) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // The free blocks of bucket size `capacity`.
  std::vector<void*>& FreeList(size_t capacity) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Device device_;
  mutable Mutex mutex_;
  // Free blocks of the power-of-two buckets (64 B .. 1 MiB), by log2(size) - 6: no hashing on the
  // common path.
  std::vector<void*> small_free_lists_[15] ABSL_GUARDED_BY(mutex_);
  // Free blocks of the larger buckets, by bucket size.
  absl::flat_hash_map<size_t, std::vector<void*>> large_free_lists_ ABSL_GUARDED_BY(mutex_);
  // Blocks handed out and not yet freed.
  absl::flat_hash_map<void*, LiveBlock> live_ ABSL_GUARDED_BY(mutex_);
  StorageStats stats_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace storage_internal
}  // namespace pmx

#endif  // POLYMIX_CORE_STORAGE_INTERNAL_DEVICE_POOL_H_
