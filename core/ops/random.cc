// Random sampling with scalar parameters: _random_<distribution> (shape given), _random_<distribution>_like
// (shape of an input) and _random_randint. Per-element parameters, multinomial and shuffle are in
// random_sample.cc; the streams are described in Note [Random streams on the host].
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/random_sampling.h"

namespace pmx {
namespace ops {
namespace {

// One draw from a distribution with up to two parameters.
using DrawFn = double (*)(double a, double b, std::mt19937_64& generator);

// A distribution as MXNet's _random_* ops expose it.
struct Distribution {
  std::string name;              // "uniform" -> _random_uniform, _random_uniform_like.
  std::vector<std::string> aliases;  // Aliases of the _random_<name> op.
  std::string doc;               // What the samples are.
  std::vector<ParamDef> params;  // The one or two distribution parameters, in MXNet's order.
  // Throws ValueError naming `op` for invalid parameter values (MXNet checks the same ones).
  std::function<void(const char* op, double a, double b)> validate;
  DrawFn draw;                   // One sample.
};

ParamDef RealParam(const char* name, const char* default_value, const char* doc) {
  return {name, ParamType::kFloat, default_value, false, false, {}, doc};
}

// The value of distribution parameter `index` (0 when the distribution has fewer).
double DistributionParam(const Distribution& distribution, const OpParams& params, size_t index) {
  if (index >= distribution.params.size()) return 0;
  const ParamDef& def = distribution.params[index];
  return def.type == ParamType::kInt ? static_cast<double>(params.Int(def.name)) : params.Float(def.name);
}

// A validator requiring `a` (named `name`) to be > 0 (`strict`) or >= 0.
std::function<void(const char*, double, double)> Positive(const char* name, bool strict) {
  return [name, strict](const char* op, double a, double) {
    PMX_CHECK(strict ? a > 0 : a >= 0, kValueError, "[%s] %s must be %s, given %g", op, name,
              strict ? "positive" : "non-negative", a);
  };
}

std::vector<Distribution> Distributions() {
  auto non_negative_pair = [](const char* first, const char* second) {
    return [first, second](const char* op, double a, double b) {
      PMX_CHECK(a >= 0, kValueError, "[%s] %s must be non-negative, given %g", op, first, a);
      PMX_CHECK(b >= 0, kValueError, "[%s] %s must be non-negative, given %g", op, second, b);
    };
  };
  return {
      {"uniform", {"uniform", "random_uniform"},
       "Draws samples from a uniform distribution on the half-open interval [low, high).",
       {RealParam("low", "0", "Lower bound of the distribution."),
        RealParam("high", "1", "Upper bound of the distribution.")},
       [](const char*, double, double) {},
       [](double low, double high, std::mt19937_64& g) { return low + (high - low) * Uniform01(g); }},
      {"normal", {"normal", "random_normal"},
       "Draws samples from a normal (Gaussian) distribution with mean loc and standard deviation scale.",
       {RealParam("loc", "0", "Mean of the distribution."),
        RealParam("scale", "1", "Standard deviation of the distribution.")},
       [](const char* op, double, double scale) {
         PMX_CHECK(scale > 0, kValueError, "[%s] scale must be positive, given %g", op, scale);
       },
       [](double loc, double scale, std::mt19937_64& g) { return loc + scale * StandardNormal(g); }},
      {"gamma", {"random_gamma"},
       "Draws samples from a gamma distribution with shape alpha and scale beta.",
       {RealParam("alpha", "1", "Alpha parameter (shape) of the gamma distribution."),
        RealParam("beta", "1", "Beta parameter (scale) of the gamma distribution.")},
       [](const char* op, double alpha, double beta) {
         PMX_CHECK(alpha > 0, kValueError, "[%s] alpha must be positive, given %g", op, alpha);
         PMX_CHECK(beta > 0, kValueError, "[%s] beta must be positive, given %g", op, beta);
       },
       [](double alpha, double beta, std::mt19937_64& g) { return SampleGamma(alpha, beta, g); }},
      {"exponential", {"random_exponential"},
       "Draws samples from an exponential distribution with rate lam.",
       {RealParam("lam", "1", "Lambda parameter (rate) of the exponential distribution.")},
       Positive("lam", true),
       [](double lam, double, std::mt19937_64& g) { return -std::log(UniformOpen0(g)) / lam; }},
      {"poisson", {"random_poisson"},
       "Draws samples from a Poisson distribution with rate lam; samples are returned as floats.",
       {RealParam("lam", "1", "Lambda parameter (rate) of the Poisson distribution.")},
       Positive("lam", false),
       [](double lam, double, std::mt19937_64& g) { return SamplePoisson(lam, g); }},
      {"negative_binomial", {"random_negative_binomial"},
       "Draws samples from a negative binomial distribution: failures before the k-th success with failure "
       "probability p per experiment; samples are returned as floats.",
       {{"k", ParamType::kInt, "1", false, false, {}, "Limit of unsuccessful experiments."},
        RealParam("p", "1", "Failure probability in each experiment.")},
       non_negative_pair("k", "p"),
       [](double k, double p, std::mt19937_64& g) { return SampleNegativeBinomial(k, p, g); }},
      {"generalized_negative_binomial", {"random_generalized_negative_binomial"},
       "Draws samples from a generalized negative binomial distribution with mean mu and dispersion alpha "
       "(alpha = 1/k, k the failure limit generalized to reals); samples are returned as floats.",
       {RealParam("mu", "1", "Mean of the negative binomial distribution."),
        RealParam("alpha", "1", "Alpha (dispersion) parameter of the negative binomial distribution.")},
       non_negative_pair("mu", "alpha"),
       [](double mu, double alpha, std::mt19937_64& g) { return SampleGeneralizedNegativeBinomial(mu, alpha, g); }},
  };
}

const std::vector<DType> kFloatOutputs = {DType::kFloat16, DType::kFloat32, DType::kFloat64};

// A kernel filling output 0 with draws of `distribution` at the call's parameters.
Kernel DistributionKernel(const std::string& op, const Distribution& distribution) {
  return [op, distribution](const KernelContext& context, absl::Span<const TensorRef>,
                            absl::Span<const TensorRef> out) {
    const double a = DistributionParam(distribution, *context.params, 0);
    const double b = DistributionParam(distribution, *context.params, 1);
    const DrawFn draw = distribution.draw;
    WriteSamples(op.c_str(), context, out[0], [&](std::mt19937_64& g, int64_t) { return draw(a, b, g); });
  };
}

ParamDef ShapeParam() { return {"shape", ParamType::kShape, "()", false, false, {}, "Shape of the output."}; }
ParamDef ContextParam() {
  return {"ctx", ParamType::kString, "", false, false, {},
          "Context of output, in format [cpu|gpu|cpu_pinned](n); only used for imperative calls."};
}

void RegisterDistribution(const Distribution& distribution) {
  const std::string name = "_random_" + distribution.name;
  OpDef def;
  def.name = name;
  def.aliases = distribution.aliases;
  def.family = "random";
  def.doc = distribution.doc + " Results depend only on the random seed (mx.random.seed) and the call order.";
  def.inputs = {};
  def.params = distribution.params;
  def.params.push_back(ShapeParam());
  def.params.push_back(ContextParam());
  def.params.push_back(SampleDTypeParam());
  def.needs_rng = true;
  def.infer_shape = [name, distribution](const OpParams& params, std::vector<MaybeShape>*,
                                         std::vector<MaybeShape>* out) {
    distribution.validate(name.c_str(), DistributionParam(distribution, params, 0),
                          DistributionParam(distribution, params, 1));
    (*out)[0] = SampleShapeParam(name.c_str(), params.Ints("shape"));
    return true;
  };
  def.infer_type = [name](const OpParams& params, std::vector<MaybeDType>*, std::vector<MaybeDType>* out) {
    (*out)[0] = SampleOutputDType(name.c_str(), params.Str("dtype"), (*out)[0], DType::kFloat32, kFloatOutputs);
    return true;
  };
  def.kernels[DeviceType::kCPU] = DistributionKernel(name, distribution);
  OpRegistry::Get()->Register(std::move(def));

  // _random_<name>_like: the same draws with the shape and dtype of an input, whose values are ignored.
  const std::string like = name + "_like";
  OpDef like_def;
  like_def.name = like;
  like_def.family = "random";
  like_def.doc = distribution.doc + " The output has the shape and dtype of `data`, whose values are ignored.";
  like_def.inputs = {"data"};
  like_def.params = distribution.params;
  like_def.needs_rng = true;
  like_def.infer_shape = [like, distribution](const OpParams& params, std::vector<MaybeShape>* in,
                                              std::vector<MaybeShape>* out) {
    distribution.validate(like.c_str(), DistributionParam(distribution, params, 0),
                          DistributionParam(distribution, params, 1));
    return InferSameShape(like.c_str(), in, out);
  };
  like_def.infer_type = [like](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(like.c_str(), DTypes::kFloat, in, out);
  };
  like_def.kernels[DeviceType::kCPU] = DistributionKernel(like, distribution);
  like_def.gradient = ZeroGradient();
  OpRegistry::Get()->Register(std::move(like_def));
}

const bool kDistributionsRegistered = [] {
  for (const Distribution& distribution : Distributions()) RegisterDistribution(distribution);
  return true;
}();

PMX_REGISTER_OP(_random_randint) {
  OpDef def;
  def.name = "_random_randint";
  def.aliases = {"random_randint"};
  def.family = "random";
  def.doc = "Draws integers uniformly from the half-open interval [low, high).";
  def.inputs = {};
  def.params = {
      {"low", ParamType::kInt, "", true, false, {}, "Lower bound of the distribution."},
      {"high", ParamType::kInt, "", true, false, {}, "Upper bound of the distribution."},
      ShapeParam(),
      ContextParam(),
      {"dtype", ParamType::kEnum, "None", false, false, {"None", "int32", "int64"},
       "DType of the output in case it can't be inferred; int32 when None."},
  };
  def.needs_rng = true;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>*, std::vector<MaybeShape>* out) {
    PMX_CHECK(params.Int("high") > params.Int("low"), kValueError,
              "[_random_randint] expected low < high, given low=%d and high=%d", params.Int("low"),
              params.Int("high"));
    (*out)[0] = SampleShapeParam("_random_randint", params.Ints("shape"));
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>*, std::vector<MaybeDType>* out) {
    (*out)[0] = SampleOutputDType("_random_randint", params.Str("dtype"), (*out)[0], DType::kInt32,
                                  {DType::kInt32, DType::kInt64});
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef>,
                                     absl::Span<const TensorRef> out) {
    const int64_t low = context.params->Int("low");
    const int64_t high = context.params->Int("high");
    PMX_CHECK(out[0].dtype != DType::kInt32 || (low >= INT32_MIN && high - 1 <= INT32_MAX), kValueError,
              "[_random_randint] [%d, %d) does not fit in int32: use dtype='int64'", low, high);
    // The range as unsigned, so that [INT64_MIN, INT64_MAX) does not overflow.
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    WriteSamples("_random_randint", context, out[0], [&](std::mt19937_64& g, int64_t) {
      return static_cast<int64_t>(static_cast<uint64_t>(low) + UniformBelow(g, range));
    });
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
