// Test helper: builds little-endian byte fixtures field by field, independently of ByteWriter.
#ifndef POLYMIX_CORE_ARRAY_INTERNAL_TEST_BYTES_H_
#define POLYMIX_CORE_ARRAY_INTERNAL_TEST_BYTES_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace pmx {
namespace testing {

// A byte string assembled one field at a time, every integer little-endian.
class Bytes {
 public:
  // Appends the low `size` bytes of `value`, least significant first.
  Bytes& Int(uint64_t value, int size) {
    for (int i = 0; i < size; ++i) bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
  }
  // Appends a uint32.
  Bytes& U32(uint32_t value) { return Int(value, 4); }
  // Appends an int32.
  Bytes& I32(int32_t value) { return Int(static_cast<uint32_t>(value), 4); }
  // Appends a uint64.
  Bytes& U64(uint64_t value) { return Int(value, 8); }
  // Appends an int64.
  Bytes& I64(int64_t value) { return Int(static_cast<uint64_t>(value), 8); }
  // Appends a float32's bits.
  Bytes& F32(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return U32(bits);
  }
  // Appends raw text.
  Bytes& Text(const std::string& text) {
    bytes_ += text;
    return *this;
  }
  // The bytes so far.
  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace testing
}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_INTERNAL_TEST_BYTES_H_
