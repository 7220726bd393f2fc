#include <gtest/gtest.h>
#include <vector>
#include "core/ops/invoke.h"

namespace pmx {
namespace {

NDArray Arange(const Shape& shape, double start = 0.25) {
  std::vector<float> v(shape.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(start + 0.5 * i);
  return NDArray::FromHostBuffer(v.data(), shape, DType::kFloat32);
}
NDArray Values(const Shape& shape, std::vector<float> v) { return NDArray::FromHostBuffer(v.data(), shape, DType::kFloat32); }
std::vector<float> Host(const NDArray& a) {
  std::vector<float> v(a.shape().size());
  a.CopyToHost(v.data(), v.size() * 4);
  return v;
}

struct Call { std::string op; std::vector<NDArray> inputs; ParamMap params; };

TEST(AddMode, EveryShapeKernelAccumulates) {
  std::vector<Call> calls = {
      {"Reshape", {Arange({2, 3, 4})}, {{"shape", "(-3, -2)"}}},
      {"reshape_like", {Arange({2, 6}), Arange({3, 4})}, {}},
      {"Flatten", {Arange({2, 3, 4})}, {}},
      {"expand_dims", {Arange({2, 3})}, {{"axis", "1"}}},
      {"squeeze", {Arange({2, 1, 3})}, {}},
      {"transpose", {Arange({2, 3, 4})}, {{"axes", "(1, 2, 0)"}}},
      {"SwapAxis", {Arange({2, 3, 4})}, {{"dim1", "0"}, {"dim2", "2"}}},
      {"depth_to_space", {Arange({1, 8, 2, 3})}, {{"block_size", "2"}}},
      {"space_to_depth", {Arange({1, 2, 4, 6})}, {{"block_size", "2"}}},
      {"tile", {Arange({2, 3})}, {{"reps", "(2, 2)"}}},
      {"repeat", {Arange({2, 3})}, {{"repeats", "2"}, {"axis", "0"}}},
      {"reverse", {Arange({2, 3, 4})}, {{"axis", "(0, 2)"}}},
      {"Pad", {Arange({1, 1, 3, 3})}, {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 1, 2, 2, 1)"}}},
      {"_pad_grad", {Arange({1, 1, 6, 6}), Arange({1, 1, 3, 3})}, {{"mode", "edge"}, {"pad_width", "(0, 0, 0, 0, 1, 2, 2, 1)"}}},
      {"diag", {Arange({3})}, {{"k", "1"}}},
      {"diag", {Arange({3, 4})}, {{"k", "-1"}}},
      {"_diag_grad", {Arange({2}), Arange({3, 2})}, {{"k", "0"}}},
      {"slice", {Arange({4, 5})}, {{"begin", "(None, 4)"}, {"end", "(3, 0)"}, {"step", "(2, -2)"}}},
      {"slice_axis", {Arange({4, 5})}, {{"axis", "-1"}, {"begin", "1"}, {"end", "None"}}},
      {"slice_like", {Arange({4, 5}), Arange({2, 3})}, {}},
      {"_slice_like_grad", {Arange({2, 3}), Arange({4, 5})}, {}},
      {"_slice_assign", {Arange({4, 5}), Arange({2, 5}, 9)}, {{"begin", "(1,)"}, {"end", "(3,)"}}},
      {"_slice_assign_scalar", {Arange({4, 5})}, {{"scalar", "7"}, {"begin", "(1,)"}, {"end", "(3,)"}}},
      {"Concat", {Arange({2, 3}), Arange({2, 1})}, {{"num_args", "2"}, {"dim", "1"}}},
      {"stack", {Arange({2, 3}), Arange({2, 3})}, {{"num_args", "2"}, {"axis", "1"}}},
      {"SliceChannel", {Arange({2, 4})}, {{"num_outputs", "2"}}},
      {"_split_v2", {Arange({2, 7})}, {{"indices", "(1, 4)"}}},
      {"_split_like", {Arange({2, 5}), Arange({2, 2}), Arange({2, 3})}, {{"num_args", "3"}}},
      {"SequenceMask", {Arange({3, 2, 2}), Values({2}, {1, 3})}, {{"use_sequence_length", "True"}, {"value", "-2"}}},
      {"SequenceLast", {Arange({3, 2, 2}), Values({2}, {1, 3})}, {{"use_sequence_length", "True"}}},
      {"_sequence_last_grad", {Arange({2, 2}), Arange({3, 2, 2}), Values({2}, {1, 3})}, {{"use_sequence_length", "True"}}},
      {"SequenceReverse", {Arange({3, 2, 2}), Values({2}, {1, 3})}, {{"use_sequence_length", "True"}}},
      {"take", {Arange({4, 3}), Values({3}, {0, 3, 1})}, {}},
      {"_take_grad", {Arange({3, 3}), Values({3}, {0, 3, 0}), Arange({4, 3})}, {}},
      {"batch_take", {Arange({4, 3}), Values({4}, {0, 2, 1, 5})}, {}},
      {"pick", {Arange({4, 3}), Values({4}, {0, 2, 1, 5})}, {}},
      {"_pick_grad", {Arange({4}), Values({4}, {0, 2, 1, 5}), Arange({4, 3})}, {}},
      {"one_hot", {Values({3}, {0, 2, 1})}, {{"depth", "3"}}},
      {"where", {Values({2}, {1, 0}), Arange({2, 2}), Arange({2, 2}, 5)}, {}},
      {"gather_nd", {Arange({3, 4}), Values({2, 2}, {0, 2, 1, 3})}, {}},
      {"_gather_nd_grad", {Arange({2}), Values({2, 2}, {0, 0, 1, 1}), Arange({3, 4})}, {}},
      {"scatter_nd", {Arange({2}), Values({2, 2}, {0, 2, 1, 3})}, {{"shape", "(3, 4)"}}},
      {"_scatter_set_nd", {Arange({3, 4}), Arange({2}, 20), Values({2, 2}, {0, 2, 1, 3})}, {{"shape", "(3, 4)"}}},
      {"_ravel_multi_index", {Values({2, 2}, {0, 2, 1, 3})}, {{"shape", "(3, 4)"}}},
      {"_unravel_index", {Values({2}, {5, 11})}, {{"shape", "(3, 4)"}}},
  };
  for (const Call& call : calls) {
    SCOPED_TRACE(call.op);
    std::vector<NDArray> plain = Invoke(call.op, call.inputs, call.params);
    InvokeOptions options;
    for (const NDArray& out : plain) {
      options.outputs.push_back(NDArray::Full(out.shape(), 1.0));
      options.modes.push_back(WriteMode::kAdd);
    }
    std::vector<NDArray> added = Invoke(call.op, call.inputs, call.params, options);
    ASSERT_EQ(added.size(), plain.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      std::vector<float> want = Host(plain[i]), got = Host(added[i]);
      ASSERT_EQ(want.size(), got.size());
      for (size_t j = 0; j < want.size(); ++j) EXPECT_FLOAT_EQ(got[j], want[j] + 1) << "output " << i << " at " << j;
    }
    // In-place where declared: the output aliases input 0.
    const OpDef& def = OpRegistry::Get()->Lookup(call.op);
    if (!def.inplace.empty() && call.inputs[0].shape() == plain[0].shape()) {
      NDArray target = call.inputs[0].CopyTo(call.inputs[0].device());
      std::vector<NDArray> inputs = call.inputs;
      inputs[0] = target;
      InvokeOptions inplace;
      inplace.outputs = {target};
      inplace.modes = {WriteMode::kInplace};
      Invoke(call.op, inputs, call.params, inplace);
      std::vector<float> want = Host(plain[0]), got = Host(target);
      for (size_t j = 0; j < want.size(); ++j) EXPECT_FLOAT_EQ(got[j], want[j]) << "in place at " << j;
    }
  }
}


TEST(EdgeCases, ZeroSizeAndLargeInputs) {
  std::vector<Call> calls = {
      {"transpose", {Arange({0, 3})}, {}},
      {"slice", {Arange({4, 5})}, {{"begin", "(3,)"}, {"end", "(1,)"}}},
      {"Concat", {Arange({2, 0}), Arange({2, 3})}, {{"num_args", "2"}, {"dim", "1"}}},
      {"take", {Arange({4, 3}), Arange({0})}, {}},
      {"tile", {Arange({2, 3})}, {{"reps", "(0, 2)"}}},
      {"Pad", {Arange({1, 1, 0, 3})}, {{"mode", "constant"}, {"pad_width", "(0, 0, 0, 0, 1, 1, 1, 1)"}}},
      {"repeat", {Arange({2, 3})}, {{"repeats", "0"}}},
      {"transpose", {Arange({64, 513, 7})}, {{"axes", "(2, 0, 1)"}}},
      {"Pad", {Arange({4, 3, 40, 50})}, {{"mode", "edge"}, {"pad_width", "(0, 0, 0, 0, 3, 2, 1, 4)"}}},
      {"_pad_grad", {Arange({4, 3, 45, 55}), Arange({4, 3, 40, 50})}, {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 3, 2, 1, 4)"}}},
      {"_take_grad", {Arange({1000, 70}), Values({1000}, std::vector<float>(1000, 3.0f)), Arange({5, 70})}, {}},
      {"SliceChannel", {Arange({300, 400})}, {{"num_outputs", "4"}, {"axis", "0"}}},
  };
  for (const Call& call : calls) {
    SCOPED_TRACE(call.op);
    std::vector<NDArray> plain = Invoke(call.op, call.inputs, call.params);
    for (const NDArray& out : plain) Host(out);
  }
}

}  // namespace
}  // namespace pmx
