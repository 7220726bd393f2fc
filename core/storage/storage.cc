#include "core/storage/storage.h"

#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"
#include "core/storage/internal/device_pool.h"

namespace pmx {

using storage_internal::DevicePool;

// Note [Storage lifetime]
// The singleton is created on first use and never destroyed. Arrays held by globals (a binding's
// module state, a cached executor) are freed during static destruction, in an order nobody controls;
// a Storage that outlived them all could not be guaranteed otherwise. It also keeps GPU pools from
// calling cudaFree after the CUDA runtime has begun to shut down. The operating system takes the memory
// back at exit.
Storage* Storage::Get() {
  static Storage* const storage = new Storage();
  return storage;
}

// Note [GPU blocks and streams]
// Storage does not know about streams: Free puts a GPU block back in the pool at once, and the next
// Allocate may hand it to other work. Callers must free a block only after all work queued on it has
// finished, which the engine guarantees by pushing the free as an operation that writes the block's
// variable (as MXNet does).

Storage::Storage()
    : host_pool_(std::make_unique<DevicePool>(Device::cpu())),
      pinned_pool_(std::make_unique<DevicePool>(Device::cpu_pinned())) {}

Storage::~Storage() = default;

DevicePool* Storage::PoolOf(Device device, bool create) const {
  switch (device.type) {
    case DeviceType::kCPU: return host_pool_.get();
    case DeviceType::kCPUPinned: return pinned_pool_.get();
    case DeviceType::kGPU: {
      PMX_CHECK(device.id >= 0, kValueError, "[Storage] gpu(%d): expected a GPU ordinal >= 0", device.id);
      MutexLock lock(&gpu_pools_mutex_);
      const size_t index = static_cast<size_t>(device.id);
      if (index >= gpu_pools_.size()) {
        if (!create) return nullptr;
        gpu_pools_.resize(index + 1);
      }
      if (gpu_pools_[index] == nullptr && create) gpu_pools_[index] = std::make_unique<DevicePool>(device);
      return gpu_pools_[index].get();
    }
  }
  Throw(ErrorKind::kValueError, "[Storage] unknown device type %d: expected cpu, gpu or cpu_pinned",
        static_cast<int>(device.type));
}

StorageBlock Storage::Allocate(size_t size, Device device) {
  if (device.type == DeviceType::kGPU) {
    gpu::CheckDevice(device.id);
  } else if (device.type == DeviceType::kCPUPinned) {
    PMX_CHECK(gpu::BuiltWithCuda(), kNotImplementedError,
              "[Storage] cannot allocate %d bytes on cpu_pinned: Polymix was built without CUDA (rebuild "
              "with --config=cuda to use page-locked memory)",
              size);
  }
  StorageBlock block;
  block.size = size;
  block.device = device;
  if (size == 0) return block;
  block.data = PoolOf(device, /*create=*/true)->Allocate(size);
  return block;
}

void Storage::Free(StorageBlock block) {
  if (block.data == nullptr) return;
  DevicePool* pool = PoolOf(block.device, /*create=*/false);
  PMX_CHECK(pool != nullptr, kValueError,
            "[Storage] cannot free %p on %s: expected a block that Storage allocated there, but nothing "
            "was ever allocated on that device",
            block.data, block.device.ToString());
  pool->Free(block.data, block.size);
}

void Storage::ReleasePool(Device device) {
  if (DevicePool* pool = PoolOf(device, /*create=*/false)) pool->Release();
}

StorageStats Storage::Stats(Device device) const {
  const DevicePool* pool = PoolOf(device, /*create=*/false);
  return pool != nullptr ? pool->Stats() : StorageStats{};
}

void Storage::ResetPeak(Device device) {
  if (DevicePool* pool = PoolOf(device, /*create=*/false)) pool->ResetPeak();
}

}  // namespace pmx
