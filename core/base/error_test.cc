#include "core/base/error.h"

#include <gtest/gtest.h>

#include <new>

namespace pmx {
namespace {

TEST(ErrorTest, CheckThrowsWithKindAndFormattedMessage) {
  try {
    PMX_CHECK(1 + 1 == 3, kValueError, "[%s] argument '%s' expected %d, given %d", "add", "lhs", 3, 2);
    FAIL() << "PMX_CHECK did not throw";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_EQ(error.message(), "[add] argument 'lhs' expected 3, given 2");
    EXPECT_STREQ(ErrorKindName(error.kind()), "ValueError");
  }
}

TEST(ErrorTest, CheckPassesWhenConditionHolds) { EXPECT_NO_THROW(PMX_CHECK(true, kRuntimeError, "never")); }

TEST(ErrorTest, ForeignExceptionsMapToKinds) {
  auto convert = [](auto thrower) {
    try {
      thrower();
    } catch (...) {
      return CurrentExceptionAsError();
    }
    return Error(ErrorKind::kRuntimeError, "not thrown");
  };
  EXPECT_EQ(convert([] { throw std::bad_alloc(); }).kind(), ErrorKind::kOutOfMemory);
  EXPECT_EQ(convert([] { throw std::out_of_range("x"); }).kind(), ErrorKind::kIndexError);
  EXPECT_EQ(convert([] { throw 42; }).kind(), ErrorKind::kRuntimeError);
  EXPECT_EQ(convert([] { Throw(ErrorKind::kTypeError, "t"); }).kind(), ErrorKind::kTypeError);
}

TEST(ErrorTest, EveryKindHasAName) {
  EXPECT_STREQ(ErrorKindName(ErrorKind::kRuntimeError), "RuntimeError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kTypeError), "TypeError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kIndexError), "IndexError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kNotImplementedError), "NotImplementedError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kOutOfMemory), "OutOfMemory");
}

}  // namespace
}  // namespace pmx
