// Graph execution figures, measured in this binary:
// - memory planning: planned internal bytes / unplanned bytes (one buffer per internal entry) of MLPs with 2 and 8
//   hidden layers and of a ResNet-18-style CNN, for forward+backward (simple_bind with gradients) and for inference;
// - a hybridized chain of 100 tiny elementwise ops (CachedOp, static_alloc) against the same ops run imperatively
//   (pmx::Invoke per op, parameters parsed once), and the hybridized time per node.
// Run: bazel run --config=opt //core/graph:graph_benchmark
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/graph/cached_op.h"
#include "core/graph/executor.h"
#include "core/ops/invoke.h"

namespace pmx {
namespace graph {
namespace {

constexpr int kChainLength = 100;
constexpr int64_t kChainElements = 16;

Symbol Var(const std::string& name) { return Symbol::Variable(name); }

Symbol Call(const std::string& op, const std::vector<Symbol>& inputs, const ParamMap& params = {},
            const std::string& name = "") {
  return Symbol::Create(op, inputs, {}, params, name);
}

// ---- Networks ---------------------------------------------------------------------------------------------

// data (64, 784) -> `layers` x (512, relu) -> 10 -> SoftmaxOutput.
Symbol Mlp(int layers) {
  Symbol h = Var("data");
  for (int i = 1; i <= layers; ++i) {
    h = Call("FullyConnected", {h}, {{"num_hidden", "512"}}, "fc" + std::to_string(i));
    h = Call("Activation", {h}, {{"act_type", "relu"}}, "relu" + std::to_string(i));
  }
  h = Call("FullyConnected", {h}, {{"num_hidden", "10"}}, "fc_out");
  return Call("SoftmaxOutput", {h, Var("label")}, {}, "softmax");
}

Symbol ConvBn(const Symbol& x, const std::string& name, int filters, int kernel, int stride) {
  const std::string k = std::to_string(kernel), s = std::to_string(stride), p = std::to_string(kernel / 2);
  const Symbol conv = Call("Convolution", {x},
                           {{"kernel", "(" + k + "," + k + ")"}, {"stride", "(" + s + "," + s + ")"},
                            {"pad", "(" + p + "," + p + ")"}, {"num_filter", std::to_string(filters)},
                            {"no_bias", "True"}},
                           name + "_conv");
  return Call("BatchNorm", {conv}, {{"fix_gamma", "False"}}, name + "_bn");
}

Symbol Relu(const Symbol& x, const std::string& name) { return Call("Activation", {x}, {{"act_type", "relu"}}, name); }

// A ResNet-18 basic block: conv-bn-relu-conv-bn plus the (projected) shortcut, then relu.
Symbol BasicBlock(const Symbol& x, const std::string& name, int filters, int stride, bool project) {
  const Symbol a = Relu(ConvBn(x, name + "_a", filters, 3, stride), name + "_relu_a");
  const Symbol y = ConvBn(a, name + "_b", filters, 3, 1);
  const Symbol shortcut = project ? ConvBn(x, name + "_proj", filters, 1, stride) : x;
  return Relu(Call("elemwise_add", {y, shortcut}, {}, name + "_add"), name + "_relu");
}

// ResNet-18 for 32x32 images (CIFAR-style stem): 4 stages of 2 basic blocks, 64-512 channels.
Symbol ResNet18() {
  Symbol h = Relu(ConvBn(Var("data"), "stem", 64, 3, 1), "stem_relu");
  const int filters[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      const int stride = stage > 0 && block == 0 ? 2 : 1;
      h = BasicBlock(h, "stage" + std::to_string(stage + 1) + "_unit" + std::to_string(block + 1), filters[stage],
                     stride, stage > 0 && block == 0);
    }
  }
  h = Call("Pooling", {h}, {{"global_pool", "True"}, {"pool_type", "avg"}, {"kernel", "(1,1)"}}, "pool");
  h = Call("FullyConnected", {h}, {{"num_hidden", "10"}}, "fc");
  return Call("SoftmaxOutput", {h, Var("label")}, {}, "softmax");
}

// An executor for `net` with gradients for every parameter (training) or none (inference).
std::unique_ptr<Executor> Bind(const Symbol& net, const Shape& data, bool training) {
  return Executor::SimpleBind(net, DefaultDevice(), {{"data", data}, {"label", Shape({data[0]})}}, {},
                              {{"data", GradReq::kNull}, {"label", GradReq::kNull}},
                              training ? GradReq::kWrite : GradReq::kNull);
}

// ---- The chain of 100 tiny elementwise ops ----------------------------------------------------------------

struct ChainOp {
  const OpDef* op;
  OpParams params;
  ParamMap given;
};

// `length` ops cycling through sin, *0.9, +0.1, tanh, cos; with `cheap`, through *0.9, +0.1, relu, negative, abs
// (memory-bound on large arrays, where fusion shows).
std::vector<ChainOp> ChainOps(int length = kChainLength, bool cheap = false) {
  const char* costly[] = {"sin", "_mul_scalar", "_plus_scalar", "tanh", "cos"};
  const char* light[] = {"_mul_scalar", "_plus_scalar", "relu", "negative", "abs"};
  const char** names = cheap ? light : costly;
  std::vector<ChainOp> ops;
  for (int i = 0; i < length; ++i) {
    const OpDef& op = OpRegistry::Get()->Lookup(names[i % 5]);
    ParamMap given;
    if (op.name == "_mul_scalar") given["scalar"] = "0.9";
    if (op.name == "_plus_scalar") given["scalar"] = "0.1";
    ops.push_back({&op, op.ParseParams(given), given});
  }
  return ops;
}

Symbol ChainSymbol(int length = kChainLength, bool cheap = false) {
  Symbol h = Var("x");
  for (const ChainOp& op : ChainOps(length, cheap)) h = Call(op.op->name, {h}, op.given);
  return h;
}

// A counter showing microseconds per node of the chain.
benchmark::Counter PerNode() {
  return benchmark::Counter(kChainLength * 1e-6,
                            benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The chain run imperatively: one Invoke per op (allocation, inference, engine push), then a wait.
void RunImperative(const std::vector<ChainOp>& ops, const NDArray& x) {
  NDArray h = x;
  for (const ChainOp& op : ops) h = Invoke(*op.op, {h}, op.params)[0];
  h.WaitToRead();
}

void RunHybridized(CachedOp& op, const NDArray& x) { op({x})[0].WaitToRead(); }

void BM_ChainImperative(benchmark::State& state) {
  const std::vector<ChainOp> ops = ChainOps();
  const NDArray x = NDArray::Full(Shape({kChainElements}), 0.5);
  for (auto _ : state) RunImperative(ops, x);
  state.counters["us/node"] = PerNode();
}
BENCHMARK(BM_ChainImperative)->UseRealTime()->Unit(benchmark::kMicrosecond);

void ChainHybridized(benchmark::State& state, bool fuse) {
  CachedOpOptions options;
  options.static_alloc = options.static_shape = true;
  options.fuse = fuse;
  CachedOp op(ChainSymbol(), options);
  const NDArray x = NDArray::Full(Shape({kChainElements}), 0.5);
  RunHybridized(op, x);  // Compile.
  for (auto _ : state) RunHybridized(op, x);
  state.counters["us/node"] = PerNode();
}

void BM_ChainHybridized(benchmark::State& state) { ChainHybridized(state, true); }
BENCHMARK(BM_ChainHybridized)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_ChainHybridizedUnfused(benchmark::State& state) { ChainHybridized(state, false); }
BENCHMARK(BM_ChainHybridizedUnfused)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---- Summary: ratios measured in this run -----------------------------------------------------------------

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Seconds per call of `fn`, timed over `calls` calls.
double Time(const std::function<void()>& fn, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
}

void PrintMemory(const char* name, const Symbol& net, const Shape& data) {
  for (bool training : {true, false}) {
    auto executor = Bind(net, data, training);
    const double planned = static_cast<double>(executor->planned_bytes());
    const double unplanned = static_cast<double>(executor->unplanned_bytes());
    std::printf("  %-10s %-17s planned %8.2f MiB / unplanned %8.2f MiB = %.3f  (target <= %.2f)\n", name,
                training ? "forward+backward" : "inference", planned / (1 << 20), unplanned / (1 << 20),
                planned / unplanned, training ? 0.5 : 0.25);
  }
}

void PrintSummary(int rounds) {
  double load[1] = {0};
  getloadavg(load, 1);
  std::printf("\nSummary (same run; load average %.2f)\n", load[0]);
  std::printf("Memory planning (internal entries; arguments, gradients, auxiliary states and outputs excluded):\n");
  PrintMemory("MLP-2", Mlp(2), Shape({64, 784}));
  PrintMemory("MLP-8", Mlp(8), Shape({64, 784}));
  PrintMemory("ResNet-18", ResNet18(), Shape({32, 3, 32, 32}));
  std::printf("  (An MLP's inference floor is two buffers for its L hidden activations, a ratio of 1/L: no plan can "
              "bring MLP-2 below 0.5.)\n");

  // Paired rounds: each round times both ways back to back, so a load change hits both.
  const std::vector<ChainOp> ops = ChainOps();
  const NDArray x = NDArray::Full(Shape({kChainElements}), 0.5);
  CachedOpOptions options;
  options.static_alloc = options.static_shape = true;
  CachedOp fused(ChainSymbol(), options);
  options.fuse = false;
  CachedOp unfused(ChainSymbol(), options);
  RunHybridized(fused, x);
  RunHybridized(unfused, x);
  std::vector<double> imperative, hybrid, hybrid_unfused;
  for (int r = 0; r < rounds; ++r) {
    imperative.push_back(Time([&] { RunImperative(ops, x); }, 200));
    hybrid.push_back(Time([&] { RunHybridized(fused, x); }, 200));
    hybrid_unfused.push_back(Time([&] { RunHybridized(unfused, x); }, 200));
  }
  const double i = Median(imperative), h = Median(hybrid), u = Median(hybrid_unfused);
  std::printf("Chain of %d elementwise ops on %lld float32 elements (%d paired rounds, medians):\n", kChainLength,
              static_cast<long long>(kChainElements), rounds);
  std::printf("  imperative           %8.1f us  (%.2f us/node)\n", i * 1e6, i * 1e6 / kChainLength);
  std::printf("  hybridized (fused)   %8.1f us  (%.3f us/node; target <= 1)  %.1fx faster (target >= 4)\n", h * 1e6,
              h * 1e6 / kChainLength, i / h);
  std::printf("  hybridized (unfused) %8.1f us  (%.3f us/node)  %.1fx faster\n", u * 1e6, u * 1e6 / kChainLength,
              i / u);

  // Fusion pays off on large arrays: intermediates stay in cache instead of going through memory.
  constexpr int kLargeLength = 10;
  const NDArray large = NDArray::Full(Shape({int64_t{1} << 24}), 0.5);  // 64 MiB: beyond the L3 cache.
  CachedOpOptions large_options;
  large_options.static_alloc = large_options.static_shape = true;
  CachedOp large_fused(ChainSymbol(kLargeLength, true), large_options);
  large_options.fuse = false;
  CachedOp large_unfused(ChainSymbol(kLargeLength, true), large_options);
  RunHybridized(large_fused, large);
  RunHybridized(large_unfused, large);
  std::vector<double> fused_s, unfused_s;
  for (int r = 0; r < rounds; ++r) {
    fused_s.push_back(Time([&] { RunHybridized(large_fused, large); }, 5));
    unfused_s.push_back(Time([&] { RunHybridized(large_unfused, large); }, 5));
  }
  const double f = Median(fused_s), n = Median(unfused_s);
  std::printf("Chain of %d cheap elementwise ops on 16M float32 elements, hybridized: fused %.2f ms, unfused %.2f ms "
              "(fused %.2fx faster)\n", kLargeLength, f * 1e3, n * 1e3, n / f);
}

}  // namespace
}  // namespace graph
}  // namespace pmx

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  pmx::graph::PrintSummary(15);
  benchmark::Shutdown();
  return 0;
}
