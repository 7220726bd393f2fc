#include "core/base/device.h"

#include <string>

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

Device Device::Parse(std::string_view text) {
  // Debian's Abseil has its own string_view, so this parses by hand.
  size_t first = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t");
  const std::string trimmed(first == std::string_view::npos ? std::string_view() : text.substr(first, last - first + 1));
  const size_t open = trimmed.find('(');
  const std::string kind = trimmed.substr(0, open);
  int64_t id = 0;
  if (open != std::string::npos) {
    const std::string digits = trimmed.substr(open + 1, trimmed.size() - open - 2);
    const bool valid = trimmed.back() == ')' && !digits.empty() && digits.size() < 10 &&
                       digits.find_first_not_of("0123456789") == std::string::npos;
    PMX_CHECK(valid, kValueError, "device '%s' is not valid: expected cpu(N), gpu(N) or cpu_pinned(N)", text);
    id = std::stoll(digits);
  }
  const int32_t index = static_cast<int32_t>(id);
  if (kind == "cpu") return cpu(index);
  if (kind == "gpu") return gpu(index);
  if (kind == "cpu_pinned") return cpu_pinned(index);
  Throw(ErrorKind::kValueError, "device '%s' is not valid: expected cpu(N), gpu(N) or cpu_pinned(N)", text);
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
