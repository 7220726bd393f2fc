// Higher-order gradients: a backward pass run with create_graph is itself recorded, so its gradients can be
// differentiated again. Checked against finite differences of the first gradient and closed forms.
#include <cmath>
#include <string>
#include <vector>

#include "core/autograd/autograd.h"
#include "core/autograd/internal/test_util.h"
#include "core/base/error.h"
#include "gtest/gtest.h"

namespace pmx {
namespace autograd {
namespace {

using testing::Array;
using testing::ExpectClose;
using testing::FiniteDifference;
using testing::ToVector;
using testing::Total;
using testing::Values;

NDArray Call(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params = {}) {
  return autograd::Invoke1(op, inputs, params);
}

NDArray Sum(const NDArray& x) { return Call("sum", {x}); }

// sum(x), recorded (a head for the next order of differentiation).
NDArray RecordedSum(const NDArray& x) {
  RecordScope record;
  return Sum(x);
}

NDArray Mul(const NDArray& a, const NDArray& b) { return Call("elemwise_mul", {a, b}); }

NDArray Add(const NDArray& a, const NDArray& b) { return Call("elemwise_add", {a, b}); }

// sum(sin(x) * x^3)
NDArray SinCubic(const NDArray& x) {
  return Sum(Mul(Call("sin", {x}), Call("_power_scalar", {x}, {{"scalar", "3"}})));
}

// sum(x * x * y + exp(x * y))
NDArray Mixed(const NDArray& x, const NDArray& y) {
  return Sum(Add(Mul(Mul(x, x), y), Call("exp", {Mul(x, y)})));
}

// The first gradient of `f` at `arguments` with respect to argument `which`, computed by recording on fresh
// variables; with create_graph the result stays connected to them.
std::vector<NDArray> FirstGradient(const std::function<NDArray(const std::vector<NDArray>&)>& f,
                                   std::vector<NDArray>* arguments, int which, bool create_graph) {
  std::vector<NDArray*> pointers;
  for (NDArray& argument : *arguments) pointers.push_back(&argument);
  MarkVariables(pointers, std::vector<NDArray>(arguments->size()));
  RecordScope record;
  const NDArray head = f(*arguments);
  return Grad({head}, {(*arguments)[which]}, {}, /*retain_graph=*/create_graph, create_graph);
}

TEST(HigherOrder, SecondDerivativeOfSinTimesCube) {
  const std::vector<double> values = Values(5, -1.5, 1.5, 21);
  std::vector<NDArray> arguments = {Array(values, Shape({5}))};
  auto f = [](const std::vector<NDArray>& a) { return SinCubic(a[0]); };
  NDArray first = FirstGradient(f, &arguments, 0, /*create_graph=*/true).at(0);
  EXPECT_TRUE(InGraph(first));
  const NDArray second = Grad({RecordedSum(first)}, {arguments[0]}).at(0);

  // d/dx_i of sum(first gradient), by central differences of the first gradient (computed without create_graph).
  const std::vector<double> expected = FiniteDifference(
      [&](const std::vector<NDArray>& a) {
        std::vector<NDArray> copy = a;
        return Total(FirstGradient(f, &copy, 0, false).at(0));
      },
      {Array(values, Shape({5}))}, 0, 1e-5);
  ExpectClose(ToVector(second), expected, 1e-6, "finite differences of the first gradient");

  std::vector<double> closed_form;
  for (double x : values) {
    closed_form.push_back(-std::sin(x) * x * x * x + 6 * std::cos(x) * x * x + 6 * std::sin(x) * x);
  }
  ExpectClose(ToVector(second), closed_form, 1e-10, "closed form");
}

TEST(HigherOrder, MixedSecondDerivative) {
  const std::vector<double> xs = Values(4, -1, 1, 22), ys = Values(4, -1, 1, 23);
  std::vector<NDArray> arguments = {Array(xs, Shape({2, 2})), Array(ys, Shape({2, 2}))};
  auto f = [](const std::vector<NDArray>& a) { return Mixed(a[0], a[1]); };
  const NDArray grad_x = FirstGradient(f, &arguments, 0, /*create_graph=*/true).at(0);
  const NDArray mixed = Grad({RecordedSum(grad_x)}, {arguments[1]}).at(0);
  const std::vector<double> expected = FiniteDifference(
      [&](const std::vector<NDArray>& a) {
        std::vector<NDArray> copy = a;
        return Total(FirstGradient(f, &copy, 0, false).at(0));
      },
      {Array(xs, Shape({2, 2})), Array(ys, Shape({2, 2}))}, 1, 1e-5);
  ExpectClose(ToVector(mixed), expected, 1e-6, "d/dy sum(df/dx)");
  std::vector<double> closed_form;  // d/dy (2xy + y exp(xy)) = 2x + exp(xy) + xy exp(xy)
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i], y = ys[i];
    closed_form.push_back(2 * x + std::exp(x * y) * (1 + x * y));
  }
  ExpectClose(ToVector(mixed), closed_form, 1e-10, "closed form");
}

TEST(HigherOrder, GradientsThatUseForwardOutputs) {
  // tanh's gradient is written with its output y: (1 - y^2) g. Its second derivative needs y's own graph.
  const std::vector<double> values = Values(6, -1.5, 1.5, 24);
  std::vector<NDArray> arguments = {Array(values, Shape({6}))};
  auto f = [](const std::vector<NDArray>& a) { return Sum(Call("tanh", {a[0]})); };
  const NDArray first = FirstGradient(f, &arguments, 0, true).at(0);
  const NDArray second = Grad({RecordedSum(first)}, {arguments[0]}).at(0);
  std::vector<double> closed_form;
  for (double x : values) closed_form.push_back(-2 * std::tanh(x) * (1 - std::tanh(x) * std::tanh(x)));
  ExpectClose(ToVector(second), closed_form, 1e-10, "-2 tanh (1 - tanh^2)");
}

TEST(HigherOrder, ThirdDerivative) {
  const std::vector<double> values = {0.5, -1.25, 2};
  std::vector<NDArray> arguments = {Array(values, Shape({3}))};
  auto f = [](const std::vector<NDArray>& a) { return Sum(Call("_power_scalar", {a[0]}, {{"scalar", "4"}})); };
  const NDArray first = FirstGradient(f, &arguments, 0, true).at(0);
  const NDArray second = Grad({RecordedSum(first)}, {arguments[0]}, {}, true, true).at(0);
  const NDArray third = Grad({RecordedSum(second)}, {arguments[0]}).at(0);
  std::vector<double> closed_form;
  for (double x : values) closed_form.push_back(24 * x);
  ExpectClose(ToVector(third), closed_form, 1e-10, "24 x");
}

TEST(HigherOrder, BackwardWithCreateGraphPutsTheBufferInTheGraph) {
  NDArray x = Array({0.5, -1, 2}, Shape({3}));
  MarkVariables({&x}, {NDArray()});
  NDArray head;
  {
    RecordScope record;
    head = Sum(Call("_power_scalar", {x}, {{"scalar", "3"}}));
  }
  const NDArray buffer = GradOf(x);
  Backward({head}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  const NDArray grad = GradOf(x);
  EXPECT_TRUE(grad.SharesChunkWith(buffer)) << "the buffer keeps its memory";
  EXPECT_TRUE(InGraph(grad));
  ExpectClose(ToVector(grad), {0.75, 3, 12}, 1e-12, "3 x^2");
  const NDArray second = Grad({RecordedSum(grad)}, {x}).at(0);
  ExpectClose(ToVector(second), {3, -6, 12}, 1e-12, "6 x");
  // A plain backward afterwards writes the buffer again and takes it out of the graph.
  {
    RecordScope record;
    head = Sum(Call("_power_scalar", {x}, {{"scalar", "3"}}));
  }
  Backward({head});
  EXPECT_FALSE(InGraph(GradOf(x)));
  ExpectClose(ToVector(GradOf(x)), {0.75, 3, 12}, 1e-12, "3 x^2 again");
}

TEST(HigherOrder, CreateGraphWithoutRetainingTheForwardGraphFailsClearly) {
  std::vector<NDArray> arguments = {Array({0.5, 1}, Shape({2}))};
  MarkVariables({&arguments[0]}, {NDArray()});
  NDArray first;
  {
    RecordScope record;
    const NDArray head = SinCubic(arguments[0]);
    first = Grad({head}, {arguments[0]}, {}, /*retain_graph=*/false, /*create_graph=*/true).at(0);
  }
  try {
    Grad({RecordedSum(first)}, {arguments[0]});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("retain_graph"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace autograd
}  // namespace pmx
