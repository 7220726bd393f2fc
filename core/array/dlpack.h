// Zero-copy exchange of NDArrays with other frameworks through DLPack (0.6 ABI; bool per DLPack 0.8).
#ifndef POLYMIX_CORE_ARRAY_DLPACK_H_
#define POLYMIX_CORE_ARRAY_DLPACK_H_

#include <dlpack/dlpack.h>

#include "core/array/ndarray.h"

namespace pmx {

// Note [DLPack dtypes and lifetime]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// dtypes: float16/32/64 are kDLFloat, bfloat16 is kDLBfloat 16, int8/32/64 kDLInt, uint8 kDLUInt 8.
// bool is exported as code 6 with 8 bits (kDLBool, added in DLPack 0.8 and what NumPy and PyTorch use
// today); on import, code 6 with 8 bits and MXNet 1.x's {kDLUInt, 1 bit} both mean bool.
//
// Export waits for pending writes, then hands out the memory while a handle inside the managed
// tensor keeps the chunk alive: the memory stays valid until the consumer calls the deleter, even if
// every NDArray handle is gone by then. Import borrows the producer's memory: the deleter runs (on an
// engine worker, after every operation pushed on the array has finished) when the last handle to the
// imported array goes away. A deleter that needs a lock of its own language (Python's GIL) must take it.

// Exports `array` as a DLManagedTensor sharing its memory (compact row-major strides, explicit). Waits
// for pending writes to the array first and rethrows a stored error; ValueError for a none array. The
// caller owns the result and must call its deleter once.
DLManagedTensor* ToDLPack(const NDArray& array);

// Imports `tensor` without copying. On success the NDArray owns `tensor` and calls its deleter when the
// last handle (and pending work) is gone; on error nothing is taken and the caller still owns it.
// Accepts cpu, cuda and cuda_host devices and compact row-major strides (NULL, or any stride on a
// dimension of size 1); anything else is a ValueError (layout), TypeError (dtype) or
// NotImplementedError (device kind).
NDArray FromDLPack(DLManagedTensor* tensor);

}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_DLPACK_H_
