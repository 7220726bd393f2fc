// Host random streams and samplers for the random families (random.cc, random_sample.cc): one
// generator per fixed block of output elements, and the distributions MXNet's sampling ops draw from.
#ifndef POLYMIX_CORE_OPS_INTERNAL_RANDOM_SAMPLING_H_
#define POLYMIX_CORE_OPS_INTERNAL_RANDOM_SAMPLING_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/backend/cpu/parallel.h"
#include "core/ops/internal/elementwise.h"
#include "core/ops/op.h"

namespace pmx {
namespace ops {

// Note [Random streams on the host]
// A random op gets one 64-bit seed per call (KernelContext::seed, drawn at push time; see Note [Random
// seeds] in invoke.cc). Its output is cut into blocks of kRandomBlock consecutive elements, and block b
// draws from its own std::mt19937_64 seeded with SplitMix64(seed ^ SplitMix64(b)). Blocks are the unit of
// parallel work, so every element's value depends only on the seed and its index: results are the same for
// any number of threads and any schedule, and the same seed (pmx_random_seed / mx.random.seed) replays a
// program's random numbers exactly. Samplers that reject (gamma, Poisson) consume a variable number of
// draws, which stays inside the element's block and so never shifts other blocks.

// Output elements per random stream (a multiple of any SIMD width; large enough to amortise seeding).
constexpr int64_t kRandomBlock = 4096;

// SplitMix64's finaliser: a bijective mix that decorrelates nearby seeds and block indices.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The generator of block `block` for a call seeded with `seed`.
inline std::mt19937_64 BlockGenerator(uint64_t seed, int64_t block) {
  return std::mt19937_64(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(block))));
}

// Calls fn(generator, begin, end) for every block of [0, n), blocks spread over threads; `fn` draws the
// elements of [begin, end) in order from `generator`.
template <typename Fn>
void ForEachRandomBlock(int64_t n, uint64_t seed, Fn&& fn) {
  const int64_t blocks = (n + kRandomBlock - 1) / kRandomBlock;
  cpu::ParallelFor(blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      std::mt19937_64 generator = BlockGenerator(seed, block);
      const int64_t begin = block * kRandomBlock;
      fn(generator, begin, std::min(n, begin + kRandomBlock));
    }
  });
}

// A uniform double in [0, 1) with 53 random bits.
inline double Uniform01(std::mt19937_64& generator) {
  return static_cast<double>(generator() >> 11) * (1.0 / 9007199254740992.0);
}

// A uniform double in (0, 1], for logarithms.
inline double UniformOpen0(std::mt19937_64& generator) { return 1.0 - Uniform01(generator); }

// A standard normal draw (Box-Muller, one value per call so that draws never carry state between elements).
inline double StandardNormal(std::mt19937_64& generator) {
  const double radius = std::sqrt(-2.0 * std::log(UniformOpen0(generator)));
  return radius * std::cos(6.283185307179586476925 * Uniform01(generator));
}

// An unbiased uniform integer in [0, range) for range >= 1 (rejection of the final partial interval).
inline uint64_t UniformBelow(std::mt19937_64& generator, uint64_t range) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % range;
  uint64_t draw;
  do {
    draw = generator();
  } while (draw >= limit);
  return draw % range;
}

// log(Gamma(x)) without glibc's lgamma, which writes the global `signgam` (a data race between threads).
inline double LogGamma(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

// A Gamma(shape alpha, scale beta) draw: Marsaglia and Tsang's squeeze method, with the alpha < 1 boost
// U^(1/alpha). alpha == 0 gives 0 (MXNet's convention); a negative or NaN alpha gives NaN.
inline double SampleGamma(double alpha, double beta, std::mt19937_64& generator) {
  if (alpha == 0) return 0;
  if (!(alpha > 0) || std::isnan(beta)) return std::numeric_limits<double>::quiet_NaN();
  const double d = (alpha < 1 ? alpha + 1 : alpha) - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  double sample;
  for (;;) {
    const double z = StandardNormal(generator);
    const double x = 1.0 + c * z;
    if (x <= 0) continue;
    const double v = x * x * x;
    const double u = UniformOpen0(generator);
    if (u < 1.0 - 0.0331 * z * z * z * z || std::log(u) < 0.5 * z * z + d * (1.0 - v + std::log(v))) {
      sample = d * v;
      break;
    }
  }
  if (alpha < 1) sample *= std::pow(UniformOpen0(generator), 1.0 / alpha);
  return sample * beta;
}

// A Poisson(lambda) draw: products of uniforms for small lambda, Hormann's PTRS transformed rejection for
// lambda >= 10. A negative or NaN lambda gives NaN, an infinite one infinity.
inline double SamplePoisson(double lambda, std::mt19937_64& generator) {
  if (!(lambda >= 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(lambda)) return lambda;
  if (lambda < 10) {
    const double limit = std::exp(-lambda);
    double product = Uniform01(generator);
    int64_t count = 0;
    while (product > limit) {
      ++count;
      product *= Uniform01(generator);
    }
    return static_cast<double>(count);
  }
  const double root = std::sqrt(lambda);
  const double log_lambda = std::log(lambda);
  const double b = 0.931 + 2.53 * root;
  const double a = -0.059 + 0.02483 * b;
  const double inverse_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double v_r = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = Uniform01(generator) - 0.5;
    const double v = Uniform01(generator);
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= v_r) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inverse_alpha) - std::log(a / (us * us) + b) <=
        -lambda + k * log_lambda - LogGamma(k + 1)) {
      return k;
    }
  }
}

// A negative binomial draw: failures before the k-th success with failure probability p, as the Poisson
// mixture Poisson(Gamma(k, (1 - p) / p)) that MXNet uses (so k may be real).
inline double SampleNegativeBinomial(double k, double p, std::mt19937_64& generator) {
  return SamplePoisson(SampleGamma(k, (1 - p) / p, generator), generator);
}

// A generalized negative binomial draw with mean mu and dispersion alpha (alpha == 0 is Poisson(mu)).
inline double SampleGeneralizedNegativeBinomial(double mu, double alpha, std::mt19937_64& generator) {
  const double lambda = alpha == 0 ? mu : SampleGamma(1 / alpha, alpha * mu, generator);
  return SamplePoisson(lambda, generator);
}

// Writes draw(generator, i) to every element i of `out` (any numeric dtype), honouring kAdd, with the
// streams of Note [Random streams on the host].
template <typename Draw>
void WriteSamples(const char* op, const KernelContext& context, const TensorRef& out, Draw draw) {
  const bool add = context.modes[0] == WriteMode::kAdd;
  DispatchAllowed<DTypes::kNumeric>(op, out.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    T* y = out.As<T>();
    ForEachRandomBlock(out.size(), context.seed, [&](std::mt19937_64& generator, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(draw(generator, i)), add);
    });
  });
}

// The `dtype` parameter of the float sampling ops: MXNet's enum None/float16/float32/float64.
ParamDef SampleDTypeParam();

// The output dtype of a sampling op from its `dtype` parameter (`default_dtype` for None) and any dtype
// already inferred for the output; TypeError naming `op` when they disagree or the result is not in
// `allowed` (names of dtypes).
DType SampleOutputDType(const char* op, const std::string& dtype_param, MaybeDType inferred, DType default_dtype,
                        const std::vector<DType>& allowed);

// The `shape` parameter as a Shape; ValueError naming `op` for a negative dimension.
Shape SampleShapeParam(const char* op, const std::vector<int64_t>& dims);

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_RANDOM_SAMPLING_H_
