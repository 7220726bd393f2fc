// Max pooling, kernel 2 stride 2, on the two pooling layers of the Fashion-MNIST CNN
// (examples/python/train_fashion_mnist.py, batch 128): Pooling and _pooling_backward through the registered
// ops (Invoke into a preallocated output, then wait), against oneDNN's max-pool forward primitive called
// directly on the same NCHW float32 buffers (forward_inference, no workspace), and, for scale, oneDNN's
// max-pool backward, which needs the workspace its forward_training pass writes (the op keeps none, so it
// cannot take that route; see Note [Max pooling backward] in nn/pooling.cc).
// Prints milliseconds and the ratios at the end.
// Run: bazel run --config=opt //core/ops:pooling_benchmark
#include <cstdio>
#include <string>

#include <dnnl.hpp>

#include "core/backend/cpu/parallel.h"
#include "core/ops/benchmark_util.h"

namespace pmx {
namespace {

using dnnl::memory;

// (N, C, H, W) of the two pooling layers' inputs.
constexpr int64_t kShapes[2][4] = {{128, 32, 28, 28}, {128, 64, 14, 14}};

std::string ShapeText(int which) {
  const int64_t* s = kShapes[which];
  return "(" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ", " + std::to_string(s[2]) + ", " +
         std::to_string(s[3]) + ")";
}

// oneDNN's 2x2/2 max pooling on NCHW buffers: forward_inference, or forward_training plus backward.
class DirectMaxPool {
 public:
  explicit DirectMaxPool(int which) : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    const int64_t* s = kShapes[which];
    const memory::desc src({s[0], s[1], s[2], s[3]}, memory::data_type::f32, memory::format_tag::nchw);
    const memory::desc dst({s[0], s[1], s[2] / 2, s[3] / 2}, memory::data_type::f32, memory::format_tag::nchw);
    const memory::dims stride = {2, 2}, kernel = {2, 2}, pad = {0, 0};
    const auto algorithm = dnnl::algorithm::pooling_max;
    dnnl::pooling_forward::primitive_desc inference(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, algorithm, src, dst, stride, kernel, pad,
                                    pad),
        engine_);
    dnnl::pooling_forward::primitive_desc training(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algorithm, src, dst, stride, kernel, pad, pad),
        engine_);
    dnnl::pooling_backward::primitive_desc backward(
        dnnl::pooling_backward::desc(algorithm, src, dst, stride, kernel, pad, pad), engine_, training);
    forward_ = dnnl::pooling_forward(inference);
    training_ = dnnl::pooling_forward(training);
    backward_ = dnnl::pooling_backward(backward);
    src_ = memory(src, engine_);
    dst_ = memory(dst, engine_);
    diff_src_ = memory(src, engine_);
    diff_dst_ = memory(dst, engine_);
    workspace_ = memory(training.workspace_desc(), engine_);
    for (memory* m : {&src_, &diff_dst_}) {
      float* data = static_cast<float*>(m->get_data_handle());
      for (size_t j = 0; j < m->get_desc().get_size() / sizeof(float); ++j) data[j] = 0.001f * (j * 7919 % 997);
    }
    training_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}, {DNNL_ARG_WORKSPACE, workspace_}});
    stream_.wait();
  }

  // The forward_inference pass.
  void Forward() {
    forward_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}});
    stream_.wait();
  }

  // The backward pass from the workspace of the training forward run at construction.
  void Backward() {
    backward_.execute(stream_, {{DNNL_ARG_DIFF_DST, diff_dst_}, {DNNL_ARG_DIFF_SRC, diff_src_},
                                {DNNL_ARG_WORKSPACE, workspace_}});
    stream_.wait();
  }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::primitive forward_, training_, backward_;
  memory src_, dst_, diff_src_, diff_dst_, workspace_;
};

const OpParams& MaxPoolParams(const OpDef& op) {
  static const OpParams forward = OpRegistry::Get()->Lookup("Pooling").ParseParams(
      {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}});
  static const OpParams backward = OpRegistry::Get()->Lookup("_pooling_backward").ParseParams(
      {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}});
  return op.name == "Pooling" ? forward : backward;
}

// Through the registered ops: state.range(0) is the shape, state.range(1) 0 for Pooling, 1 for its backward.
void BM_MaxPoolOp(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const bool backward = state.range(1) == 1;
  const int64_t* s = kShapes[which];
  const Shape in_shape({s[0], s[1], s[2], s[3]}), out_shape({s[0], s[1], s[2] / 2, s[3] / 2});
  const NDArray x = bench::RandomArray(in_shape, 1), dy = bench::RandomArray(out_shape, 2);
  const OpDef& forward_op = OpRegistry::Get()->Lookup("Pooling");
  const NDArray y = NDArray::Empty(out_shape);
  bench::InvokeInto(forward_op, MaxPoolParams(forward_op), {x}, {y});
  const OpDef& op = backward ? OpRegistry::Get()->Lookup("_pooling_backward") : forward_op;
  const std::vector<NDArray> inputs = backward ? std::vector<NDArray>{dy, x, y} : std::vector<NDArray>{x};
  const NDArray out = backward ? NDArray::Empty(in_shape) : y;
  bench::InvokeInto(op, MaxPoolParams(op), inputs, {out});
  for (auto _ : state) bench::InvokeInto(op, MaxPoolParams(op), inputs, {out});
  state.SetLabel(ShapeText(which) + (backward ? " _pooling_backward" : " Pooling"));
}
BENCHMARK(BM_MaxPoolOp)->ArgsProduct({{0, 1}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);

// oneDNN directly: state.range(0) is the shape, state.range(1) 0 for the forward, 1 for the backward.
void BM_MaxPoolDnnl(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const bool backward = state.range(1) == 1;
  DirectMaxPool pool(which);
  if (backward) {
    pool.Backward();
    for (auto _ : state) pool.Backward();
  } else {
    pool.Forward();
    for (auto _ : state) pool.Forward();
  }
  state.SetLabel(ShapeText(which) + (backward ? " dnnl backward (workspace)" : " dnnl forward"));
}
BENCHMARK(BM_MaxPoolDnnl)->ArgsProduct({{0, 1}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);

void PrintSummary(const bench::TimingReporter& reporter) {
  std::printf("\nSummary (same run; max pooling 2x2 stride 2, float32 NCHW, %d kernel threads; load average %.2f: "
              "ratios are meaningful only on an otherwise idle machine)\n",
              cpu::KernelThreads(), bench::LoadAverage());
  std::printf("  %-18s %10s %10s %10s %10s %12s %12s\n", "input (ms)", "Pooling", "backward", "dnnl fwd",
              "dnnl bwd", "fwd/dnnl fwd", "bwd/dnnl fwd");
  for (int which = 0; which < 2; ++which) {
    const std::string w = std::to_string(which);
    auto ms = [&](const std::string& name, int pass) {
      return 1e3 * reporter.Seconds(name + "/" + w + "/" + std::to_string(pass) + "/real_time");
    };
    const double forward = ms("BM_MaxPoolOp", 0), backward = ms("BM_MaxPoolOp", 1);
    const double dnnl_forward = ms("BM_MaxPoolDnnl", 0), dnnl_backward = ms("BM_MaxPoolDnnl", 1);
    std::printf("  %-18s %10.3f %10.3f %10.3f %10.3f %12.2f %12.2f\n", ShapeText(which).c_str(), forward, backward,
                dnnl_forward, dnnl_backward, forward / dnnl_forward, backward / dnnl_forward);
  }
}

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  return pmx::bench::RunAndSummarize(argc, argv, pmx::PrintSummary);
}
