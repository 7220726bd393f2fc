#include "core/array/internal/params_format.h"

#include <gtest/gtest.h>

#include "core/array/internal/test_bytes.h"
#include "core/base/error.h"

namespace pmx {
namespace params_format {
namespace {

using testing::Bytes;

// Runs `fn` and returns the kind and message of the pmx::Error it throws.
template <typename Fn>
Error Catch(Fn&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected an Error";
  return Error(ErrorKind::kRuntimeError, "no error");
}

TEST(ByteWriterTest, WritesLittleEndian) {
  std::string out;
  ByteWriter writer(&out);
  writer.WriteU32(0xF993fac9);
  writer.WriteI32(-2);
  writer.WriteU64(0x112);
  writer.WriteI64(-1);
  EXPECT_EQ(out, Bytes().U32(0xF993fac9).I32(-2).U64(0x112).I64(-1).str());
  EXPECT_EQ(out.substr(0, 4), std::string("\xc9\xfa\x93\xf9", 4));
}

TEST(ByteReaderTest, ReadsWhatWasWritten) {
  const std::string bytes = Bytes().U32(7).I32(-3).U64(1ull << 40).I64(-5).str();
  ByteReader reader(bytes, "<bytes>");
  EXPECT_EQ(reader.ReadU32("a"), 7u);
  EXPECT_EQ(reader.ReadI32("b"), -3);
  EXPECT_EQ(reader.ReadU64("c"), 1ull << 40);
  EXPECT_EQ(reader.ReadI64("d"), -5);
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ByteReaderTest, ShortReadIsValueErrorWithOffsetAndField) {
  const std::string bytes = Bytes().U32(1).Int(0, 3).str();
  ByteReader reader(bytes, "model.params");
  reader.ReadU32("first");
  Error error = Catch([&] { reader.ReadU32("type flag"); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_NE(error.message().find("model.params"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("type flag"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("byte offset 4"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("expected 4 more bytes, only 3 remain"), std::string::npos) << error.message();
}

TEST(ArrayHeaderTest, WritesV2ForArraysAndV3ForScalars) {
  std::string out;
  ByteWriter writer(&out);
  WriteArrayHeader(writer, Shape{2, 3}, DType::kInt32);
  EXPECT_EQ(out, Bytes()
                     .U32(0xF993fac9)  // V2 magic.
                     .I32(0)           // Dense storage.
                     .I32(2)           // ndim.
                     .I64(2)
                     .I64(3)  // Dims.
                     .I32(1)
                     .I32(0)  // cpu(0).
                     .I32(4)  // int32.
                     .str());
  out.clear();
  WriteArrayHeader(writer, Shape(), DType::kFloat64);
  EXPECT_EQ(out, Bytes().U32(0xF993faca).I32(0).I32(0).I32(1).I32(0).I32(1).str());
  out.clear();
  WriteArrayHeader(writer, Shape(), DType::kFloat32, /*none=*/true);
  EXPECT_EQ(out, Bytes().U32(0xF993fac9).I32(0).I32(0).str());
}

TEST(ArrayHeaderTest, ReadsEveryVersion) {
  {  // V1: no storage type.
    const std::string bytes = Bytes().U32(0xF993fac8).I32(1).I64(3).I32(2).I32(1).I32(0).Text("abcdefghijkl").str();
    ByteReader reader(bytes, "<bytes>");
    ArrayHeader header = ReadArrayHeader(reader, 0);
    EXPECT_EQ(header.version, kArrayMagicV1);
    EXPECT_FALSE(header.none);
    EXPECT_EQ(header.shape, Shape{3});
    EXPECT_EQ(header.dtype, DType::kFloat32);
    EXPECT_EQ(header.device_type, 2);
    EXPECT_EQ(header.device_id, 1);
    EXPECT_EQ(header.data_bytes, 12u);
    EXPECT_EQ(reader.remaining(), 12u);
  }
  {  // Legacy: the first word is ndim, dims are uint32.
    const std::string bytes = Bytes().U32(2).U32(2).U32(1).I32(1).I32(0).I32(6).I64(42).I64(43).str();
    ByteReader reader(bytes, "<bytes>");
    ArrayHeader header = ReadArrayHeader(reader, 0);
    EXPECT_EQ(header.version, 0u);
    EXPECT_EQ(header.shape, (Shape{2, 1}));
    EXPECT_EQ(header.dtype, DType::kInt64);
    EXPECT_EQ(header.data_bytes, 16u);
  }
  {  // V3 scalar.
    const std::string bytes = Bytes().U32(0xF993faca).I32(0).I32(0).I32(1).I32(0).I32(3).Text("x").str();
    ByteReader reader(bytes, "<bytes>");
    ArrayHeader header = ReadArrayHeader(reader, 0);
    EXPECT_FALSE(header.none);
    EXPECT_EQ(header.shape, Shape());
    EXPECT_EQ(header.dtype, DType::kUint8);
    EXPECT_EQ(header.data_bytes, 1u);
  }
  {  // V3 unknown shape: ndim -1 and nothing after it.
    const std::string bytes = Bytes().U32(0xF993faca).I32(0).I32(-1).str();
    ByteReader reader(bytes, "<bytes>");
    EXPECT_TRUE(ReadArrayHeader(reader, 0).none);
    EXPECT_EQ(reader.remaining(), 0u);
  }
  {  // V3 unknown dim: the dims are read, nothing else.
    const std::string bytes = Bytes().U32(0xF993faca).I32(0).I32(2).I64(-1).I64(3).str();
    ByteReader reader(bytes, "<bytes>");
    EXPECT_TRUE(ReadArrayHeader(reader, 0).none);
    EXPECT_EQ(reader.remaining(), 0u);
  }
  {  // V2 ndim 0: MXNet's none array.
    const std::string bytes = Bytes().U32(0xF993fac9).I32(0).I32(0).str();
    ByteReader reader(bytes, "<bytes>");
    EXPECT_TRUE(ReadArrayHeader(reader, 0).none);
  }
  {  // V2 zero-size array: a context and a type flag, no data.
    const std::string bytes = Bytes().U32(0xF993fac9).I32(0).I32(2).I64(4).I64(0).I32(1).I32(0).I32(0).str();
    ByteReader reader(bytes, "<bytes>");
    ArrayHeader header = ReadArrayHeader(reader, 0);
    EXPECT_EQ(header.shape, (Shape{4, 0}));
    EXPECT_EQ(header.data_bytes, 0u);
  }
}

TEST(ArrayHeaderTest, RejectsCorruptFields) {
  struct Case {
    std::string bytes;
    ErrorKind kind;
    const char* needle;
  };
  const Case cases[] = {
      {Bytes().U32(0xF993fac9).I32(1).str(), ErrorKind::kNotImplementedError, "row_sparse"},
      {Bytes().U32(0xF993fac9).I32(2).str(), ErrorKind::kNotImplementedError, "csr"},
      {Bytes().U32(0xF993fac9).I32(9).str(), ErrorKind::kValueError, "storage type 9"},
      {Bytes().U32(0xF993fac9).I32(0).I32(-2).str(), ErrorKind::kValueError, "ndim -2"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1000).str(), ErrorKind::kValueError, "ndim 1000"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1).I64(-4).str(), ErrorKind::kValueError, "dimension 0 = -4"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1).I64(1).I32(7).I32(0).I32(0).str(), ErrorKind::kValueError,
       "device type 7"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1).I64(1).I32(1).I32(0).I32(99).str(), ErrorKind::kValueError,
       "type flag 99"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1).I64(1).I32(1).I32(0).I32(10).str(), ErrorKind::kNotImplementedError,
       "type flag 10"},
      {Bytes().U32(0xF993fac9).I32(0).I32(1).I64(3).I32(1).I32(0).I32(0).U32(0).str(), ErrorKind::kValueError,
       "expected 12 bytes, only 4 remain"},
      {Bytes().U32(0xF993fac9).I32(0).I32(2).I64(1ll << 62).I64(1ll << 62).I32(1).I32(0).I32(0).str(),
       ErrorKind::kValueError, "overflows"},
      {Bytes().U32(0x12345678).str(), ErrorKind::kValueError, "expected an array magic"},
  };
  for (const Case& test : cases) {
    ByteReader reader(test.bytes, "bad.params");
    Error error = Catch([&] { ReadArrayHeader(reader, 3); });
    EXPECT_EQ(error.kind(), test.kind) << error.message();
    EXPECT_NE(error.message().find(test.needle), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("bad.params"), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("#3"), std::string::npos) << error.message();
  }
}

TEST(ListTest, HeaderAndNames) {
  std::string out;
  ByteWriter writer(&out);
  WriteListHeader(writer, 0);
  WriteNames(writer, {"arg:w", ""});
  EXPECT_EQ(out, Bytes().U64(0x112).U64(0).U64(0).U64(2).U64(5).Text("arg:w").U64(0).str());

  const std::string names = Bytes().U64(2).U64(1).Text("a").U64(2).Text("bc").str();
  ByteReader reader(names, "<bytes>");
  EXPECT_EQ(ReadNames(reader, 2), (std::vector<std::string>{"a", "bc"}));
}

TEST(ListTest, RejectsBadMagicCountsAndNames) {
  {
    const std::string bytes = Bytes().U64(0x113).U64(0).U64(0).str();
    ByteReader reader(bytes, "x.params");
    Error error = Catch([&] { ReadListHeader(reader); });
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("list magic is 0x113, expected 0x112"), std::string::npos) << error.message();
  }
  {
    const std::string bytes = Bytes().U64(0x112).U64(0).U64(1ull << 60).str();
    ByteReader reader(bytes, "x.params");
    Error error = Catch([&] { ReadListHeader(reader); });
    EXPECT_NE(error.message().find("array count"), std::string::npos) << error.message();
  }
  {
    const std::string bytes = Bytes().U64(3).str();
    ByteReader reader(bytes, "x.params");
    Error error = Catch([&] { ReadNames(reader, 2); });
    EXPECT_NE(error.message().find("name count is 3: expected 0"), std::string::npos) << error.message();
  }
  {
    const std::string bytes = Bytes().U64(1).U64(1ull << 62).str();
    ByteReader reader(bytes, "x.params");
    Error error = Catch([&] { ReadNames(reader, 1); });
    EXPECT_NE(error.message().find("name #0 has length"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace params_format
}  // namespace pmx
