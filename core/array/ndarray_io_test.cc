#include "core/array/ndarray_io.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/array/internal/test_bytes.h"
#include "core/base/error.h"
#include "core/engine/engine.h"

namespace pmx {
namespace params {
namespace {

using testing::Bytes;

constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16, DType::kUint8,
                                DType::kInt8,    DType::kInt32,   DType::kInt64,   DType::kBool};

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

bool Contains(const Error& error, const std::string& needle) {
  return error.message().find(needle) != std::string::npos;
}

// The raw bytes of an array's data.
std::string RawBytes(const NDArray& array) {
  std::string bytes(array.nbytes(), '\0');
  array.CopyToHost(bytes.data(), bytes.size());
  return bytes;
}

template <typename T>
NDArray FromValues(const std::vector<T>& values, const Shape& shape, DType dtype) {
  return NDArray::FromHostBuffer(values.data(), values.size() * sizeof(T), shape, dtype);
}

std::string TempPath(const std::string& name) {
  const char* directory = std::getenv("TEST_TMPDIR");
  return std::string(directory != nullptr ? directory : "/tmp") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary);
  file << bytes;
}

// The names in `directory` that start with `prefix`.
std::vector<std::string> FilesStartingWith(const std::string& directory, const std::string& prefix) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(directory.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (std::strncmp(entry->d_name, prefix.c_str(), prefix.size()) == 0) names.push_back(entry->d_name);
    }
    closedir(dir);
  }
  return names;
}

// {"arg:w": float32 (2, 2) = [[1, 2], [3, 4]], "aux:b": int64 (3,) = [7, 8, 9]}, written by hand from
// Note [MXNet .params layout].
std::string SmallDictFixture() {
  return Bytes()
      .U64(0x112)  // List magic.
      .U64(0)      // Reserved.
      .U64(2)      // Two arrays.
      // Array 0: arg:w.
      .U32(0xF993fac9)  // V2 magic.
      .I32(0)           // Storage type: dense.
      .I32(2)           // ndim.
      .I64(2)           // dim 0.
      .I64(2)           // dim 1.
      .I32(1)           // Context device type: cpu.
      .I32(0)           // Context device id.
      .I32(0)           // Type flag: float32.
      .F32(1)
      .F32(2)
      .F32(3)
      .F32(4)  // Data.
      // Array 1: aux:b.
      .U32(0xF993fac9)  // V2 magic.
      .I32(0)           // Dense.
      .I32(1)           // ndim.
      .I64(3)           // dim 0.
      .I32(1)
      .I32(0)  // cpu(0).
      .I32(6)  // Type flag: int64.
      .I64(7)
      .I64(8)
      .I64(9)  // Data.
      // Names.
      .U64(2)  // Two names.
      .U64(5)
      .Text("arg:w")
      .U64(5)
      .Text("aux:b")
      .str();
}

TEST(ParamsTest, SavesTheExactMXNetBytes) {
  NDArray w = FromValues<float>({1, 2, 3, 4}, Shape{2, 2}, DType::kFloat32);
  NDArray b = FromValues<int64_t>({7, 8, 9}, Shape{3}, DType::kInt64);
  const std::string expected = SmallDictFixture();
  EXPECT_EQ(expected.size(), 24u + (4 + 4 + 4 + 16 + 8 + 4 + 16) + (4 + 4 + 4 + 8 + 8 + 4 + 24) + 8 + 13 * 2);
  EXPECT_EQ(SaveToBytes({w, b}, {"arg:w", "aux:b"}), expected);

  const std::string path = TempPath("small.params");
  Save(path, {w, b}, {"arg:w", "aux:b"});
  EXPECT_EQ(ReadFile(path), expected);

  ArrayList loaded = Load(path);
  ASSERT_EQ(loaded.arrays.size(), 2u);
  EXPECT_EQ(loaded.names, (std::vector<std::string>{"arg:w", "aux:b"}));
  EXPECT_EQ(loaded.arrays[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(loaded.arrays[0].dtype(), DType::kFloat32);
  EXPECT_EQ(loaded.arrays[0].device(), Device::cpu());
  EXPECT_EQ(RawBytes(loaded.arrays[0]), RawBytes(w));
  EXPECT_EQ(loaded.arrays[1].dtype(), DType::kInt64);
  EXPECT_EQ(RawBytes(loaded.arrays[1]), RawBytes(b));
}

TEST(ParamsTest, RoundTripsEveryDtypeNamedAndUnnamed) {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (DType dtype : kAllDTypes) {
    std::vector<uint8_t> bytes(3 * 5 * DTypeSize(dtype));
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    if (dtype == DType::kBool) {
      for (uint8_t& byte : bytes) byte &= 1;
    }
    arrays.push_back(NDArray::FromHostBuffer(bytes.data(), bytes.size(), Shape{3, 5}, dtype));
    names.push_back(std::string("param_") + DTypeName(dtype));
  }
  for (bool named : {true, false}) {
    SCOPED_TRACE(named ? "named" : "unnamed");
    const std::vector<std::string> used_names = named ? names : std::vector<std::string>{};
    ArrayList loaded = LoadFromBytes(SaveToBytes(arrays, used_names));
    EXPECT_EQ(loaded.names, used_names);
    ASSERT_EQ(loaded.arrays.size(), arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
      SCOPED_TRACE(DTypeName(arrays[i].dtype()));
      EXPECT_EQ(loaded.arrays[i].dtype(), arrays[i].dtype());
      EXPECT_EQ(loaded.arrays[i].shape(), arrays[i].shape());
      EXPECT_EQ(RawBytes(loaded.arrays[i]), RawBytes(arrays[i]));
    }
  }
}

TEST(ParamsTest, RoundTripsScalarsZeroSizeNoneViewsAndEmptyLists) {
  NDArray scalar = FromValues<double>({2.5}, Shape(), DType::kFloat64);
  NDArray empty_rows = NDArray::Zeros(Shape{0, 4}, DType::kInt32);
  NDArray empty_columns = NDArray::Zeros(Shape{3, 0}, DType::kFloat16);
  NDArray base = FromValues<int32_t>({1, 2, 3, 4, 5, 6}, Shape{3, 2}, DType::kInt32);
  NDArray view = base.Slice(1, 3);
  const std::string bytes = SaveToBytes({scalar, empty_rows, empty_columns, NDArray(), view});
  // The scalar is the only V3 record (Note [MXNet .params layout]).
  EXPECT_EQ(bytes.substr(24, 4), Bytes().U32(0xF993faca).str());

  ArrayList loaded = LoadFromBytes(bytes);
  ASSERT_EQ(loaded.arrays.size(), 5u);
  EXPECT_TRUE(loaded.names.empty());
  EXPECT_EQ(loaded.arrays[0].shape(), Shape());
  EXPECT_EQ(RawBytes(loaded.arrays[0]), RawBytes(scalar));
  EXPECT_EQ(loaded.arrays[1].shape(), (Shape{0, 4}));
  EXPECT_EQ(loaded.arrays[1].dtype(), DType::kInt32);
  EXPECT_EQ(loaded.arrays[2].shape(), (Shape{3, 0}));
  EXPECT_EQ(loaded.arrays[2].dtype(), DType::kFloat16);
  EXPECT_TRUE(loaded.arrays[3].is_none());
  EXPECT_EQ(loaded.arrays[4].shape(), (Shape{2, 2}));
  EXPECT_EQ(RawBytes(loaded.arrays[4]), RawBytes(view));

  ArrayList nothing = LoadFromBytes(SaveToBytes({}));
  EXPECT_TRUE(nothing.arrays.empty());
  EXPECT_EQ(SaveToBytes({}), Bytes().U64(0x112).U64(0).U64(0).U64(0).str());
}

TEST(ParamsTest, SaveWaitsForPendingWrites) {
  NDArray array = NDArray::Zeros(Shape{1024});
  for (int i = 1; i <= 20; ++i) array.Fill(i);
  ArrayList loaded = LoadFromBytes(SaveToBytes({array}));
  std::vector<float> values(1024);
  loaded.arrays[0].CopyToHost(values.data(), 4096);
  for (float value : values) ASSERT_EQ(value, 20.0f);
}

TEST(ParamsTest, ReadsV1V3AndLegacyArraysAndGpuContexts) {
  const std::string bytes = Bytes()
                                .U64(0x112)
                                .U64(0)
                                .U64(4)
                                // V1: magic, shape (int32 ndim, int64 dims), context, flag, data.
                                .U32(0xF993fac8)
                                .I32(1)
                                .I64(2)
                                .I32(1)
                                .I32(0)
                                .I32(4)  // int32.
                                .I32(-5)
                                .I32(6)
                                // V3 scalar saved from gpu(1): loads onto cpu.
                                .U32(0xF993faca)
                                .I32(0)
                                .I32(0)
                                .I32(2)
                                .I32(1)
                                .I32(0)  // float32.
                                .F32(0.25f)
                                // Legacy: uint32 ndim, uint32 dims, context, flag, data.
                                .U32(2)
                                .U32(1)
                                .U32(2)
                                .I32(1)
                                .I32(0)
                                .I32(3)  // uint8.
                                .Int(0xab, 1)
                                .Int(0xcd, 1)
                                // V3 with an unknown shape (ndim -1): a none array.
                                .U32(0xF993faca)
                                .I32(0)
                                .I32(-1)
                                .U64(4)
                                .U64(1)
                                .Text("a")
                                .U64(1)
                                .Text("b")
                                .U64(1)
                                .Text("c")
                                .U64(1)
                                .Text("d")
                                .str();
  ArrayList loaded = LoadFromBytes(bytes);
  ASSERT_EQ(loaded.arrays.size(), 4u);
  EXPECT_EQ(loaded.names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(loaded.arrays[0].shape(), Shape{2});
  EXPECT_EQ(RawBytes(loaded.arrays[0]), Bytes().I32(-5).I32(6).str());
  EXPECT_EQ(loaded.arrays[1].shape(), Shape());
  EXPECT_EQ(loaded.arrays[1].device(), Device::cpu());
  EXPECT_EQ(RawBytes(loaded.arrays[1]), Bytes().F32(0.25f).str());
  EXPECT_EQ(loaded.arrays[2].shape(), (Shape{1, 2}));
  EXPECT_EQ(loaded.arrays[2].dtype(), DType::kUint8);
  EXPECT_EQ(RawBytes(loaded.arrays[2]), "\xab\xcd");
  EXPECT_TRUE(loaded.arrays[3].is_none());
}

TEST(ParamsTest, TruncationAtEveryOffsetIsAValueError) {
  const std::string full = SmallDictFixture();
  for (size_t length = 0; length < full.size(); ++length) {
    try {
      LoadFromBytes(std::string_view(full).substr(0, length));
      ADD_FAILURE() << "a file cut at " << length << " bytes loaded";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kValueError) << length << ": " << error.message();
      EXPECT_TRUE(Contains(error, "[load] '<bytes>'")) << error.message();
      EXPECT_TRUE(Contains(error, "byte offset")) << error.message();
    }
  }
  // The same through a file: the message names it.
  const std::string path = TempPath("truncated.params");
  WriteFile(path, full.substr(0, 70));  // Array 0's data starts at byte 64 and needs 16 bytes.
  Error error = Catch([&] { Load(path); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "'" + path + "'")) << error.message();
  EXPECT_TRUE(Contains(error, "truncated in the data of array #0 (float32, shape (2, 2)): expected 16 bytes, only 6 "
                              "remain (byte offset 64)"))
      << error.message();
}

TEST(ParamsTest, CorruptBytesNeverCrash) {
  // Every byte replaced by a few values: the load either succeeds or throws a pmx::Error.
  const std::string full = SmallDictFixture();
  int failures = 0;
  for (size_t offset = 0; offset < full.size(); ++offset) {
    for (int value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      std::string corrupt = full;
      corrupt[offset] = static_cast<char>(value);
      try {
        LoadFromBytes(corrupt);
      } catch (const Error& error) {
        ++failures;
        EXPECT_TRUE(error.kind() == ErrorKind::kValueError || error.kind() == ErrorKind::kNotImplementedError)
            << error.message();
      }
    }
  }
  EXPECT_GT(failures, 100);
}

TEST(ParamsTest, CorruptHeadersNameTheField) {
  Error error = Catch([] { LoadFromBytes("not a params file at all"); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "not an MXNet NDArray file")) << error.message();

  std::string bad_names = SmallDictFixture();
  bad_names.replace(bad_names.size() - 34, 8, Bytes().U64(1).str());  // Name count 1 for 2 arrays.
  error = Catch([&] { LoadFromBytes(bad_names); });
  EXPECT_TRUE(Contains(error, "name count is 1: expected 0 (an unnamed list) or 2")) << error.message();

  std::string bad_flag = SmallDictFixture();
  bad_flag.replace(24 + 36, 4, Bytes().I32(42).str());  // Array 0's type flag.
  error = Catch([&] { LoadFromBytes(bad_flag); });
  EXPECT_TRUE(Contains(error, "array #0 has type flag 42")) << error.message();
  EXPECT_TRUE(Contains(error, "byte offset 60")) << error.message();
}

TEST(ParamsTest, SparseArraysAreNotImplemented) {
  const std::string bytes = Bytes().U64(0x112).U64(0).U64(1).U32(0xF993fac9).I32(2).Text(std::string(64, '\0')).str();
  Error error = Catch([&] { LoadFromBytes(bytes); });
  EXPECT_EQ(error.kind(), ErrorKind::kNotImplementedError);
  EXPECT_TRUE(Contains(error, "sparse storage type csr")) << error.message();
}

TEST(ParamsTest, SaveArgumentErrors) {
  NDArray a = NDArray::Zeros(Shape{2});
  Error error = Catch([&] { SaveToBytes({a, a}, {"only_one"}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[save] got 1 names for 2 arrays")) << error.message();

  error = Catch([&] { Save(TempPath("no/such/directory/x.params"), {a}); });
  EXPECT_EQ(error.kind(), ErrorKind::kRuntimeError);
  EXPECT_TRUE(Contains(error, "no/such/directory")) << error.message();

  error = Catch([&] { Load(TempPath("missing.params")); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[load] cannot open")) << error.message();
  EXPECT_TRUE(Contains(error, "missing.params")) << error.message();

  error = Catch([&] { Load(TempPath("")); });  // A directory.
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
}

TEST(ParamsTest, AFailedSaveKeepsTheOldFileAndLeavesNoTemporary) {
  const std::string directory = TempPath("atomic");
  ASSERT_EQ(std::system(("mkdir -p " + directory).c_str()), 0);
  const std::string path = directory + "/model.params";
  NDArray good = NDArray::Ones(Shape{3});
  Save(path, {good}, {"w"});
  const std::string before = ReadFile(path);

  // The second array fails in the engine, so Save throws after writing part of the data.
  NDArray broken = NDArray::Zeros(Shape{1000});
  Engine::Get()->PushSync([](RunContext) { throw std::runtime_error("bad kernel"); }, Device::cpu(), {},
                          {broken.var()}, FnProperty::kNormal, 0, "broken_op");
  Error error = Catch([&] { Save(path, {good, broken}, {"w", "b"}); });
  EXPECT_TRUE(Contains(error, "bad kernel")) << error.message();
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_EQ(FilesStartingWith(directory, "model.params"), std::vector<std::string>{"model.params"});
  try {
    Engine::Get()->WaitForAll();
  } catch (const Error&) {
  }

  // A successful save replaces the file.
  Save(path, {good, good}, {"w", "v"});
  EXPECT_EQ(Load(path).names, (std::vector<std::string>{"w", "v"}));
  EXPECT_EQ(FilesStartingWith(directory, "model.params"), std::vector<std::string>{"model.params"});
}

}  // namespace
}  // namespace params
}  // namespace pmx
