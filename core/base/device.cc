#include "core/base/device.h"

#include "core/base/error.h"

namespace pmx {
namespace {
thread_local Device default_device = Device::cpu();
}  // namespace

Device Device::FromTypeAndId(int32_t type, int32_t id) {
  PMX_CHECK(type >= 1 && type <= 3, kValueError,
            "unknown device type %d: expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)", type);
  PMX_CHECK(id >= 0, kValueError, "device id %d is negative: expected an id >= 0", id);
  return {static_cast<DeviceType>(type), id};
}

std::string Device::ToString() const {
  switch (type) {
    case DeviceType::kCPU: return absl::StrFormat("cpu(%d)", id);
    case DeviceType::kGPU: return absl::StrFormat("gpu(%d)", id);
    case DeviceType::kCPUPinned: return absl::StrFormat("cpu_pinned(%d)", id);
  }
  return absl::StrFormat("device(%d, %d)", static_cast<int>(type), id);
}

Device DefaultDevice() { return default_device; }

void SetDefaultDevice(Device device) { default_device = device; }

}  // namespace pmx
