"""Every external dependency of Polymix, one overlay each.

Note [Offline Bazel]
Bazel 4.2.3 (Debian's bazel-bootstrap) cannot download anything here. The repositories it would fetch
implicitly (@rules_cc, @rules_java, @remote_coverage_tools, @platforms) are local stand-ins named in WORKSPACE, and
every library comes from Debian packages (installed by tools/setup) or, for CUDA, from the toolkit that
tools/setup unpacks from its PyPI wheels. Each overlay lives in third_party/<name>/<name>.BUILD.
"""

load("//third_party/cuda:cuda_configure.bzl", "cuda_configure")
load("//third_party/node:node_configure.bzl", "node_configure")
load("//third_party/python:python_configure.bzl", "python_configure")

def _system_library(name):
    native.new_local_repository(
        name = name,
        path = "/usr",
        build_file = "//third_party/%s:%s.BUILD" % (name, name),
    )

def polymix_dependencies():
    """Declares every external repository; called once from WORKSPACE."""
    _system_library("absl")  # Abseil: string formatting, containers, thread-safety annotations.
    _system_library("gtest")  # GoogleTest: unit tests.
    _system_library("benchmark")  # Google Benchmark: benchmarks beside the code.
    _system_library("dnnl")  # oneDNN: CPU GEMM, convolution, pooling, normalisation.
    _system_library("dlpack")  # DLPack: the zero-copy tensor exchange header.
    _system_library("nlohmann_json")  # nlohmann/json: the op schema and MXNet symbol JSON.
    _system_library("zlib")  # zlib: gzip-compressed datasets (Fashion-MNIST's IDX files).
    cuda_configure(name = "cuda")  # CUDA 13.0 toolkit, cuBLAS, cuDNN, NCCL (from tools/setup).
    python_configure(name = "python_venv")  # The project virtualenv: numpy, pytest (from tools/setup).
    node_configure(name = "node_api")  # Node.js's N-API headers, for bindings/js.
