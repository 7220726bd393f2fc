// Elementwise binary operators: same-shape (elemwise_*) and NumPy-broadcasting (broadcast_*) forms.
#include <cmath>
#include <type_traits>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

template <typename C>
C Mod(C a, C b) {
  if (b == 0) return 0;
  if constexpr (std::is_floating_point_v<C>) {
    C r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  } else {
    C r = static_cast<C>(a % b);
    return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<C>(r + b) : r;
  }
}

// Reduces a gradient to the shape of the input it belongs to (undoing broadcasting).
Value SumTo(GradientBuilder& b, Value grad, Value like) { return b.Call1("_sum_to_like", {grad, like}); }

// Gradient of a binary op from the two partial derivatives (each a function of lhs, rhs, out); the
// broadcast variants sum each gradient back to its input's shape.
GradientFn BinaryGradient(std::function<std::optional<Value>(GradientBuilder&, Value, Value, Value, Value)> lhs,
                          std::function<std::optional<Value>(GradientBuilder&, Value, Value, Value, Value)> rhs,
                          bool broadcast) {
  return [lhs, rhs, broadcast](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value g = args.output_grads[0], x = args.inputs[0], y = args.inputs[1], out = args.outputs[0];
    std::optional<Value> dx = lhs(b, g, x, y, out), dy = rhs(b, g, x, y, out);
    if (broadcast) {
      if (dx) dx = SumTo(b, *dx, x);
      if (dy) dy = SumTo(b, *dy, y);
    }
    return {dx, dy};
  };
}

using Partial = std::function<std::optional<Value>(GradientBuilder&, Value g, Value x, Value y, Value out)>;

// Partial derivatives use the broadcasting ops, which also serve same-shape operands (with a flat loop), so
// one definition serves elemwise_* and broadcast_*.
Value Mul(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_mul", {x, y}); }
Value Div(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_div", {x, y}); }

// Note [Comparison dtypes]
// MXNet 1.x's legacy comparison ops return the inputs' dtype holding 1 or 0 (not bool); Polymix keeps
// that, because MXNet code multiplies masks into float arrays directly.

template <DTypes kAllowed, typename F>
void RegisterPair(const std::string& doc, F f, const Partial& lhs, const Partial& rhs,
                  const std::vector<std::string>& elemwise_names, const std::vector<std::string>& broadcast_names) {
  if (!elemwise_names.empty()) {
    OpDef def = BinaryOpDef(elemwise_names[0], "binary", doc + " Inputs must have the same shape.", kAllowed,
                            BinaryKernel<kAllowed>(elemwise_names[0], f),
                            lhs ? BinaryGradient(lhs, rhs, false) : GradientFn());
    def.aliases.assign(elemwise_names.begin() + 1, elemwise_names.end());
    OpRegistry::Get()->Register(std::move(def));
  }
  OpDef def = BroadcastOpDef(broadcast_names[0], "binary", doc + " Inputs are broadcast together (NumPy rules).",
                             kAllowed, BinaryKernel<kAllowed>(broadcast_names[0], f),
                             lhs ? BinaryGradient(lhs, rhs, true) : GradientFn());
  def.aliases.assign(broadcast_names.begin() + 1, broadcast_names.end());
  OpRegistry::Get()->Register(std::move(def));
}

const Partial kPass = [](GradientBuilder&, Value g, Value, Value, Value) -> std::optional<Value> { return g; };
const Partial kNegate = [](GradientBuilder& b, Value g, Value, Value, Value) -> std::optional<Value> {
  return b.Call1("negative", {g});
};
const Partial kZero = [](GradientBuilder& b, Value, Value x, Value, Value) -> std::optional<Value> {
  return b.Call1("zeros_like", {x});
};
const Partial kZeroRhs = [](GradientBuilder& b, Value, Value, Value y, Value) -> std::optional<Value> {
  return b.Call1("zeros_like", {y});
};

// Registers every binary op at static-initialisation time.
const bool kRegistered = [] {
  RegisterPair<DTypes::kNumeric>("lhs + rhs, elementwise.", [](auto a, auto b) { return a + b; }, kPass, kPass,
                                 {"elemwise_add", "_add", "_plus", "_Plus"}, {"broadcast_add", "broadcast_plus"});
  RegisterPair<DTypes::kNumeric>("lhs - rhs, elementwise.", [](auto a, auto b) { return a - b; }, kPass, kNegate,
                                 {"elemwise_sub", "_sub", "_minus", "_Minus"}, {"broadcast_sub", "broadcast_minus"});
  RegisterPair<DTypes::kNumeric>("lhs * rhs, elementwise.", [](auto a, auto b) { return a * b; },
      [](GradientBuilder& b, Value g, Value, Value y, Value) -> std::optional<Value> { return Mul(b, g, y); },
      [](GradientBuilder& b, Value g, Value x, Value, Value) -> std::optional<Value> { return Mul(b, g, x); },
      {"elemwise_mul", "_mul", "_Mul"}, {"broadcast_mul"});
  RegisterPair<DTypes::kNumeric>("lhs / rhs, elementwise.", [](auto a, auto b) { return a / b; },
      [](GradientBuilder& b, Value g, Value, Value y, Value) -> std::optional<Value> { return Div(b, g, y); },
      [](GradientBuilder& b, Value g, Value, Value y, Value out) -> std::optional<Value> {
        return b.Call1("negative", {Div(b, Mul(b, g, out), y)});
      },
      {"elemwise_div", "_div", "_Div"}, {"broadcast_div"});
  RegisterPair<DTypes::kNumeric>("lhs mod rhs with the divisor's sign (as Python), elementwise.", [](auto a, auto b) { return Mod(a, b); },
      kPass,
      [](GradientBuilder& b, Value g, Value x, Value y, Value) -> std::optional<Value> {
        return b.Call1("negative", {Mul(b, g, b.Call1("floor", {Div(b, x, y)}))});
      },
      {"_mod", "_Mod"}, {"broadcast_mod"});
  RegisterPair<DTypes::kNumeric>("lhs ** rhs, elementwise.",
      [](auto a, auto b) {
        return static_cast<decltype(a)>(std::pow(static_cast<double>(a), static_cast<double>(b)));
      },
      [](GradientBuilder& b, Value g, Value x, Value y, Value out) -> std::optional<Value> {
        // y * x**(y-1) = y * out / x.
        return Mul(b, g, Mul(b, y, b.Call1("broadcast_power", {x, b.Call1("_minus_scalar", {y}, {{"scalar", "1"}})})));
      },
      [](GradientBuilder& b, Value g, Value x, Value, Value out) -> std::optional<Value> {
        return Mul(b, g, Mul(b, out, b.Call1("log", {x})));
      },
      {"_power", "_Power"}, {"broadcast_power"});
  RegisterPair<DTypes::kNumeric>("max(lhs, rhs), elementwise.", [](auto a, auto b) { return a > b ? a : b; },
      [](GradientBuilder& b, Value g, Value x, Value y, Value) -> std::optional<Value> {
        return Mul(b, g, b.Call1("broadcast_greater_equal", {x, y}));
      },
      [](GradientBuilder& b, Value g, Value x, Value y, Value) -> std::optional<Value> {
        return Mul(b, g, b.Call1("broadcast_lesser", {x, y}));
      },
      {"_maximum", "_Maximum"}, {"broadcast_maximum"});
  RegisterPair<DTypes::kNumeric>("min(lhs, rhs), elementwise.", [](auto a, auto b) { return a < b ? a : b; },
      [](GradientBuilder& b, Value g, Value x, Value y, Value) -> std::optional<Value> {
        return Mul(b, g, b.Call1("broadcast_lesser_equal", {x, y}));
      },
      [](GradientBuilder& b, Value g, Value x, Value y, Value) -> std::optional<Value> {
        return Mul(b, g, b.Call1("broadcast_greater", {x, y}));
      },
      {"_minimum", "_Minimum"}, {"broadcast_minimum"});
  RegisterPair<DTypes::kFloat>("sqrt(lhs**2 + rhs**2), elementwise.", [](auto a, auto b) { return std::hypot(a, b); },
      [](GradientBuilder& b, Value g, Value x, Value, Value out) -> std::optional<Value> {
        return Mul(b, g, Div(b, x, out));
      },
      [](GradientBuilder& b, Value g, Value, Value y, Value out) -> std::optional<Value> {
        return Mul(b, g, Div(b, y, out));
      },
      {"_hypot"}, {"broadcast_hypot"});

#define PMX_COMPARISON(SUFFIX, EXPR, ELEMWISE, BROADCAST, ...)                                          \
  RegisterPair<DTypes::kAll>("1 where " #EXPR ", else 0, in the inputs' dtype.",                 \
                             [](auto a, auto b) { return static_cast<decltype(a)>(EXPR); }, kZero, kZeroRhs, \
                             {ELEMWISE}, {BROADCAST, ##__VA_ARGS__});
  PMX_COMPARISON("equal", a == b, "_equal", "broadcast_equal", "equal")
  PMX_COMPARISON("not_equal", a != b, "_not_equal", "broadcast_not_equal", "not_equal")
  PMX_COMPARISON("greater", a > b, "_greater", "broadcast_greater", "greater")
  PMX_COMPARISON("greater_equal", a >= b, "_greater_equal", "broadcast_greater_equal", "greater_equal")
  PMX_COMPARISON("lesser", a < b, "_lesser", "broadcast_lesser", "less")
  PMX_COMPARISON("lesser_equal", a <= b, "_lesser_equal", "broadcast_lesser_equal", "less_equal")
  PMX_COMPARISON("logical_and", (a != 0) && (b != 0), "_logical_and", "broadcast_logical_and")
  PMX_COMPARISON("logical_or", (a != 0) || (b != 0), "_logical_or", "broadcast_logical_or")
  PMX_COMPARISON("logical_xor", (a != 0) != (b != 0), "_logical_xor", "broadcast_logical_xor")
#undef PMX_COMPARISON
  return true;
}();

}  // namespace
}  // namespace ops
}  // namespace pmx

namespace pmx {
namespace ops {
namespace {

PMX_REGISTER_OP(add_n) {
  OpDef def;
  def.name = "add_n";
  def.aliases = {"ElementWiseSum"};
  def.family = "binary";
  def.doc = "Adds all input arguments elementwise; every input has the same shape and dtype.";
  def.inputs = {"args"};
  def.variadic_count_param = "num_args";
  def.params = {{"num_args", ParamType::kInt, "", true, false, {}, "Number of inputs to be summed."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSameShape("add_n", in, out);
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("add_n", DTypes::kNumeric, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    DispatchAllowed<DTypes::kNumeric>("add_n", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          C sum = 0;
          for (const TensorRef& input : in) sum += static_cast<C>(input.As<T>()[i]);
          Store<T, C>(y + i, sum, add);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder&, const GradientArgs& args) -> Grads {
    return Grads(args.inputs.size(), args.output_grads[0]);
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
