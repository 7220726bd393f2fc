#include "core/storage/storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/base/error.h"
#include "core/storage/internal/device_pool.h"

// The out-of-memory tests ask for absurd sizes; the sanitizers' allocators must answer with nullptr, as
// glibc does, instead of stopping the process.
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_options() { return "allocator_may_return_null=1"; }
#endif

namespace pmx {
namespace {

using storage_internal::BucketSize;

// Expects `statement` to throw pmx::Error of `kind`.
#define EXPECT_ERROR_KIND(statement, expected_kind)                                           \
  do {                                                                                        \
    try {                                                                                     \
      statement;                                                                              \
      ADD_FAILURE() << #statement << " did not throw";                                        \
    } catch (const Error& error) {                                                            \
      EXPECT_EQ(error.kind(), expected_kind) << ErrorKindName(error.kind()) << ": " << error.what(); \
    }                                                                                         \
  } while (0)

// Sets POLYMIX_STORAGE_POOL for the scope and restores the default after it.
class ScopedPoolSetting {
 public:
  explicit ScopedPoolSetting(const char* value) {
    setenv("POLYMIX_STORAGE_POOL", value, 1);
    ReloadEnvForTesting();
  }
  ~ScopedPoolSetting() {
    unsetenv("POLYMIX_STORAGE_POOL");
    ReloadEnvForTesting();
  }
};

// Every test starts with an empty host pool so that pool hits come only from the test's own frees.
class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_->ReleasePool(Device::cpu()); }
  Storage* storage_ = Storage::Get();
};

TEST(BucketSizeTest, PowersOfTwoUpToOneMebibyteThenMebibyteSteps) {
  EXPECT_EQ(BucketSize(1), 64u);
  EXPECT_EQ(BucketSize(64), 64u);
  EXPECT_EQ(BucketSize(65), 128u);
  EXPECT_EQ(BucketSize(1000), 1024u);
  EXPECT_EQ(BucketSize(4097), 8192u);
  EXPECT_EQ(BucketSize(1 << 20), 1u << 20);
  EXPECT_EQ(BucketSize((1 << 20) + 1), 2u << 20);
  EXPECT_EQ(BucketSize((5 << 20) - 3), 5u << 20);
  EXPECT_EQ(BucketSize(600u << 20), 600u << 20);
  EXPECT_ERROR_KIND(BucketSize(std::numeric_limits<size_t>::max()), ErrorKind::kOutOfMemory);
}

TEST_F(StorageTest, HostBlocksAre64ByteAligned) {
  for (size_t size : {size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{4097},
                      (size_t{1} << 20) + 1, size_t{3} << 20}) {
    StorageBlock block = storage_->Allocate(size, Device::cpu());
    ASSERT_NE(block.data, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block.data) % kStorageAlignment, 0u) << size;
    EXPECT_EQ(block.size, size);
    EXPECT_EQ(block.device, Device::cpu());
    std::memset(block.data, 0xab, size);  // The whole block is writable (AddressSanitizer checks).
    storage_->Free(block);
  }
}

TEST_F(StorageTest, FreedBlockIsHandedBackFromThePool) {
  const StorageStats before = storage_->Stats(Device::cpu());
  StorageBlock first = storage_->Allocate(1000, Device::cpu());
  storage_->Free(first);
  StorageBlock second = storage_->Allocate(1000, Device::cpu());
  EXPECT_EQ(second.data, first.data);
  storage_->Free(second);
  // 900 bytes fall in the same 1024-byte bucket.
  StorageBlock third = storage_->Allocate(900, Device::cpu());
  EXPECT_EQ(third.data, first.data);
  storage_->Free(third);
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.pool_hits - before.pool_hits, 2);
  EXPECT_EQ(after.system_allocations - before.system_allocations, 1);
}

TEST_F(StorageTest, StatisticsAddUp) {
  storage_->ResetPeak(Device::cpu());
  const StorageStats before = storage_->Stats(Device::cpu());
  EXPECT_EQ(before.bytes_pooled, 0);
  const std::vector<size_t> sizes = {10, 100, 5000, (size_t{1} << 20) + 7};
  std::vector<StorageBlock> blocks;
  int64_t requested = 0;
  int64_t buckets = 0;
  for (size_t size : sizes) {
    blocks.push_back(storage_->Allocate(size, Device::cpu()));
    requested += static_cast<int64_t>(size);
    buckets += static_cast<int64_t>(BucketSize(size));
  }
  StorageStats during = storage_->Stats(Device::cpu());
  EXPECT_EQ(during.bytes_in_use - before.bytes_in_use, requested);
  EXPECT_EQ(during.peak_bytes_in_use, during.bytes_in_use);
  EXPECT_EQ(during.bytes_reserved - before.bytes_reserved, buckets);
  EXPECT_EQ(during.allocations - before.allocations, 4);
  EXPECT_EQ(during.allocations, during.pool_hits + during.system_allocations);

  for (const StorageBlock& block : blocks) storage_->Free(block);
  StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.peak_bytes_in_use, during.peak_bytes_in_use);  // The peak stays until ResetPeak.
  EXPECT_EQ(after.bytes_pooled, buckets);
  EXPECT_EQ(after.bytes_reserved, before.bytes_reserved + buckets);
  EXPECT_EQ(after.frees - before.frees, 4);
  EXPECT_EQ(after.system_frees, before.system_frees);

  storage_->ResetPeak(Device::cpu());
  EXPECT_EQ(storage_->Stats(Device::cpu()).peak_bytes_in_use, after.bytes_in_use);
}

TEST_F(StorageTest, ReleasePoolReturnsFreeBlocksToTheSystem) {
  std::vector<StorageBlock> blocks;
  for (size_t size : {size_t{100}, size_t{2000}, size_t{30000}}) blocks.push_back(storage_->Allocate(size, Device::cpu()));
  for (const StorageBlock& block : blocks) storage_->Free(block);
  const StorageStats pooled = storage_->Stats(Device::cpu());
  EXPECT_EQ(pooled.bytes_pooled, 128 + 2048 + 32768);

  storage_->ReleasePool(Device::cpu());
  const StorageStats released = storage_->Stats(Device::cpu());
  EXPECT_EQ(released.bytes_pooled, 0);
  EXPECT_EQ(released.system_frees - pooled.system_frees, 3);
  EXPECT_EQ(pooled.bytes_reserved - released.bytes_reserved, 128 + 2048 + 32768);

  // The next allocation of a released size goes to the system again.
  StorageBlock again = storage_->Allocate(2000, Device::cpu());
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.pool_hits, released.pool_hits);
  EXPECT_EQ(after.system_allocations - released.system_allocations, 1);
  storage_->Free(again);
}

TEST_F(StorageTest, PoolingOffFreesAtOnce) {
  ScopedPoolSetting pooling_off("0");
  ASSERT_FALSE(Env().storage_pool);
  const StorageStats before = storage_->Stats(Device::cpu());
  for (int i = 0; i < 2; ++i) {
    StorageBlock block = storage_->Allocate(1000, Device::cpu());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block.data) % kStorageAlignment, 0u);
    storage_->Free(block);
  }
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.pool_hits, before.pool_hits);
  EXPECT_EQ(after.system_allocations - before.system_allocations, 2);
  EXPECT_EQ(after.system_frees - before.system_frees, 2);
  EXPECT_EQ(after.bytes_pooled, 0);
  EXPECT_EQ(after.bytes_reserved, before.bytes_reserved);
}

TEST_F(StorageTest, BlockAllocatedWithPoolingOffIsNotPooledLater) {
  StorageBlock block;
  {
    ScopedPoolSetting pooling_off("0");
    block = storage_->Allocate(1000, Device::cpu());  // 1024 bytes at 64-byte steps: also its bucket.
  }
  StorageBlock odd;
  {
    ScopedPoolSetting pooling_off("0");
    odd = storage_->Allocate(1100, Device::cpu());  // 1152 bytes: not a bucket size.
  }
  const StorageStats before = storage_->Stats(Device::cpu());
  storage_->Free(odd);
  storage_->Free(block);
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.system_frees - before.system_frees, 1);  // The odd-sized block went back.
  EXPECT_EQ(after.bytes_pooled, 1024);                     // The bucket-sized one is pooled.
}

TEST_F(StorageTest, ZeroSizeGivesNullAndCountsNothing) {
  const StorageStats before = storage_->Stats(Device::cpu());
  StorageBlock block = storage_->Allocate(0, Device::cpu());
  EXPECT_EQ(block.data, nullptr);
  EXPECT_EQ(block.size, 0u);
  EXPECT_EQ(block.device, Device::cpu());
  storage_->Free(block);
  storage_->Free(StorageBlock{});
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.frees, before.frees);
}

TEST_F(StorageTest, FreeingForeignOrFreedBlocksIsAValueError) {
  int on_stack = 0;
  StorageBlock foreign{&on_stack, sizeof(on_stack), Device::cpu()};
  EXPECT_ERROR_KIND(storage_->Free(foreign), ErrorKind::kValueError);

  StorageBlock block = storage_->Allocate(256, Device::cpu());
  StorageBlock wrong_size = block;
  wrong_size.size = 255;
  EXPECT_ERROR_KIND(storage_->Free(wrong_size), ErrorKind::kValueError);
  storage_->Free(block);
  EXPECT_ERROR_KIND(storage_->Free(block), ErrorKind::kValueError);  // Double free.
}

TEST_F(StorageTest, AbsurdSizeIsOutOfMemoryAndReleasesThePool) {
  storage_->Free(storage_->Allocate(4096, Device::cpu()));
  ASSERT_GT(storage_->Stats(Device::cpu()).bytes_pooled, 0);
  const StorageStats before = storage_->Stats(Device::cpu());
  EXPECT_ERROR_KIND(storage_->Allocate(size_t{1} << 60, Device::cpu()), ErrorKind::kOutOfMemory);
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.bytes_pooled, 0);  // Released before the retry.
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_ERROR_KIND(storage_->Allocate(std::numeric_limits<size_t>::max(), Device::cpu()),
                    ErrorKind::kOutOfMemory);
  // The allocator still works afterwards.
  storage_->Free(storage_->Allocate(4096, Device::cpu()));
}

TEST_F(StorageTest, ConcurrentAllocateAndFree) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 3000;
  const StorageStats before = storage_->Stats(Device::cpu());
  std::vector<std::thread> threads;
  std::vector<int> corrupted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &corrupted] {
      std::mt19937 random(1234 + t);
      std::uniform_int_distribution<size_t> size_of(1, 20000);
      std::vector<StorageBlock> held;
      for (int i = 0; i < kIterations; ++i) {
        StorageBlock block = storage_->Allocate(size_of(random), Device::cpu());
        std::memset(block.data, t + 1, block.size);
        held.push_back(block);
        if (held.size() > 8 || i + 1 == kIterations) {
          // Free in a scrambled order, checking that no other thread wrote into our blocks.
          std::shuffle(held.begin(), held.end(), random);
          for (const StorageBlock& mine : held) {
            const auto* bytes = static_cast<const unsigned char*>(mine.data);
            if (bytes[0] != t + 1 || bytes[mine.size - 1] != t + 1) ++corrupted[t];
            storage_->Free(mine);
          }
          held.clear();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(corrupted[t], 0) << "thread " << t;
  const StorageStats after = storage_->Stats(Device::cpu());
  EXPECT_EQ(after.allocations - before.allocations, kThreads * kIterations);
  EXPECT_EQ(after.frees - before.frees, kThreads * kIterations);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.allocations, after.pool_hits + after.system_allocations);
  EXPECT_GT(after.pool_hits - before.pool_hits, 0);
}

TEST_F(StorageTest, GpuAndPinnedWithoutCudaAreNotImplemented) {
  if (gpu::BuiltWithCuda()) GTEST_SKIP() << "this build has CUDA";
  EXPECT_ERROR_KIND(storage_->Allocate(16, Device::gpu(0)), ErrorKind::kNotImplementedError);
  EXPECT_ERROR_KIND(storage_->Allocate(16, Device::cpu_pinned()), ErrorKind::kNotImplementedError);
  EXPECT_ERROR_KIND(storage_->Allocate(0, Device::gpu(0)), ErrorKind::kNotImplementedError);
  // Nothing was allocated there, so the counters stay zero and release is a no-op.
  EXPECT_EQ(storage_->Stats(Device::gpu(0)).allocations, 0);
  storage_->ReleasePool(Device::gpu(0));
}

TEST_F(StorageTest, MissingGpuIsAValueError) {
  if (!gpu::BuiltWithCuda()) GTEST_SKIP() << "this build has no CUDA";
  EXPECT_ERROR_KIND(storage_->Allocate(16, Device::gpu(gpu::DeviceCount())), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(storage_->Allocate(16, Device::gpu(-1)), ErrorKind::kValueError);
}

TEST_F(StorageTest, GpuBlocksArePooledPerDevice) {
  if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU";
  const Device gpu0 = Device::gpu(0);
  storage_->ReleasePool(gpu0);
  const StorageStats before = storage_->Stats(gpu0);
  StorageBlock first = storage_->Allocate(3 << 20, gpu0);
  ASSERT_NE(first.data, nullptr);
  EXPECT_EQ(first.device, gpu0);
  storage_->Free(first);
  StorageBlock second = storage_->Allocate((3 << 20) - 100, gpu0);
  EXPECT_EQ(second.data, first.data);
  storage_->Free(second);
  StorageStats after = storage_->Stats(gpu0);
  EXPECT_EQ(after.pool_hits - before.pool_hits, 1);
  EXPECT_EQ(after.system_allocations - before.system_allocations, 1);
  EXPECT_EQ(after.bytes_pooled, 3 << 20);
  storage_->ReleasePool(gpu0);
  EXPECT_EQ(storage_->Stats(gpu0).bytes_pooled, 0);
  // The host pool is a different pool.
  EXPECT_EQ(storage_->Stats(Device::cpu()).bytes_pooled, 0);
}

TEST_F(StorageTest, GpuOutOfMemoryAfterReleasingThePool) {
  if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU";
  const Device gpu0 = Device::gpu(0);
  storage_->Free(storage_->Allocate(1 << 20, gpu0));
  ASSERT_GT(storage_->Stats(gpu0).bytes_pooled, 0);
  EXPECT_ERROR_KIND(storage_->Allocate(size_t{1} << 50, gpu0), ErrorKind::kOutOfMemory);  // 1 PiB.
  EXPECT_EQ(storage_->Stats(gpu0).bytes_pooled, 0);
  storage_->Free(storage_->Allocate(1 << 20, gpu0));  // Still usable.
  storage_->ReleasePool(gpu0);
}

TEST_F(StorageTest, PinnedBlocksAreAlignedAndPooled) {
  if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU";
  const Device pinned = Device::cpu_pinned();
  storage_->ReleasePool(pinned);
  const StorageStats before = storage_->Stats(pinned);
  StorageBlock first = storage_->Allocate(5000, pinned);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first.data) % kStorageAlignment, 0u);
  std::memset(first.data, 1, first.size);
  storage_->Free(first);
  StorageBlock second = storage_->Allocate(5000, pinned);
  EXPECT_EQ(second.data, first.data);
  storage_->Free(second);
  EXPECT_EQ(storage_->Stats(pinned).pool_hits - before.pool_hits, 1);
  storage_->ReleasePool(pinned);
}

}  // namespace
}  // namespace pmx
