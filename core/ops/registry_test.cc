// OpRegistry::AddKernel: kernels that backends add from their own files, before or after the op's
// registration (Note [Kernels added by backends] in registry.cc).
#include <gtest/gtest.h>

#include <string>

#include "core/base/error.h"
#include "core/ops/op.h"

namespace pmx {
namespace {

// A minimal op called `name` with a CPU kernel that records its calls in `*calls`.
OpDef TestOp(const std::string& name, std::vector<std::string> aliases, int* calls) {
  OpDef def;
  def.name = name;
  def.aliases = std::move(aliases);
  def.inputs = {"data"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>*, std::vector<MaybeShape>*) { return true; };
  def.kernels[DeviceType::kCPU] = [calls](const KernelContext&, absl::Span<const TensorRef>,
                                          absl::Span<const TensorRef>) { ++*calls; };
  return def;
}

Kernel Counting(int* calls) {
  return [calls](const KernelContext&, absl::Span<const TensorRef>, absl::Span<const TensorRef>) { ++*calls; };
}

void RunKernel(const OpDef& def, DeviceType device) { def.kernels.at(device)(KernelContext(), {}, {}); }

TEST(AddKernel, AttachesAtOnceWhenTheOpIsRegistered) {
  int cpu_calls = 0, gpu_calls = 0;
  OpRegistry* registry = OpRegistry::Get();
  registry->Register(TestOp("_test_add_kernel_after", {"_test_add_kernel_after_alias"}, &cpu_calls));
  registry->AddKernel("_test_add_kernel_after_alias", DeviceType::kGPU, Counting(&gpu_calls));
  const OpDef& def = registry->Lookup("_test_add_kernel_after");
  ASSERT_EQ(def.kernels.count(DeviceType::kGPU), 1u);
  RunKernel(def, DeviceType::kGPU);
  RunKernel(def, DeviceType::kCPU);
  EXPECT_EQ(gpu_calls, 1);
  EXPECT_EQ(cpu_calls, 1);
}

TEST(AddKernel, WaitsForAnOpRegisteredLater) {
  int cpu_calls = 0, gpu_calls = 0;
  OpRegistry* registry = OpRegistry::Get();
  // As when a backend's static initialiser runs before the op family's.
  registry->AddKernel("_test_add_kernel_before_alias", DeviceType::kGPU, Counting(&gpu_calls));
  EXPECT_EQ(registry->Find("_test_add_kernel_before"), nullptr);
  registry->Register(TestOp("_test_add_kernel_before", {"_test_add_kernel_before_alias"}, &cpu_calls));
  const OpDef& def = registry->Lookup("_test_add_kernel_before");
  ASSERT_EQ(def.kernels.count(DeviceType::kGPU), 1u);
  RunKernel(def, DeviceType::kGPU);
  EXPECT_EQ(gpu_calls, 1);
  EXPECT_EQ(cpu_calls, 0);
}

TEST(AddKernel, RefusesASecondKernelForADevice) {
  int calls = 0;
  OpRegistry* registry = OpRegistry::Get();
  registry->Register(TestOp("_test_add_kernel_twice", {}, &calls));
  registry->AddKernel("_test_add_kernel_twice", DeviceType::kGPU, Counting(&calls));
  try {
    registry->AddKernel("_test_add_kernel_twice", DeviceType::kGPU, Counting(&calls));
    ADD_FAILURE() << "a second GPU kernel was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kRuntimeError);
    EXPECT_NE(std::string(error.what()).find("[_test_add_kernel_twice] already has a GPU kernel"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(registry->AddKernel("_test_add_kernel_twice", DeviceType::kCPU, Counting(&calls)), Error);
  EXPECT_THROW(registry->AddKernel("_test_add_kernel_twice", DeviceType::kGPU, Kernel()), Error);
}

TEST(AddKernel, APendingDuplicateFailsWhenTheOpArrives) {
  int calls = 0;
  OpRegistry* registry = OpRegistry::Get();
  registry->AddKernel("_test_add_kernel_pending_twice", DeviceType::kGPU, Counting(&calls));
  registry->AddKernel("_test_add_kernel_pending_twice", DeviceType::kGPU, Counting(&calls));
  EXPECT_THROW(registry->Register(TestOp("_test_add_kernel_pending_twice", {}, &calls)), Error);
}

}  // namespace
}  // namespace pmx
