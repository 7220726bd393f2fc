// The byte layout of MXNet's NDArray list files (.params), on plain bytes: no NDArray, no engine.
// core/array/ndarray_io.h moves arrays through it; see Note [MXNet .params layout].
#ifndef POLYMIX_CORE_ARRAY_INTERNAL_PARAMS_FORMAT_H_
#define POLYMIX_CORE_ARRAY_INTERNAL_PARAMS_FORMAT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/dtype.h"
#include "core/base/shape.h"

namespace pmx {
namespace params_format {

// Note [MXNet .params layout]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Everything is little-endian, with no padding (MXNet 1.9.1, src/ndarray/ndarray.cc and
// include/mxnet/tuple.h; dmlc::Stream writes vectors as a uint64 count followed by the elements):
//
//   list:   uint64 kListMagic (0x112), uint64 reserved (0), uint64 array count, the arrays,
//           uint64 name count (0 for an unnamed list, else the array count), each name as uint64
//           length + bytes (no terminator).
//   array:  V2 (0xF993fac9):  uint32 magic, int32 storage type, shape, [context, int32 type flag, data]
//           V3 (0xF993faca):  the same, written by MXNet under NumPy shape semantics
//           V1 (0xF993fac8):  uint32 magic, shape, [context, type flag, data] (no storage type)
//           legacy (no magic): uint32 ndim, ndim uint32 dims, [context, type flag, data]
//   shape:  int32 ndim, then ndim int64 dims (V1/V2/V3).
//   context: int32 device type (1 cpu, 2 gpu, 3 cpu_pinned, 5 cpu_shared), int32 device id.
//   data:   the elements, row-major, size() * DTypeSize bytes.
//
// The bracketed part is absent when the shape says "no array" (MXNet's none NDArray): ndim 0 in
// V1/V2/legacy, where MXNet's classic shapes used ndim 0 for "unknown"; ndim -1 or any dim -1 in V3,
// whose NumPy semantics make ndim 0 a scalar. Sparse storage types (1 row_sparse, 2 csr) insert a
// storage shape and auxiliary arrays; Polymix reads only dense (0) arrays.
//
// Writing: an array with ndim >= 1 is written as V2, exactly what MXNet 1.x writes by default, so
// every MXNet 1.x can read it. V2 cannot express a scalar (ndim 0 would read back as "no array"), so
// a scalar is written as V3, as MXNet does under npx.set_np(); MXNet reads such a file only with
// NumPy semantics on. Polymix reads every version in one file regardless.

// The list magic, MXNet's kMXAPINDArrayListMagic.
constexpr uint64_t kListMagic = 0x112;
// The array magic of V1 (int64 dims, no storage type).
constexpr uint32_t kArrayMagicV1 = 0xF993fac8;
// The array magic of V2 (with storage type).
constexpr uint32_t kArrayMagicV2 = 0xF993fac9;
// The array magic of V3 (NumPy shape semantics).
constexpr uint32_t kArrayMagicV3 = 0xF993faca;
// The operator name that prefixes errors while reading.
constexpr const char* kLoadOp = "load";
// The operator name that prefixes errors while writing.
constexpr const char* kSaveOp = "save";

// Reads little-endian fields from memory or from an open file of known size; every short read or
// corrupt field is a ValueError naming the source, the byte offset and the field.
class ByteReader {
 public:
  // Reads `bytes` (which must outlive the reader); `source` names them in errors.
  ByteReader(std::string_view bytes, std::string source);
  // Reads `size` bytes from `file` (not owned), positioned at its start; `source` is its path.
  ByteReader(std::FILE* file, uint64_t size, std::string source);

  // Bytes consumed so far.
  uint64_t offset() const { return offset_; }
  // Bytes left to read.
  uint64_t remaining() const { return size_ - offset_; }
  // The name used in errors: the path, or "<bytes>".
  const std::string& source() const { return source_; }

  // Copies the next `bytes` bytes into `destination`; ValueError when fewer remain.
  void Read(void* destination, uint64_t bytes, const char* field);
  // Skips `bytes` bytes; ValueError when fewer remain.
  void Skip(uint64_t bytes, const char* field);
  // Reads a little-endian uint32.
  uint32_t ReadU32(const char* field);
  // Reads a little-endian int32.
  int32_t ReadI32(const char* field);
  // Reads a little-endian uint64.
  uint64_t ReadU64(const char* field);
  // Reads a little-endian int64.
  int64_t ReadI64(const char* field);
  // Throws ValueError unless `bytes` more bytes remain.
  void Require(uint64_t bytes, const char* field) const;
  // Throws a ValueError "[load] '<source>': <detail> (byte offset <at>)".
  [[noreturn]] void Fail(uint64_t at, const std::string& detail) const;

 private:
  std::string_view memory_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  std::string source_;
};

// Appends little-endian fields to a string or to an open file; a failed write is a RuntimeError.
class ByteWriter {
 public:
  // Appends to `*out` (not owned).
  explicit ByteWriter(std::string* out);
  // Writes to `file` (not owned); `destination` names it in errors.
  ByteWriter(std::FILE* file, std::string destination);

  // Appends `bytes` bytes from `source`.
  void Write(const void* source, uint64_t bytes);
  // Appends a little-endian uint32.
  void WriteU32(uint32_t value);
  // Appends a little-endian int32.
  void WriteI32(int32_t value);
  // Appends a little-endian uint64.
  void WriteU64(uint64_t value);
  // Appends a little-endian int64.
  void WriteI64(int64_t value);

 private:
  std::string* out_ = nullptr;
  std::FILE* file_ = nullptr;
  std::string destination_;
};

// The description of one array record; its raw data (data_bytes bytes) follows it in the stream.
struct ArrayHeader {
  uint32_t version = kArrayMagicV2;  // The record's magic; 0 for the legacy layout.
  bool none = false;                 // No array (unknown shape): no device, dtype or data follow.
  Shape shape;                       // The dimensions (meaningless when none).
  DType dtype = DType::kFloat32;     // The element type.
  int32_t device_type = 1;           // The saved context's device type (1 cpu, 2 gpu, 3 pinned, 5 shared).
  int32_t device_id = 0;             // The saved context's device id.
  uint64_t data_bytes = 0;           // Bytes of element data that follow.
};

// Writes the list magic, the reserved word and the array count.
void WriteListHeader(ByteWriter& writer, uint64_t array_count);

// Reads the list magic and reserved word and returns the array count (checked against the bytes left).
uint64_t ReadListHeader(ByteReader& reader);

// Writes the header of a dense array saved from cpu(0) (V2, or V3 for a scalar; see the Note), or of a
// none array when `none`; the caller then writes shape.size() * DTypeSize(dtype) bytes of data.
void WriteArrayHeader(ByteWriter& writer, const Shape& shape, DType dtype, bool none = false);

// Reads the header of array number `index` in any version; the data bytes are checked to be present.
ArrayHeader ReadArrayHeader(ByteReader& reader, uint64_t index);

// Writes the name list (count, then length + bytes per name).
void WriteNames(ByteWriter& writer, const std::vector<std::string>& names);

// Reads the name list; its count must be 0 or `array_count`.
std::vector<std::string> ReadNames(ByteReader& reader, uint64_t array_count);

}  // namespace params_format
}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_INTERNAL_PARAMS_FORMAT_H_
