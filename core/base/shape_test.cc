#include "core/base/shape.h"

#include <gtest/gtest.h>

#include "core/base/error.h"

namespace pmx {
namespace {

TEST(ShapeTest, SizeStridesAndPrinting) {
  Shape shape{2, 3, 4};
  EXPECT_EQ(shape.ndim(), 3);
  EXPECT_EQ(shape.size(), 24);
  EXPECT_EQ(shape.Strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(shape.dim(-1), 4);
  EXPECT_EQ(shape.ToString(), "(2, 3, 4)");
  EXPECT_EQ(Shape{5}.ToString(), "(5,)");
  EXPECT_EQ(Shape().ToString(), "()");
  EXPECT_EQ(Shape().size(), 1);
  EXPECT_EQ((Shape{2, 0}).size(), 0);
}

TEST(ShapeTest, BadDimensionsAndAxesAreClearErrors) {
  try {
    Shape({2, -1});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("-1"), std::string::npos);
  }
  try {
    NormalizeAxis(3, 3, "sum");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kIndexError);
    EXPECT_EQ(error.message().rfind("[sum]", 0), 0u);
  }
  EXPECT_EQ(NormalizeAxis(-1, 3, "sum"), 2);
}

}  // namespace
}  // namespace pmx
