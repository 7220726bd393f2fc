// A ResNet-style 3x3 convolution (N=32, C=K=64, 56x56, pad 1, stride 1, no bias) forward, backward-data and
// backward-weights through the registered ops (Convolution, _convolution_backward_data,
// _convolution_backward_weight; Invoke into a preallocated output, then wait), against oneDNN called directly
// on the same NCHW float32 buffers:
//   direct   - the same primitive the op runs (format `any`) with the same reorders from and to NCHW;
//   plain    - a primitive created on the plain NCHW/OIHW layouts (no reorders);
//   kernel   - the blocked primitive alone on operands already in its layouts (a lower bound no NCHW
//              caller can reach, shown for scale).
// Prints GFLOP/s and the ratios at the end.
// Run: bazel run --config=opt //core/ops:conv_benchmark
#include <cstdio>
#include <string>
#include <unordered_map>

#include <dnnl.hpp>

#include "core/backend/cpu/parallel.h"
#include "core/ops/benchmark_util.h"

namespace pmx {
namespace {

using dnnl::memory;

constexpr int64_t kN = 32, kC = 64, kK = 64, kH = 56, kW = 56, kR = 3;
const double kGflop = 2.0 * kN * kK * kC * kR * kR * kH * kW * 1e-9;  // Same for all three passes.

const char* kPassNames[] = {"forward", "backward_data", "backward_weights"};
const char* kOps[] = {"Convolution", "_convolution_backward_data", "_convolution_backward_weight"};

enum Variant { kDirect = 0, kPlain = 1, kKernel = 2 };

// One pass built with oneDNN's own API, operating on NCHW user buffers.
class DirectConv {
 public:
  DirectConv(int pass, bool plain) : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    const memory::desc src({kN, kC, kH, kW}, memory::data_type::f32, memory::format_tag::nchw);
    const memory::desc dst({kN, kK, kH, kW}, memory::data_type::f32, memory::format_tag::nchw);
    const memory::desc wei({kK, kC, kR, kR}, memory::data_type::f32, memory::format_tag::oihw);
    auto any = [&](const memory::desc& d) {
      return plain ? d : memory::desc(d.dims(), memory::data_type::f32, memory::format_tag::any);
    };
    const memory::dims strides = {1, 1}, dilates = {0, 0}, pad = {1, 1};
    const auto algorithm = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc forward(
        dnnl::convolution_forward::desc(pass == 0 ? dnnl::prop_kind::forward_inference
                                                  : dnnl::prop_kind::forward_training,
                                        algorithm, any(src), any(wei), any(dst), strides, dilates, pad, pad),
        engine_);
    // user_[i] / wanted_[i]: the pass's two inputs and its output, in NCHW and in the primitive's layouts.
    if (pass == 0) {
      primitive_ = dnnl::convolution_forward(forward);
      user_ = {src, wei, dst};
      wanted_ = {forward.src_desc(), forward.weights_desc(), forward.dst_desc()};
      args_ = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    } else if (pass == 1) {
      dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(algorithm, any(src), any(wei), any(dst), strides, dilates, pad, pad),
          engine_, forward);
      primitive_ = dnnl::convolution_backward_data(pd);
      user_ = {dst, wei, src};
      wanted_ = {pd.diff_dst_desc(), pd.weights_desc(), pd.diff_src_desc()};
      args_ = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    } else {
      dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(algorithm, any(src), any(wei), any(dst), strides, dilates, pad,
                                                   pad),
          engine_, forward);
      primitive_ = dnnl::convolution_backward_weights(pd);
      user_ = {dst, src, wei};
      wanted_ = {pd.diff_dst_desc(), pd.src_desc(), pd.diff_weights_desc()};
      args_ = {DNNL_ARG_DIFF_DST, DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS};
    }
    for (int i = 0; i < 3; ++i) {
      user_memory_.emplace_back(user_[i], engine_);
      wanted_memory_.push_back(user_[i] == wanted_[i] ? user_memory_[i] : memory(wanted_[i], engine_));
      float* data = static_cast<float*>(user_memory_[i].get_data_handle());
      for (size_t j = 0; j < user_[i].get_size() / sizeof(float); ++j) data[j] = 0.001f * static_cast<float>(j % 997);
      const bool same = user_[i] == wanted_[i];
      reorders_.push_back(same ? dnnl::reorder()
                               : i < 2 ? dnnl::reorder(user_memory_[i], wanted_memory_[i])
                                       : dnnl::reorder(wanted_memory_[i], user_memory_[i]));
    }
  }

  // Runs the pass; with `reorders`, converts the inputs from NCHW first and the output back afterwards.
  void Run(bool reorders) {
    if (reorders) {
      for (int i = 0; i < 2; ++i) {
        if (reorders_[i]) reorders_[i].execute(stream_, user_memory_[i], wanted_memory_[i]);
      }
    }
    primitive_.execute(stream_, {{args_[0], wanted_memory_[0]}, {args_[1], wanted_memory_[1]},
                                 {args_[2], wanted_memory_[2]}});
    if (reorders && reorders_[2]) reorders_[2].execute(stream_, wanted_memory_[2], user_memory_[2]);
    stream_.wait();
  }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::primitive primitive_;
  std::vector<memory::desc> user_, wanted_;
  std::vector<memory> user_memory_, wanted_memory_;
  std::vector<dnnl::reorder> reorders_;  // Per operand; empty where no conversion is needed.
  std::vector<int> args_;
};

void SetGflops(benchmark::State& state) {
  state.counters["GFLOP/s"] = benchmark::Counter(kGflop, benchmark::Counter::kIsIterationInvariantRate);
}

// Through the registered op: state.range(0) is the pass.
void BM_ConvOp(benchmark::State& state) {
  const int pass = static_cast<int>(state.range(0));
  const NDArray x = bench::RandomArray(Shape({kN, kC, kH, kW}), 1), w = bench::RandomArray(Shape({kK, kC, kR, kR}), 2);
  const NDArray g = bench::RandomArray(Shape({kN, kK, kH, kW}), 3);
  const OpDef& op = OpRegistry::Get()->Lookup(kOps[pass]);
  const OpParams params =
      op.ParseParams({{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", "64"}, {"no_bias", "True"}});
  std::vector<NDArray> inputs = pass == 0 ? std::vector<NDArray>{x, w}
                                : pass == 1 ? std::vector<NDArray>{g, w, x}
                                            : std::vector<NDArray>{g, x};
  const NDArray out = NDArray::Empty(pass == 0 ? g.shape() : pass == 1 ? x.shape() : w.shape());
  bench::InvokeInto(op, params, inputs, {out});
  for (auto _ : state) bench::InvokeInto(op, params, inputs, {out});
  SetGflops(state);
  state.SetLabel(kPassNames[pass]);
}
BENCHMARK(BM_ConvOp)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMillisecond);

// oneDNN directly: state.range(0) is the pass, state.range(1) the Variant.
void BM_ConvDnnl(benchmark::State& state) {
  const int pass = static_cast<int>(state.range(0));
  const Variant variant = static_cast<Variant>(state.range(1));
  DirectConv conv(pass, variant == kPlain);
  conv.Run(variant != kKernel);
  for (auto _ : state) conv.Run(variant == kDirect);
  SetGflops(state);
  state.SetLabel(std::string(kPassNames[pass]) + (variant == kDirect ? " direct" : variant == kPlain ? " plain" : " kernel"));
}
BENCHMARK(BM_ConvDnnl)->ArgsProduct({{0, 1, 2}, {0, 1, 2}})->UseRealTime()->Unit(benchmark::kMillisecond);

void PrintSummary(const bench::TimingReporter& reporter) {
  std::printf("\nSummary (same run; N=%lld C=K=%lld %lldx%lld 3x3 pad 1, %.2f GFLOP per pass, %d kernel threads; load "
              "average %.2f: ratios are meaningful only on an otherwise idle machine)\n",
              static_cast<long long>(kN), static_cast<long long>(kC), static_cast<long long>(kH),
              static_cast<long long>(kW), kGflop, cpu::KernelThreads(), bench::LoadAverage());
  std::printf("  %-17s %9s %9s %9s %9s %12s %12s\n", "pass (GFLOP/s)", "op", "direct", "plain", "kernel",
              "op/direct", "op/best-NCHW");
  for (int pass = 0; pass < 3; ++pass) {
    const std::string p = std::to_string(pass);
    const double op = kGflop / reporter.Seconds("BM_ConvOp/" + p + "/real_time");
    double direct[3];
    for (int v = 0; v < 3; ++v) {
      direct[v] = kGflop / reporter.Seconds("BM_ConvDnnl/" + p + "/" + std::to_string(v) + "/real_time");
    }
    const double best = std::max(direct[kDirect], direct[kPlain]);
    std::printf("  %-17s %9.1f %9.1f %9.1f %9.1f %12.3f %12.3f\n", kPassNames[pass], op, direct[kDirect],
                direct[kPlain], direct[kKernel], op / direct[kDirect], op / best);
  }
}

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  return pmx::bench::RunAndSummarize(argc, argv, pmx::PrintSummary);
}
