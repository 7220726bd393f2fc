// Device: where an array lives (cpu, gpu(i), cpu_pinned), and the thread-local default device.
#ifndef POLYMIX_CORE_BASE_DEVICE_H_
#define POLYMIX_CORE_BASE_DEVICE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace pmx {

// The kind of a device. Values are MXNet's Context::DeviceType (saved in .params files and
// part of the C ABI): never renumber.
enum class DeviceType : int32_t {
  kCPU = 1,        // Host memory.
  kGPU = 2,        // CUDA device memory.
  kCPUPinned = 3,  // Page-locked host memory, for fast asynchronous copies to and from GPUs.
};

// A device: a type plus an ordinal (the GPU number; 0 for host devices).
struct Device {
  DeviceType type = DeviceType::kCPU;  // The kind of memory.
  int32_t id = 0;                      // GPU ordinal; 0 for cpu and cpu_pinned.

  // The host.
  static Device cpu(int32_t id = 0) { return {DeviceType::kCPU, id}; }
  // GPU number `id`.
  static Device gpu(int32_t id = 0) { return {DeviceType::kGPU, id}; }
  // Page-locked host memory.
  static Device cpu_pinned(int32_t id = 0) { return {DeviceType::kCPUPinned, id}; }
  // Checks type and id; throws ValueError for an unknown type or a negative id.
  static Device FromTypeAndId(int32_t type, int32_t id);
  // Parses MXNet's spelling of a context: "cpu(0)", "gpu(1)", "cpu_pinned(0)" (a bare "cpu"/"gpu" is id 0);
  // ValueError for anything else.
  static Device Parse(std::string_view text);

  // Whether data here is reachable by the host CPU (cpu or cpu_pinned).
  bool is_host() const { return type != DeviceType::kGPU; }
  // "cpu(0)", "gpu(1)", "cpu_pinned(0)", as MXNet prints a Context.
  std::string ToString() const;

  // Whether two devices are the same.
  friend bool operator==(Device a, Device b) { return a.type == b.type && a.id == b.id; }
  // Whether two devices differ.
  friend bool operator!=(Device a, Device b) { return !(a == b); }
};

// The calling thread's default device (cpu(0) unless set).
Device DefaultDevice();

// Sets the calling thread's default device.
void SetDefaultDevice(Device device);

// Sets the default device for its lifetime and restores the previous one (MXNet's `with mx.gpu(0):`).
class DeviceScope {
 public:
  // Makes `device` the default until this scope ends.
  explicit DeviceScope(Device device) : previous_(DefaultDevice()) { SetDefaultDevice(device); }
  ~DeviceScope() { SetDefaultDevice(previous_); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  Device previous_;
};

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_DEVICE_H_
