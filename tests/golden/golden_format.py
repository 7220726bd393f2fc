"""The golden corpus's file format (tests/golden/corpus.json), shared by its generator and the Python runners.

One JSON document, readable in every language without a NumPy or .npy reader:
  {"format": "polymix-golden-1",
   "note": "...",
   "cases": [{"id": "exp", "op": "exp", "params": {"name": "string value", ...},
              "inputs":  [{"dtype": "float32", "shape": [3, 4], "data": [flat row-major numbers]}, ...],
              "outputs": [... the same form, the op's visible outputs ...],
              "rtol": 1e-5, "atol": 1e-6}, ...]}
A binding passes `inputs` and `params` (strings, exactly as given) to the op called `op` and checks every
output: same dtype and shape, and |got - want| <= atol + rtol * |want| elementwise. Numbers are JSON numbers
(floats written so that parsing them as double and rounding to the dtype gives the exact value); booleans are
0/1. Values are always finite.
"""

import numpy as np

FORMAT = "polymix-golden-1"

# Tolerances for a binding against the core on another machine: the same code, but oneDNN and OpenMP may pick
# other kernels or summation orders.
TOLERANCES = {"float16": (1e-2, 1e-3), "bfloat16": (2e-2, 1e-2), "float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}


def encode_array(array):
    """An array as the corpus's {"dtype", "shape", "data"} object."""
    array = np.asarray(array)
    if array.dtype == np.bool_:
        data = [int(v) for v in array.ravel()]
    elif array.dtype.kind in "iu":
        data = [int(v) for v in array.ravel()]
    else:
        data = [float(v) for v in array.astype(np.float64).ravel()]
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": data}


def decode_array(entry):
    """The NumPy array of a corpus {"dtype", "shape", "data"} object."""
    dtype = np.dtype("bool" if entry["dtype"] == "bool" else entry["dtype"])
    return np.asarray(entry["data"], dtype=np.float64 if dtype.kind == "f" else None).astype(dtype).reshape(
        entry["shape"])


def close_enough(got, want, rtol, atol):
    """Whether `got` matches `want` as the format says (same dtype and shape, elementwise tolerance)."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    if want.dtype.kind not in "fc":
        return bool(np.array_equal(got, want))
    return bool(np.all(np.abs(got.astype(np.float64) - want.astype(np.float64))
                       <= atol + rtol * np.abs(want.astype(np.float64))))
