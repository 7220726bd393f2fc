// Random sampling with parameters from arrays: _sample_<distribution> (one distribution per input element),
// _sample_multinomial (categorical draws from probability rows), plus _sample_unique_zipfian and _shuffle.
// Scalar-parameter sampling is in random.cc; the streams are described in Note [Random streams on the host].
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/random_sampling.h"

namespace pmx {
namespace ops {
namespace {

// One draw from a distribution with up to two parameters.
using DrawFn = double (*)(double a, double b, std::mt19937_64& generator);

// A distribution as MXNet's _sample_* ops expose it: parameters come as arrays.
struct ArrayDistribution {
  std::string name;                 // "uniform" -> _sample_uniform (alias sample_uniform).
  std::vector<std::string> inputs;  // Names of the parameter arrays, in MXNet's order.
  std::string doc;                  // What each distribution is.
  DrawFn draw;                      // One sample.
};

std::vector<ArrayDistribution> ArrayDistributions() {
  return {
      {"uniform", {"low", "high"}, "uniform distributions on the half-open intervals [low, high)",
       [](double low, double high, std::mt19937_64& g) { return low + (high - low) * Uniform01(g); }},
      {"normal", {"mu", "sigma"}, "normal distributions with means mu and standard deviations sigma",
       [](double mu, double sigma, std::mt19937_64& g) { return mu + sigma * StandardNormal(g); }},
      {"gamma", {"alpha", "beta"}, "gamma distributions with shapes alpha and scales beta",
       [](double alpha, double beta, std::mt19937_64& g) { return SampleGamma(alpha, beta, g); }},
      {"exponential", {"lam"}, "exponential distributions with rates lam",
       [](double lam, double, std::mt19937_64& g) { return -std::log(UniformOpen0(g)) / lam; }},
      {"poisson", {"lam"}, "Poisson distributions with rates lam (samples as floats)",
       [](double lam, double, std::mt19937_64& g) { return SamplePoisson(lam, g); }},
      {"negative_binomial", {"k", "p"},
       "negative binomial distributions with failure limits k and failure probabilities p (samples as floats)",
       [](double k, double p, std::mt19937_64& g) { return SampleNegativeBinomial(k, p, g); }},
      {"generalized_negative_binomial", {"mu", "alpha"},
       "generalized negative binomial distributions with means mu and dispersions alpha (samples as floats)",
       [](double mu, double alpha, std::mt19937_64& g) { return SampleGeneralizedNegativeBinomial(mu, alpha, g); }},
  };
}

const std::vector<DType> kFloatOutputs = {DType::kFloat16, DType::kFloat32, DType::kFloat64};

// Reads element `index` of a numeric tensor as a double.
double ReadAsDouble(const TensorRef& tensor, int64_t index) {
  double value = 0;
  DispatchAllowed<DTypes::kNumeric>("sample", tensor.dtype, [&](auto tag) {
    using T = decltype(tag);
    value = static_cast<double>(static_cast<ComputeType<T>>(tensor.As<T>()[index]));
  });
  return value;
}

// The parameter arrays of a _sample_* call, read as doubles once (they are small next to the output).
std::vector<double> ReadAllAsDouble(const TensorRef& tensor) {
  std::vector<double> values(tensor.size());
  DispatchAllowed<DTypes::kNumeric>("sample", tensor.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* data = tensor.As<T>();
    for (int64_t i = 0; i < tensor.size(); ++i) values[i] = static_cast<double>(static_cast<ComputeType<T>>(data[i]));
  });
  return values;
}

void RegisterArrayDistribution(const ArrayDistribution& distribution) {
  const std::string name = "_sample_" + distribution.name;
  OpDef def;
  def.name = name;
  def.aliases = {"sample_" + distribution.name};
  def.family = "random";
  def.doc = "Concurrent sampling from " + distribution.doc +
            ", one per element of the parameter arrays: with parameters of shape [s] and shape=[t], the "
            "output has shape [s]x[t] and output[i] holds draws from the distribution at index i.";
  def.inputs = distribution.inputs;
  def.params = {
      {"shape", ParamType::kShape, "()", false, false, {}, "Shape to be sampled from each random distribution."},
      SampleDTypeParam(),
  };
  def.needs_rng = true;
  def.infer_shape = [name](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const std::vector<int64_t>& sample_shape = params.Ints("shape");
    for (int64_t dim : sample_shape) {
      PMX_CHECK(dim > 0, kValueError, "[%s] shape %s must have positive dimensions", name,
                Shape(sample_shape).ToString());
    }
    if (!(*in)[0]) return false;
    const Shape& shape = *(*in)[0];
    for (size_t i = 1; i < in->size(); ++i) {
      if (!(*in)[i]) (*in)[i] = shape;
      PMX_CHECK(*(*in)[i] == shape, kValueError, "[%s] input %d has shape %s, expected %s to match input 0", name,
                static_cast<int>(i), (*in)[i]->ToString(), shape.ToString());
    }
    PMX_CHECK(shape.size() > 0, kValueError, "[%s] the parameter arrays are empty (shape %s)", name,
              shape.ToString());
    std::vector<int64_t> dims(shape.dims().begin(), shape.dims().end());
    dims.insert(dims.end(), sample_shape.begin(), sample_shape.end());
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [name](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    std::vector<MaybeDType> none(1);
    if (!InferSameDType(name.c_str(), DTypes::kNumeric, in, &none)) return false;
    (*out)[0] = SampleOutputDType(name.c_str(), params.Str("dtype"), (*out)[0], DType::kFloat32, kFloatOutputs);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name, draw = distribution.draw](const KernelContext& context,
                                                                    absl::Span<const TensorRef> in,
                                                                    absl::Span<const TensorRef> out) {
    const std::vector<double> first = ReadAllAsDouble(in[0]);
    const std::vector<double> second = in.size() > 1 ? ReadAllAsDouble(in[1]) : std::vector<double>();
    const int64_t per_distribution = out[0].size() / in[0].size();
    WriteSamples(name.c_str(), context, out[0], [&](std::mt19937_64& g, int64_t i) {
      const int64_t index = i / per_distribution;
      return draw(first[index], second.empty() ? 0.0 : second[index], g);
    });
  };
  def.gradient = ZeroGradient();
  OpRegistry::Get()->Register(std::move(def));
}

const bool kArrayDistributionsRegistered = [] {
  for (const ArrayDistribution& distribution : ArrayDistributions()) RegisterArrayDistribution(distribution);
  return true;
}();

// Note [Multinomial log-probability gradient]
// With get_prob=True, _sample_multinomial also returns log(p[sample]); its gradient with respect to p is
// head / p[sample] at each sampled category (summed over the samples of a row), which is what
// REINFORCE-style training differentiates. No composition of other ops expresses that scatter without a
// one-hot op, so the helper _backward_sample_multinomial (MXNet's name) computes it.
PMX_REGISTER_OP(_sample_multinomial) {
  OpDef def;
  def.name = "_sample_multinomial";
  def.aliases = {"sample_multinomial"};
  def.family = "random";
  def.doc = "Concurrent sampling from multinomial (categorical) distributions: the last axis of `data` holds "
            "the k category probabilities (summing to 1) of one distribution; draws `shape` samples from each. "
            "With get_prob, a second output holds the log probability of each drawn sample.";
  def.inputs = {"data"};
  def.outputs = {"output", "prob"};
  def.num_outputs = [](const OpParams& params) { return params.Bool("get_prob") ? 2 : 1; };
  def.params = {
      {"shape", ParamType::kShape, "()", false, false, {}, "Shape to be sampled from each random distribution."},
      {"get_prob", ParamType::kBool, "False", false, false, {},
       "Whether to also return the log probability of the sampled results."},
      {"dtype", ParamType::kEnum, "int32", false, false, {"uint8", "int32", "float16", "float32", "float64"},
       "DType of the sampled indices."},
  };
  def.needs_rng = true;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() >= 1 && data[data.ndim() - 1] > 0, kValueError,
              "[_sample_multinomial] data has shape %s: expected at least one axis of categories",
              data.ToString());
    const std::vector<int64_t>& sample_shape = params.Ints("shape");
    std::vector<int64_t> dims(data.dims().begin(), data.dims().end() - 1);
    dims.insert(dims.end(), sample_shape.begin(), sample_shape.end());
    if (dims.empty()) dims = {1};  // One 1-D distribution, no shape: one sample, as MXNet returns (1,).
    for (MaybeShape& shape : *out) shape = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("_sample_multinomial", DTypes::kFloat, *(*in)[0]);
    (*out)[0] = DTypeFromName(params.Str("dtype"));
    if (out->size() > 1) (*out)[1] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t categories = in[0].shape[in[0].shape.ndim() - 1];
    const int64_t rows = in[0].size() / categories;
    if (rows == 0) return;
    const int64_t per_row = out[0].size() / rows;
    // Cumulative sums per row, in double; a draw u * total picks the first category whose sum exceeds it,
    // so zero-probability categories are never drawn and rounding never runs past the last category.
    std::vector<double> cumulative(in[0].size());
    DispatchAllowed<DTypes::kFloat>("_sample_multinomial", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* p = in[0].As<T>();
      cpu::ParallelFor(rows, 256, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          double sum = 0;
          for (int64_t c = 0; c < categories; ++c) {
            sum += static_cast<double>(static_cast<ComputeType<T>>(p[row * categories + c]));
            cumulative[row * categories + c] = sum;
          }
        }
      });
    });
    std::vector<int64_t> picks(out[0].size());
    ForEachRandomBlock(out[0].size(), context.seed, [&](std::mt19937_64& g, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double* row = cumulative.data() + (i / per_row) * categories;
        const double target = Uniform01(g) * row[categories - 1];
        const int64_t pick = std::upper_bound(row, row + categories, target) - row;
        picks[i] = std::min(pick, categories - 1);
      }
    });
    auto store = [&](const TensorRef& tensor, WriteMode mode, auto value_of) {
      DispatchAllowed<DTypes::kNumeric>("_sample_multinomial", tensor.dtype, [&](auto tag) {
        using T = decltype(tag);
        using C = ComputeType<T>;
        T* y = tensor.As<T>();
        const bool add = mode == WriteMode::kAdd;
        cpu::ParallelFor(tensor.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(value_of(i)), add);
        });
      });
    };
    store(out[0], context.modes[0], [&](int64_t i) { return static_cast<double>(picks[i]); });
    if (out.size() > 1) {
      store(out[1], context.modes[1], [&](int64_t i) {
        return std::log(ReadAsDouble(in[0], (i / per_row) * categories + picks[i]));
      });
    }
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    if (!args.params->Bool("get_prob")) return {b.Call1("zeros_like", {args.inputs[0]})};
    return {b.Call1("_backward_sample_multinomial", {args.output_grads[1], args.inputs[0], args.outputs[0]})};
  };
  return def;
}

PMX_REGISTER_OP(_backward_sample_multinomial) {
  OpDef def;
  def.name = "_backward_sample_multinomial";
  def.family = "random";
  def.doc = "Gradient helper of _sample_multinomial(get_prob=True): for each sample s of row r adds "
            "ograd[r, s] / data[r, samples[r, s]] at data[r, samples[r, s]] (see the op's log-probability).";
  def.inputs = {"ograd", "data", "samples"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    PMX_CHECK(*(*in)[0] == *(*in)[2], kValueError,
              "[_backward_sample_multinomial] ograd has shape %s but samples %s: expected the same",
              (*in)[0]->ToString(), (*in)[2]->ToString());
    const Shape& data = *(*in)[1];
    PMX_CHECK(data.ndim() >= 1 && data[data.ndim() - 1] > 0 &&
                  (*in)[2]->size() % (data.size() / data[data.ndim() - 1]) == 0,
              kValueError, "[_backward_sample_multinomial] samples of shape %s do not match data of shape %s",
              (*in)[2]->ToString(), data.ToString());
    (*out)[0] = data;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    PMX_CHECK(*(*in)[0] == *(*in)[1], kTypeError,
              "[_backward_sample_multinomial] ograd has dtype %s but data %s: expected the same",
              DTypeName(*(*in)[0]), DTypeName(*(*in)[1]));
    CheckDType("_backward_sample_multinomial", DTypes::kFloat, *(*in)[1]);
    CheckDType("_backward_sample_multinomial", DTypes::kNumeric, *(*in)[2]);
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t categories = in[1].shape[in[1].shape.ndim() - 1];
    const int64_t rows = in[1].size() / categories;
    const int64_t per_row = rows == 0 ? 0 : in[2].size() / rows;
    // Read and check the samples first: an exception must not leave a parallel region.
    std::vector<int64_t> samples(in[2].size());
    for (int64_t s = 0; s < in[2].size(); ++s) {
      const double sample = ReadAsDouble(in[2], s);
      PMX_CHECK(sample >= 0 && sample < categories, kIndexError,
                "[_backward_sample_multinomial] sample %g is outside [0, %d)", sample, categories);
      samples[s] = static_cast<int64_t>(sample);
    }
    DispatchAllowed<DTypes::kFloat>("_backward_sample_multinomial", in[1].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* ograd = in[0].As<T>();
      const T* data = in[1].As<T>();
      T* grad = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      cpu::ParallelFor(rows, 64, [&](int64_t begin, int64_t end) {
        std::vector<C> row_grad(categories);
        for (int64_t row = begin; row < end; ++row) {
          std::fill(row_grad.begin(), row_grad.end(), C(0));
          for (int64_t s = row * per_row; s < (row + 1) * per_row; ++s) {
            const int64_t c = samples[s];
            row_grad[c] += static_cast<C>(ograd[s]) / static_cast<C>(data[row * categories + c]);
          }
          for (int64_t c = 0; c < categories; ++c) Store<T, C>(grad + row * categories + c, row_grad[c], add);
        }
      });
    });
  };
  return def;
}

PMX_REGISTER_OP(_sample_unique_zipfian) {
  OpDef def;
  def.name = "_sample_unique_zipfian";
  def.family = "random";
  def.doc = "Draws, for each of shape[0] rows, shape[1] distinct classes in [0, range_max) from an approximately "
            "log-uniform (Zipfian) distribution, k = round(range_max**u) - 1 with u uniform in [0, 1), rejecting "
            "repeats (candidate sampling for large softmaxes). Returns the samples and, per row, the number of "
            "draws it took (both int64).";
  def.outputs = {"samples", "num_tries"};
  def.params = {
      {"range_max", ParamType::kInt, "", true, false, {}, "The number of possible classes."},
      {"shape", ParamType::kShape, "()", false, false, {},
       "2-D shape of the output: shape[0] is the batch size, shape[1] the number of candidates per row."},
  };
  def.needs_rng = true;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>*, std::vector<MaybeShape>* out) {
    const std::vector<int64_t>& shape = params.Ints("shape");
    PMX_CHECK(shape.size() == 2 && shape[0] >= 0 && shape[1] >= 0, kValueError,
              "[_sample_unique_zipfian] shape %s: expected (batch_size, num_sampled)", Shape(shape).ToString());
    PMX_CHECK(shape[1] <= params.Int("range_max"), kValueError,
              "[_sample_unique_zipfian] %d samples per row cannot be distinct among range_max=%d classes", shape[1],
              params.Int("range_max"));
    (*out)[0] = Shape(shape);
    (*out)[1] = Shape({shape[0]});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>*, std::vector<MaybeDType>* out) {
    (*out)[0] = DType::kInt64;
    (*out)[1] = DType::kInt64;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef>,
                                     absl::Span<const TensorRef> out) {
    const int64_t rows = out[0].shape[0];
    const int64_t per_row = out[0].shape[1];
    const double log_range = std::log(static_cast<double>(context.params->Int("range_max")));
    int64_t* samples = out[0].As<int64_t>();
    int64_t* tries = out[1].As<int64_t>();
    const bool add_samples = context.modes[0] == WriteMode::kAdd;
    const bool add_tries = context.modes[1] == WriteMode::kAdd;
    // One stream per row (rows draw variable numbers of values), so rows are independent of threads.
    cpu::ParallelFor(rows, 1, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> drawn;
      std::unordered_set<int64_t> seen;
      for (int64_t row = begin; row < end; ++row) {
        std::mt19937_64 generator = BlockGenerator(context.seed, row);
        drawn.clear();
        seen.clear();
        int64_t count = 0;
        while (static_cast<int64_t>(drawn.size()) < per_row) {
          const int64_t value = std::llround(std::exp(Uniform01(generator) * log_range)) - 1;
          ++count;
          if (seen.insert(value).second) drawn.push_back(value);
        }
        for (int64_t j = 0; j < per_row; ++j) {
          int64_t& target = samples[row * per_row + j];
          target = add_samples ? target + drawn[j] : drawn[j];
        }
        tries[row] = add_tries ? tries[row] + count : count;
      }
    });
  };
  return def;
}

PMX_REGISTER_OP(_shuffle) {
  OpDef def;
  def.name = "_shuffle";
  def.aliases = {"shuffle"};
  def.family = "random";
  def.doc = "Randomly shuffles the array along its first axis; the order of elements within each subarray "
            "(row) is unchanged. Not differentiable.";
  def.inputs = {"data"};
  def.needs_rng = true;
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSameShape("_shuffle", in, out);
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_shuffle", DTypes::kAll, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t rows = in[0].shape.ndim() == 0 ? 1 : in[0].shape[0];
    if (in[0].size() == 0) return;
    const int64_t row_size = in[0].size() / rows;
    // Fisher-Yates on row indices with one stream (the permutation is inherently sequential), then a
    // parallel gather of rows.
    std::vector<int64_t> order(rows);
    std::iota(order.begin(), order.end(), int64_t{0});
    std::mt19937_64 generator = BlockGenerator(context.seed, 0);
    for (int64_t i = rows - 1; i > 0; --i) {
      std::swap(order[i], order[UniformBelow(generator, static_cast<uint64_t>(i + 1))]);
    }
    DispatchDType(in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      std::vector<unsigned char> copy;
      if (in[0].data == out[0].data) {  // Shuffling in place (out=data): gather from a copy.
        copy.resize(in[0].size() * sizeof(T));
        std::memcpy(copy.data(), x, copy.size());
        x = reinterpret_cast<const T*>(copy.data());
      }
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      cpu::ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(row_size, 1)),
                       [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const T* source = x + order[row] * row_size;
          T* target = y + row * row_size;
          if (!add) {
            std::memcpy(target, source, row_size * sizeof(T));
          } else {
            for (int64_t j = 0; j < row_size; ++j) Store<T, C>(target + j, static_cast<C>(source[j]), true);
          }
        }
      });
    });
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
