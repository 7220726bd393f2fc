#include "core/ops/params.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/base/error.h"
#include "core/ops/op.h"

namespace pmx {
namespace {

std::vector<ParamDef> PoolingLikeParams() {
  return {
      {"kernel", ParamType::kShape, "()", false, false, {}, "Pooling window."},
      {"pool_type", ParamType::kEnum, "max", false, false, {"avg", "max", "sum", "lp"}, "Reduction."},
      {"global_pool", ParamType::kBool, "False", false, false, {}, "Pool over the whole map."},
      {"p_value", ParamType::kInt, "None", false, true, {}, "Exponent of lp pooling."},
      {"eps", ParamType::kFloat, "1e-5", false, false, {}, "Epsilon."},
      {"dtype", ParamType::kDType, "float32", false, false, {}, "Output type."},
      {"num_hidden", ParamType::kInt, "", true, false, {}, "Required width."},
  };
}

TEST(ParamsTest, ParsesMXNetSpellingsAndFillsDefaults) {
  OpParams params = OpParams::Parse("Pooling", PoolingLikeParams(),
                                    {{"kernel", "(3, 3)"}, {"global_pool", "true"}, {"num_hidden", "10L"},
                                     {"__lr_mult__", "2"}});
  EXPECT_EQ(params.Ints("kernel"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(params.Str("pool_type"), "max");
  EXPECT_TRUE(params.Bool("global_pool"));
  EXPECT_TRUE(params.IsNone("p_value"));
  EXPECT_DOUBLE_EQ(params.Float("eps"), 1e-5);
  EXPECT_EQ(params.Type("dtype"), DType::kFloat32);
  EXPECT_EQ(params.Int("num_hidden"), 10);
}

TEST(ParamsTest, TupleSpellings) {
  ParamDef def{"axes", ParamType::kShape, "()", false, false, {}, ""};
  EXPECT_EQ(std::get<std::vector<int64_t>>(ParseParamValue("op", def, "[1,2]")), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(ParseParamValue("op", def, "(2,)")), (std::vector<int64_t>{2}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(ParseParamValue("op", def, "4")), (std::vector<int64_t>{4}));
  EXPECT_TRUE(std::get<std::vector<int64_t>>(ParseParamValue("op", def, "()")).empty());
  EXPECT_EQ(FormatParamValue(std::vector<int64_t>{2}), "(2,)");
  EXPECT_EQ(FormatParamValue(std::vector<int64_t>{2, 3}), "(2, 3)");
  ParamDef real{"scale", ParamType::kFloat, "", true, false, {}, ""};
  EXPECT_TRUE(std::isinf(std::get<double>(ParseParamValue("op", real, "-inf"))));
}

TEST(ParamsTest, FormattingRoundTrips) {
  OpParams params = OpParams::Parse("Pooling", PoolingLikeParams(), {{"num_hidden", "7"}, {"eps", "0.1"}});
  OpParams again = OpParams::Parse("Pooling", PoolingLikeParams(), params.ToStrings());
  EXPECT_EQ(again.ToStrings(), params.ToStrings());
  EXPECT_DOUBLE_EQ(again.Float("eps"), 0.1);
}

void ExpectError(const ParamMap& given, ErrorKind kind, const std::string& fragment) {
  try {
    OpParams::Parse("Pooling", PoolingLikeParams(), given);
    FAIL() << "no error for " << fragment;
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), kind);
    EXPECT_EQ(error.message().rfind("[Pooling]", 0), 0u) << error.message();
    EXPECT_NE(error.message().find(fragment), std::string::npos) << error.message();
  }
}

TEST(ParamsTest, BadInputIsAClearError) {
  ExpectError({}, ErrorKind::kValueError, "required parameter 'num_hidden'");
  ExpectError({{"num_hidden", "ten"}}, ErrorKind::kValueError, "expected an integer");
  ExpectError({{"num_hidden", "1"}, {"pool_type", "median"}}, ErrorKind::kValueError, "'avg', 'max'");
  ExpectError({{"num_hidden", "1"}, {"kernal", "(2,2)"}}, ErrorKind::kValueError, "unknown parameter 'kernal'");
  ExpectError({{"num_hidden", "1"}, {"kernel", "(2,x)"}}, ErrorKind::kValueError, "tuple of integers");
  ExpectError({{"num_hidden", "1"}, {"dtype", "complex"}}, ErrorKind::kValueError, "dtype name");
}

TEST(RegistryTest, RegistersLooksUpAndDescribes) {
  OpDef def;
  def.name = "test_identity_for_registry";
  def.aliases = {"_test_identity_alias"};
  def.doc = "Returns its input.";
  def.inputs = {"data"};
  def.params = {{"scale", ParamType::kFloat, "1.0", false, false, {}, "Unused."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    (*out)[0] = (*in)[0];
    return (*out)[0].has_value();
  };
  OpRegistry::Get()->Register(def);
  EXPECT_EQ(&OpRegistry::Get()->Lookup("_test_identity_alias"), OpRegistry::Get()->Find(def.name));
  EXPECT_THROW(OpRegistry::Get()->Register(def), Error);
  EXPECT_THROW(OpRegistry::Get()->Lookup("no_such_op"), Error);
  const std::string json = OpRegistry::Get()->SchemaJson();
  EXPECT_NE(json.find("\"test_identity_for_registry\""), std::string::npos);
  EXPECT_NE(json.find("\"scale\""), std::string::npos);
}

}  // namespace
}  // namespace pmx
