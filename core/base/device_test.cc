#include "core/base/device.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/base/error.h"

namespace pmx {
namespace {

TEST(DeviceTest, NamesAndEquality) {
  EXPECT_EQ(Device::cpu().ToString(), "cpu(0)");
  EXPECT_EQ(Device::gpu(1).ToString(), "gpu(1)");
  EXPECT_EQ(Device::cpu_pinned().ToString(), "cpu_pinned(0)");
  EXPECT_NE(Device::gpu(0), Device::gpu(1));
  EXPECT_TRUE(Device::cpu_pinned().is_host());
  EXPECT_FALSE(Device::gpu().is_host());
  EXPECT_THROW(Device::FromTypeAndId(7, 0), Error);
  EXPECT_THROW(Device::FromTypeAndId(2, -1), Error);
}

TEST(DeviceTest, DefaultIsThreadLocalAndScoped) {
  EXPECT_EQ(DefaultDevice(), Device::cpu());
  {
    DeviceScope scope(Device::gpu(3));
    EXPECT_EQ(DefaultDevice(), Device::gpu(3));
    Device seen_by_other_thread;
    std::thread([&] { seen_by_other_thread = DefaultDevice(); }).join();
    EXPECT_EQ(seen_by_other_thread, Device::cpu());
  }
  EXPECT_EQ(DefaultDevice(), Device::cpu());
}

}  // namespace
}  // namespace pmx
