#include "core/array/internal/params_format.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "core/base/error.h"

namespace pmx {
namespace params_format {
namespace {

// Element data is copied between memory and files as raw bytes, which is the file's little-endian
// layout only on a little-endian host (every platform Polymix targets).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, ".params data is little-endian");

template <typename T>
T DecodeLittleEndian(const unsigned char* bytes) {
  using Unsigned = std::make_unsigned_t<T>;
  Unsigned value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<Unsigned>(bytes[i]) << (8 * i);
  return static_cast<T>(value);
}

template <typename T>
void EncodeLittleEndian(T value, unsigned char* bytes) {
  using Unsigned = std::make_unsigned_t<T>;
  const Unsigned bits = static_cast<Unsigned>(value);
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<unsigned char>(bits >> (8 * i));
}

const char* StorageTypeName(int32_t storage_type) {
  switch (storage_type) {
    case 1: return "row_sparse";
    case 2: return "csr";
    default: return "unknown";
  }
}

// MXNet type flags that Polymix does not support (int16, uint16, uint32, uint64).
bool IsMXNetOnlyTypeFlag(int32_t flag) { return flag >= 8 && flag <= 11; }

bool IsKnownDeviceType(int32_t device_type) {
  return device_type == 1 || device_type == 2 || device_type == 3 || device_type == 5;
}

// Reads an int32 ndim and int64 dims (V1/V2/V3). Sets header->none for an unknown shape.
void ReadInt64Shape(ByteReader& reader, uint64_t index, ArrayHeader* header) {
  const uint64_t ndim_at = reader.offset();
  const int32_t ndim = reader.ReadI32("shape ndim");
  if (ndim == -1) {  // Unknown shape (V3's none NDArray); MXNet writes no dims after it.
    header->none = true;
    return;
  }
  if (ndim < -1) {
    reader.Fail(ndim_at, absl::StrFormat("array #%d has shape ndim %d: expected -1 or more", index, ndim));
  }
  if (static_cast<uint64_t>(ndim) * 8 > reader.remaining()) {
    reader.Fail(ndim_at, absl::StrFormat("array #%d has shape ndim %d: its %d dims need %d bytes, only %d remain",
                                         index, ndim, ndim, static_cast<uint64_t>(ndim) * 8, reader.remaining()));
  }
  std::vector<int64_t> dims(ndim);
  bool unknown_dim = false;
  for (int32_t axis = 0; axis < ndim; ++axis) {
    const uint64_t dim_at = reader.offset();
    dims[axis] = reader.ReadI64("shape dim");
    if (dims[axis] == -1 && header->version == kArrayMagicV3) {
      unknown_dim = true;  // NumPy semantics: -1 is an unknown dimension.
    } else if (dims[axis] < 0) {
      reader.Fail(dim_at, absl::StrFormat("array #%d has dimension %d = %d: expected a non-negative size", index,
                                          axis, dims[axis]));
    }
  }
  // Classic MXNet shapes (V1/V2) use ndim 0 for "no array"; NumPy semantics (V3) use it for a scalar.
  header->none = unknown_dim || (ndim == 0 && header->version != kArrayMagicV3);
  if (!header->none) header->shape = Shape(absl::MakeConstSpan(dims));
}

// Reads the legacy (pre-V1) shape, whose first uint32 (`ndim`) was already read as the magic.
void ReadLegacyShape(ByteReader& reader, uint64_t index, uint32_t ndim, uint64_t ndim_at,
                     ArrayHeader* header) {
  if (static_cast<uint64_t>(ndim) * 4 > reader.remaining()) {
    reader.Fail(ndim_at,
                absl::StrFormat("array #%d starts with 0x%08x: expected an array magic (0x%08x, 0x%08x or 0x%08x) "
                                "or a legacy ndim whose %d uint32 dims fit in the %d bytes left",
                                index, ndim, kArrayMagicV1, kArrayMagicV2, kArrayMagicV3, ndim, reader.remaining()));
  }
  std::vector<int64_t> dims(ndim);
  for (uint32_t axis = 0; axis < ndim; ++axis) dims[axis] = reader.ReadU32("legacy shape dim");
  header->none = ndim == 0;
  if (!header->none) header->shape = Shape(absl::MakeConstSpan(dims));
}

}  // namespace

// ---- ByteReader ----

ByteReader::ByteReader(std::string_view bytes, std::string source)
    : memory_(bytes), size_(bytes.size()), source_(std::move(source)) {}

ByteReader::ByteReader(std::FILE* file, uint64_t size, std::string source)
    : file_(file), size_(size), source_(std::move(source)) {}

void ByteReader::Fail(uint64_t at, const std::string& detail) const {
  Throw(ErrorKind::kValueError, "[%s] '%s': %s (byte offset %d)", kLoadOp, source_, detail, at);
}

void ByteReader::Require(uint64_t bytes, const char* field) const {
  if (bytes > remaining()) {
    Fail(offset_, absl::StrFormat("truncated while reading %s: expected %d more bytes, only %d remain", field, bytes,
                                  remaining()));
  }
}

void ByteReader::Read(void* destination, uint64_t bytes, const char* field) {
  Require(bytes, field);
  if (bytes == 0) return;
  if (file_ == nullptr) {
    std::memcpy(destination, memory_.data() + offset_, bytes);
  } else if (std::fread(destination, 1, bytes, file_) != bytes) {
    const bool failed = std::ferror(file_) != 0;
    Throw(failed ? ErrorKind::kRuntimeError : ErrorKind::kValueError,
          "[%s] '%s': reading %s at byte offset %d failed: %s", kLoadOp, source_, field, offset_,
          failed ? std::strerror(errno) : "the file ended early (was it changed while being read?)");
  }
  offset_ += bytes;
}

void ByteReader::Skip(uint64_t bytes, const char* field) {
  Require(bytes, field);
  if (file_ != nullptr && bytes > 0) {
    PMX_CHECK(std::fseek(file_, static_cast<long>(offset_ + bytes), SEEK_SET) == 0, kRuntimeError,
              "[%s] '%s': seeking past %s at byte offset %d failed: %s", kLoadOp, source_, field, offset_,
              std::strerror(errno));
  }
  offset_ += bytes;
}

uint32_t ByteReader::ReadU32(const char* field) {
  unsigned char bytes[4];
  Read(bytes, sizeof(bytes), field);
  return DecodeLittleEndian<uint32_t>(bytes);
}

int32_t ByteReader::ReadI32(const char* field) {
  unsigned char bytes[4];
  Read(bytes, sizeof(bytes), field);
  return DecodeLittleEndian<int32_t>(bytes);
}

uint64_t ByteReader::ReadU64(const char* field) {
  unsigned char bytes[8];
  Read(bytes, sizeof(bytes), field);
  return DecodeLittleEndian<uint64_t>(bytes);
}

int64_t ByteReader::ReadI64(const char* field) {
  unsigned char bytes[8];
  Read(bytes, sizeof(bytes), field);
  return DecodeLittleEndian<int64_t>(bytes);
}

// ---- ByteWriter ----

ByteWriter::ByteWriter(std::string* out) : out_(out) {}

ByteWriter::ByteWriter(std::FILE* file, std::string destination)
    : file_(file), destination_(std::move(destination)) {}

void ByteWriter::Write(const void* source, uint64_t bytes) {
  if (bytes == 0) return;
  if (out_ != nullptr) {
    out_->append(static_cast<const char*>(source), bytes);
    return;
  }
  PMX_CHECK(std::fwrite(source, 1, bytes, file_) == bytes, kRuntimeError, "[%s] writing '%s' failed: %s", kSaveOp,
            destination_, std::strerror(errno));
}

void ByteWriter::WriteU32(uint32_t value) {
  unsigned char bytes[4];
  EncodeLittleEndian(value, bytes);
  Write(bytes, sizeof(bytes));
}

void ByteWriter::WriteI32(int32_t value) {
  unsigned char bytes[4];
  EncodeLittleEndian(value, bytes);
  Write(bytes, sizeof(bytes));
}

void ByteWriter::WriteU64(uint64_t value) {
  unsigned char bytes[8];
  EncodeLittleEndian(value, bytes);
  Write(bytes, sizeof(bytes));
}

void ByteWriter::WriteI64(int64_t value) {
  unsigned char bytes[8];
  EncodeLittleEndian(value, bytes);
  Write(bytes, sizeof(bytes));
}

// ---- Records ----

void WriteListHeader(ByteWriter& writer, uint64_t array_count) {
  writer.WriteU64(kListMagic);
  writer.WriteU64(0);  // Reserved.
  writer.WriteU64(array_count);
}

uint64_t ReadListHeader(ByteReader& reader) {
  const uint64_t magic = reader.ReadU64("list magic");
  if (magic != kListMagic) {
    reader.Fail(0, absl::StrFormat("not an MXNet NDArray file: list magic is 0x%x, expected 0x%x", magic, kListMagic));
  }
  reader.ReadU64("reserved word");
  const uint64_t count_at = reader.offset();
  const uint64_t count = reader.ReadU64("array count");
  // Every array takes at least 4 bytes (its magic), and the name count follows them.
  if (count > reader.remaining() / 4) {
    reader.Fail(count_at, absl::StrFormat("array count is %d: expected at most %d in the %d bytes left", count,
                                          reader.remaining() / 4, reader.remaining()));
  }
  return count;
}

void WriteArrayHeader(ByteWriter& writer, const Shape& shape, DType dtype, bool none) {
  if (none) {  // MXNet's "no array": a V2 record with ndim 0 and nothing after it.
    writer.WriteU32(kArrayMagicV2);
    writer.WriteI32(0);  // Dense storage.
    writer.WriteI32(0);  // ndim.
    return;
  }
  writer.WriteU32(shape.ndim() == 0 ? kArrayMagicV3 : kArrayMagicV2);
  writer.WriteI32(0);  // Dense storage.
  writer.WriteI32(shape.ndim());
  for (int64_t dim : shape.dims()) writer.WriteI64(dim);
  writer.WriteI32(1);  // Context: cpu(0), whatever device the array came from (MXNet does the same).
  writer.WriteI32(0);
  writer.WriteI32(static_cast<int32_t>(dtype));
}

ArrayHeader ReadArrayHeader(ByteReader& reader, uint64_t index) {
  ArrayHeader header;
  const uint64_t magic_at = reader.offset();
  const uint32_t magic = reader.ReadU32("array magic");
  header.version = magic;
  if (magic == kArrayMagicV2 || magic == kArrayMagicV3) {
    const uint64_t storage_at = reader.offset();
    const int32_t storage_type = reader.ReadI32("storage type");
    if (storage_type == 1 || storage_type == 2) {
      Throw(ErrorKind::kNotImplementedError,
            "[%s] '%s': array #%d (byte offset %d) has sparse storage type %s (%d): Polymix reads only dense "
            "(0) arrays; convert it with tostype('default') in MXNet before saving",
            kLoadOp, reader.source(), index, storage_at, StorageTypeName(storage_type), storage_type);
    }
    if (storage_type != 0) {
      reader.Fail(storage_at, absl::StrFormat("array #%d has storage type %d: expected 0 (dense), 1 (row_sparse) or "
                                              "2 (csr)", index, storage_type));
    }
    ReadInt64Shape(reader, index, &header);
  } else if (magic == kArrayMagicV1) {
    ReadInt64Shape(reader, index, &header);
  } else {
    header.version = 0;
    ReadLegacyShape(reader, index, magic, magic_at, &header);
  }
  if (header.none) return header;

  const uint64_t device_at = reader.offset();
  header.device_type = reader.ReadI32("context device type");
  header.device_id = reader.ReadI32("context device id");
  if (!IsKnownDeviceType(header.device_type) || header.device_id < 0) {
    reader.Fail(device_at, absl::StrFormat("array #%d has context (device type %d, id %d): expected type 1 (cpu), "
                                           "2 (gpu), 3 (cpu_pinned) or 5 (cpu_shared) and id >= 0",
                                           index, header.device_type, header.device_id));
  }
  const uint64_t flag_at = reader.offset();
  const int32_t flag = reader.ReadI32("type flag");
  if (IsMXNetOnlyTypeFlag(flag)) {
    Throw(ErrorKind::kNotImplementedError,
          "[%s] '%s': array #%d (byte offset %d) has MXNet type flag %d (int16, uint16, uint32 or uint64), which "
          "Polymix does not support",
          kLoadOp, reader.source(), index, flag_at, flag);
  }
  if (!IsValidDTypeFlag(flag)) {
    reader.Fail(flag_at, absl::StrFormat("array #%d has type flag %d: expected an MXNet type flag (0-7 or 12)",
                                         index, flag));
  }
  header.dtype = static_cast<DType>(flag);

  // The element count times the element size must not overflow before it is compared with the file.
  uint64_t bytes = DTypeSize(header.dtype);
  for (int64_t dim : header.shape.dims()) {
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim)) {
      reader.Fail(magic_at, absl::StrFormat("array #%d has shape %s whose byte size overflows 64 bits", index,
                                            header.shape.ToString()));
    }
    bytes *= static_cast<uint64_t>(dim);
  }
  if (header.shape.size() == 0) bytes = 0;
  header.data_bytes = bytes;
  if (bytes > reader.remaining()) {
    reader.Fail(reader.offset(), absl::StrFormat("truncated in the data of array #%d (%s, shape %s): expected %d "
                                                 "bytes, only %d remain",
                                                 index, DTypeName(header.dtype), header.shape.ToString(), bytes,
                                                 reader.remaining()));
  }
  return header;
}

void WriteNames(ByteWriter& writer, const std::vector<std::string>& names) {
  writer.WriteU64(names.size());
  for (const std::string& name : names) {
    writer.WriteU64(name.size());
    writer.Write(name.data(), name.size());
  }
}

std::vector<std::string> ReadNames(ByteReader& reader, uint64_t array_count) {
  const uint64_t count_at = reader.offset();
  const uint64_t count = reader.ReadU64("name count");
  if (count != 0 && count != array_count) {
    reader.Fail(count_at, absl::StrFormat("name count is %d: expected 0 (an unnamed list) or %d (one per array)",
                                          count, array_count));
  }
  std::vector<std::string> names(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t length_at = reader.offset();
    const uint64_t length = reader.ReadU64("name length");
    if (length > reader.remaining()) {
      reader.Fail(length_at, absl::StrFormat("name #%d has length %d: only %d bytes remain", i, length,
                                             reader.remaining()));
    }
    names[i].resize(length);
    reader.Read(names[i].data(), length, "name bytes");
  }
  return names;
}

}  // namespace params_format
}  // namespace pmx
