// Executor and CachedOp on a GPU against the same graphs on the CPU: an MLP and a small CNN forward (cuBLAS /
// cuDNN kernels, planned GPU buffers, engine GPU workers), an elementwise graph forward and backward (not fused
// on a GPU), and CachedOp calls recorded by autograd. Skipped without a GPU. (Gradients of FullyConnected and
// dot compose Reshape/Flatten, which have no GPU kernels yet, so they are checked on the CPU only.)
#include <map>
#include <string>
#include <vector>

#include "core/autograd/autograd.h"
#include "core/backend/gpu_runtime.h"
#include "core/graph/cached_op.h"
#include "core/graph/executor.h"
#include "core/graph/internal/exec_test_util.h"
#include "gtest/gtest.h"

namespace pmx {
namespace graph {
namespace {

using testing::Call;
using testing::ExpectClose;
using testing::RandomArray;
using testing::Var;

Device Gpu() {
  Device device;
  device.type = DeviceType::kGPU;
  device.id = 0;
  return device;
}

Symbol Mlp() {
  const Symbol fc1 = Call("FullyConnected", {Var("data")}, {{"num_hidden", "32"}}, "fc1");
  const Symbol fc2 = Call("FullyConnected", {Call("tanh", {fc1})}, {{"num_hidden", "32"}}, "fc2");
  const Symbol skip = Call("elemwise_add", {Call("relu", {fc2}), Call("_mul_scalar", {fc2}, {{"scalar", "0.5"}})});
  return Call("FullyConnected", {skip}, {{"num_hidden", "5"}}, "fc3");
}

Symbol Cnn() {
  const Symbol conv = Call("Convolution", {Var("data")}, {{"kernel", "(3, 3)"}, {"num_filter", "8"}, {"pad", "(1, 1)"}},
                           "conv");
  return Call("FullyConnected", {Call("relu", {conv})}, {{"num_hidden", "4"}}, "fc");
}

// x, y (same shape) -> an elementwise graph with shared values (gradients summed) and several outputs' worth of
// consumers.
Symbol Elementwise() {
  const Symbol x = Var("x"), y = Var("y");
  const Symbol a = Call("tanh", {Call("elemwise_mul", {x, y})});
  const Symbol b = Call("elemwise_add", {Call("sin", {a}), Call("_mul_scalar", {x}, {{"scalar", "3"}})});
  return Call("elemwise_sub", {Call("relu", {b}), Call("square", {a})});
}

// Runs forward (training) and, with `head`, backward of `net` on `device`; returns outputs then gradients, on the
// host.
std::vector<NDArray> RunExecutor(const Symbol& net, Device device, const std::map<std::string, NDArray>& values,
                                 const NDArray& head) {
  std::vector<NDArray> args, grads;
  for (const std::string& name : net.ListArguments()) {
    args.push_back(values.at(name).CopyTo(device));
    if (!head.is_none()) grads.push_back(NDArray::Zeros(values.at(name).shape(), DType::kFloat32, device));
  }
  auto executor = Executor::Bind(net, device, args, grads, {}, {});
  executor->Forward(true);
  if (!head.is_none()) executor->Backward({head.CopyTo(device)});
  std::vector<NDArray> results;
  for (const NDArray& output : executor->outputs()) results.push_back(output.CopyTo(Device()));
  for (const NDArray& grad : executor->grad_arrays()) {
    if (!grad.is_none()) results.push_back(grad.CopyTo(Device()));
  }
  return results;
}

std::map<std::string, NDArray> RandomValues(const Symbol& net, const std::string& input, const Shape& data) {
  const auto inferred = net.InferShape({{input, data}});
  std::map<std::string, NDArray> values;
  uint32_t seed = 100;
  const auto names = net.ListArguments();
  for (size_t i = 0; i < names.size(); ++i) values[names[i]] = RandomArray(*inferred.arguments[i], ++seed);
  return values;
}

class GraphGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU (built with CUDA: " << gpu::BuiltWithCuda() << ")";
  }
};

TEST_F(GraphGpuTest, ExecutorMatchesCpu) {
  const std::vector<std::pair<Symbol, Shape>> cases = {
      {Mlp(), Shape({16, 20})}, {Cnn(), Shape({4, 3, 8, 8})}, {Elementwise(), Shape({3, 500})}};
  for (const auto& [net, data] : cases) {
    const bool elementwise = net.ListArguments()[0] == "x";
    const std::string input = elementwise ? "x" : "data";
    const auto values = RandomValues(net, input, data);
    const NDArray head = elementwise ? RandomArray(data, 7) : NDArray();  // Gradients: elementwise graph only.
    const std::vector<NDArray> cpu = RunExecutor(net, Device(), values, head);
    const std::vector<NDArray> gpu = RunExecutor(net, Gpu(), values, head);
    ASSERT_EQ(cpu.size(), gpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) ExpectClose(gpu[i], cpu[i], 1e-4, 1e-5, "result " + std::to_string(i));
  }
}

TEST_F(GraphGpuTest, CachedOpMatchesCpuWithAndWithoutAutograd) {
  for (const Symbol& net : {Mlp(), Elementwise()}) {
    const bool elementwise = net.ListArguments()[0] == "x";
    const auto inferred = net.InferShape({{elementwise ? "x" : "data", elementwise ? Shape({1000}) : Shape({8, 20})}});
    std::vector<NDArray> cpu_inputs, gpu_inputs;
    for (size_t i = 0; i < inferred.arguments.size(); ++i) {
      cpu_inputs.push_back(RandomArray(*inferred.arguments[i], 200 + i));
      gpu_inputs.push_back(cpu_inputs.back().CopyTo(Gpu()));
    }
    CachedOpOptions options;
    options.static_alloc = true;
    CachedOp cpu_op(net, options), gpu_op(net, options);
    ExpectClose(gpu_op(gpu_inputs)[0].CopyTo(Device()), cpu_op(cpu_inputs)[0], 1e-4, 1e-5, "predict");
    if (!elementwise) continue;  // FullyConnected's gradient needs Reshape on the GPU.

    // Recorded: gradients of every input through one CachedOp node each.
    std::vector<NDArray*> cpu_vars, gpu_vars;
    for (size_t i = 0; i < cpu_inputs.size(); ++i) {
      cpu_vars.push_back(&cpu_inputs[i]);
      gpu_vars.push_back(&gpu_inputs[i]);
    }
    autograd::MarkVariables(cpu_vars, std::vector<NDArray>(cpu_vars.size()));
    autograd::MarkVariables(gpu_vars, std::vector<NDArray>(gpu_vars.size()));
    NDArray cpu_out, gpu_out;
    {
      autograd::RecordScope scope;
      cpu_out = cpu_op(cpu_inputs)[0];
      gpu_out = gpu_op(gpu_inputs)[0];
    }
    autograd::Backward({cpu_out});
    autograd::Backward({gpu_out});
    for (size_t i = 0; i < cpu_inputs.size(); ++i) {
      ExpectClose(autograd::GradOf(gpu_inputs[i]).CopyTo(Device()), autograd::GradOf(cpu_inputs[i]), 1e-4, 1e-5,
                  "gradient " + std::to_string(i));
    }
  }
}

}  // namespace
}  // namespace graph
}  // namespace pmx
