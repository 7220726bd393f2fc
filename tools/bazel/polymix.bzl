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

def pmx_cuda_library(name, srcs, hdrs = [], deps = [], **kwargs):
    """Compiles .cu files with nvcc for sm_90 and wraps the objects in a cc_library.

    Only build this under --config=cuda (select on //tools/bazel:cuda_enabled); the .cu files may
    include the listed headers of deps by their workspace path.
    """
    objects = []
    for src in srcs:
        obj = src.replace(".cu", ".cu.o")
        native.genrule(
            name = name + "_" + src.replace("/", "_").replace(".", "_"),
            srcs = [src] + hdrs + ["@cuda//:nvcc", "@cuda//:bin/nvcc"],
            outs = [obj],
            cmd = ("$(location @cuda//:bin/nvcc) -std=c++17 -O3 -arch=sm_90 " +
                   "-Xcompiler -fPIC -I. -I$(GENDIR) -Iexternal/cuda/include -c $(location %s) -o $@") % src,
            tags = ["cuda"],
        )
        objects.append(obj)
    native.cc_library(
        name = name,
        srcs = objects,
        hdrs = hdrs,
        deps = deps + ["@cuda//:cudart"],
        copts = PMX_COPTS,
        **kwargs
    )
