// NDArray: a cheap, copyable handle to an n-dimensional array whose memory lives in a shared chunk.
// Every operation on it is pushed to the engine with the chunk's variable, so it runs asynchronously
// and in order; WaitToRead / WaitToWrite / CopyToHost are the synchronisation points.
#ifndef POLYMIX_CORE_ARRAY_NDARRAY_H_
#define POLYMIX_CORE_ARRAY_NDARRAY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/types/span.h"
#include "core/base/device.h"
#include "core/base/dtype.h"
#include "core/base/shape.h"
#include "core/engine/engine.h"

namespace pmx {

// Note [NDArray chunks and views]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// An NDArray is (chunk, shape, dtype, byte offset). The chunk owns the memory (a StorageBlock, or
// memory borrowed from elsewhere such as a DLPack tensor) and one engine variable. Reshape, Slice and
// At make views: new handles on the same chunk, so they share its memory *and its variable*. A write
// through any view is therefore ordered against every read or write of the base and of every other
// view, at the price of false dependencies between disjoint slices (MXNet makes the same trade).
//
// Memory is allocated eagerly when the array is created; operations capture raw data pointers, never
// the chunk, so an engine worker never ends up running a chunk's destructor. When the last handle to a
// chunk goes away, the chunk hands its memory to Engine::DeleteVariable, which frees it only after
// every operation already pushed on the variable has finished: dropping an array while work on it is
// pending is safe.

namespace internal {
struct Chunk;
struct AutogradEntry;  // Defined by core/autograd: where an array sits in a recorded graph.
}  // namespace internal

// An n-dimensional array handle. Copies share the data; a default-constructed NDArray is "none".
class NDArray {
 public:
  // A none array: no chunk, no data (MXNet's empty NDArray handle).
  NDArray() = default;

  // An uninitialised array of `shape` and `dtype` on `device`.
  static NDArray Empty(const Shape& shape, DType dtype = DType::kFloat32, Device device = DefaultDevice());
  // An array filled with zeros (the fill runs asynchronously).
  static NDArray Zeros(const Shape& shape, DType dtype = DType::kFloat32, Device device = DefaultDevice());
  // An array filled with ones (the fill runs asynchronously).
  static NDArray Ones(const Shape& shape, DType dtype = DType::kFloat32, Device device = DefaultDevice());
  // An array filled with `value` converted to `dtype` (the fill runs asynchronously).
  static NDArray Full(const Shape& shape, double value, DType dtype = DType::kFloat32,
                      Device device = DefaultDevice());
  // A copy of shape.size() elements of `dtype` read from the host buffer `data` before returning.
  static NDArray FromHostBuffer(const void* data, const Shape& shape, DType dtype = DType::kFloat32,
                                Device device = DefaultDevice());
  // Like the above, but checks that the buffer's `nbytes` match the shape and dtype (ValueError).
  static NDArray FromHostBuffer(const void* data, size_t nbytes, const Shape& shape, DType dtype = DType::kFloat32,
                                Device device = DefaultDevice());
  // Wraps memory owned elsewhere without copying; `release` runs once, after every operation pushed on
  // the array has finished, when the last handle is gone. Used by DLPack and zero-copy bindings.
  static NDArray FromExternal(void* data, const Shape& shape, DType dtype, Device device,
                              std::function<void()> release);

  // Whether this is a none array (default-constructed, or loaded from a file's "no array" record).
  bool is_none() const { return chunk_ == nullptr; }
  // The dimensions.
  const Shape& shape() const { return shape_; }
  // The number of dimensions.
  int ndim() const { return shape_.ndim(); }
  // The element type.
  DType dtype() const { return dtype_; }
  // Where the data lives (cpu(0) for a none array).
  Device device() const;
  // The number of elements.
  int64_t size() const { return shape_.size(); }
  // The number of bytes of data: size() * DTypeSize(dtype()).
  size_t nbytes() const { return static_cast<size_t>(size()) * DTypeSize(dtype_); }
  // The offset in bytes of this view's first element inside its chunk.
  size_t byte_offset() const { return byte_offset_; }
  // The engine variable guarding the data (shared by all views of a chunk); nullptr for none.
  VarHandle var() const;

  // The first element. Dereference it only inside an engine operation that lists var(), or after
  // WaitToRead / WaitToWrite; nullptr for a none or zero-size array.
  void* data() const;
  // data() as a T*; throws TypeError when sizeof(T) differs from the element size.
  template <typename T>
  T* data() const {
    CheckElementSize(sizeof(T));
    return static_cast<T*>(data());
  }
  // Whether two arrays use the same chunk (and so the same variable).
  bool SharesChunkWith(const NDArray& other) const { return chunk_ != nullptr && chunk_ == other.chunk_; }

  // A view with `shape`, which must have the same number of elements (ValueError otherwise).
  NDArray Reshape(const Shape& shape) const;
  // A view whose dims may contain one -1, inferred from the size (ValueError otherwise).
  NDArray ReshapeInfer(absl::Span<const int64_t> dims) const;
  // A view of rows [begin, end) along the first axis; IndexError unless 0 <= begin <= end <= shape[0].
  NDArray Slice(int64_t begin, int64_t end) const;
  // A view of row `index` along the first axis, with shape shape[1:] (a scalar for a 1-d array);
  // IndexError unless 0 <= index < shape[0].
  NDArray At(int64_t index) const;

  // A copy on `device` (a new chunk, even when `device` is this array's device).
  NDArray CopyTo(Device device) const;
  // Copies (and converts, if the dtypes differ) this array into `destination`, which must have the same
  // shape; asynchronous.
  void CopyTo(const NDArray& destination) const;
  // A copy converted to `dtype`, on the same device (always a new chunk).
  NDArray AsType(DType dtype) const;
  // Sets every element to `value` converted to dtype(); asynchronous.
  void Fill(double value) const;

  // Copies the data into the host buffer `data` of `nbytes` bytes (ValueError unless nbytes()) and
  // returns when the copy is done; rethrows an error stored by a failed operation on this array.
  void CopyToHost(void* data, size_t nbytes) const;
  // Overwrites the data from the host buffer `data` of `nbytes` bytes (ValueError unless nbytes())
  // and returns when the copy is done, so the buffer may be reused at once.
  void CopyFromHost(const void* data, size_t nbytes) const;

  // Blocks until every pushed write to this array has finished; rethrows a stored error.
  void WaitToRead() const;
  // Blocks until every pushed read and write of this array has finished; rethrows a stored error.
  void WaitToWrite() const;

  // The autograd slot (Note [The autograd slot] in core/autograd/autograd.h): where this value sits in a
  // recorded graph, or nullptr. Copies of this NDArray value carry the same slot (setting it later on one
  // copy leaves the others alone); views, copies and casts made by NDArray methods start without one.
  const std::shared_ptr<internal::AutogradEntry>& autograd_entry() const { return autograd_entry_; }
  // Replaces this value's autograd slot; only core/autograd calls it.
  void set_autograd_entry(std::shared_ptr<internal::AutogradEntry> entry) { autograd_entry_ = std::move(entry); }

 private:
  NDArray(std::shared_ptr<internal::Chunk> chunk, Shape shape, DType dtype, size_t byte_offset);
  // Throws ValueError naming `op` for a none array.
  void CheckNotNone(const char* op) const;
  // Throws TypeError unless the element size is `size`.
  void CheckElementSize(size_t size) const;

  std::shared_ptr<internal::Chunk> chunk_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  size_t byte_offset_ = 0;
  std::shared_ptr<internal::AutogradEntry> autograd_entry_;  // See autograd_entry().
};

}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_NDARRAY_H_
