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

TEST(DeviceTest, ParsesMxnetContextStrings) {
  EXPECT_EQ(Device::Parse("cpu(0)"), Device::cpu());
  EXPECT_EQ(Device::Parse("gpu(2)"), Device::gpu(2));
  EXPECT_EQ(Device::Parse(" cpu_pinned(1) "), Device::cpu_pinned(1));
  EXPECT_EQ(Device::Parse("gpu"), Device::gpu(0));
  for (const char* bad : {"tpu(0)", "gpu(-1)", "gpu(x)", "gpu(1", ""}) {
    EXPECT_THROW(Device::Parse(bad), Error) << bad;
  }
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
