"""Thin project macros: compiler flags and test/benchmark wiring change here, in one place."""

# Flags for every Polymix C++ target.
PMX_COPTS = [
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-sign-compare",
    "-fvisibility-inlines-hidden",
]

def pmx_cc_library(name, copts = [], **kwargs):
    """A C++ library with the project's compiler flags."""
    native.cc_library(name = name, copts = PMX_COPTS + copts, **kwargs)

def pmx_cc_binary(name, copts = [], **kwargs):
    """A C++ binary with the project's compiler flags."""
    native.cc_binary(name = name, copts = PMX_COPTS + copts, **kwargs)

def pmx_cc_test(name, copts = [], deps = [], **kwargs):
    """A GoogleTest unit test with the project's flags, linked with gtest_main."""
    native.cc_test(
        name = name,
        copts = PMX_COPTS + copts,
        deps = deps + ["@gtest//:gtest_main"],
        **kwargs
    )

def pmx_cc_benchmark(name, copts = [], deps = [], tags = [], **kwargs):
    """A Google Benchmark binary (bazel run it); tagged so plain `bazel test` skips it."""
    native.cc_binary(
        name = name,
        copts = PMX_COPTS + copts,
        deps = deps + ["@benchmark//:benchmark"],
        tags = tags + ["benchmark"],
        **kwargs
    )

# Targets that exist only under --config=cuda: other builds skip them in wildcards (`bazel test //...`)
# instead of running nvcc, which a machine without tools/setup's toolkit does not have.
PMX_CUDA_ONLY = select({
    "//tools/bazel:cuda_enabled": [],
    "//conditions:default": ["//tools/bazel:cuda_build"],
})

def pmx_cuda_library(name, srcs, hdrs = [], cuda_hdrs = [], deps = [], nvcc_flags = [], **kwargs):
    """Compiles .cu files with nvcc for sm_90 and wraps the objects in a cc_library.

    Exists only under --config=cuda (see PMX_CUDA_ONLY). nvcc sees the .cu files, this library's `hdrs`
    (included by workspace path, e.g. "core/backend/cuda/kernels.h"), its `cuda_hdrs` (device-only .cuh
    headers, which no host compiler sees) and the CUDA headers, nothing else: keep .cu files free of
    Abseil and of other Polymix headers.
    """
    objects = []
    for src in srcs:
        obj = src.replace(".cu", ".cu.o")
        native.genrule(
            name = name + "_" + src.replace("/", "_").replace(".", "_"),
            srcs = [src] + hdrs + cuda_hdrs,
            tools = ["@cuda//:nvcc", "@cuda//:bin/nvcc"],
            outs = [obj],
            cmd = ("$(location @cuda//:bin/nvcc) -std=c++17 -O3 -arch=sm_90 -Xcompiler -fPIC " +
                   " ".join(nvcc_flags) +
                   " -I. -I$(GENDIR) -Iexternal/cuda/include -c $(location %s) -o $@") % src,
            message = "nvcc " + src,
            tags = ["cuda"],
            target_compatible_with = PMX_CUDA_ONLY,
        )
        objects.append(obj)
    native.cc_library(
        name = name,
        srcs = objects,
        hdrs = hdrs,
        deps = deps + ["@cuda//:cudart"],
        copts = PMX_COPTS,
        target_compatible_with = PMX_CUDA_ONLY,
        **kwargs
    )
