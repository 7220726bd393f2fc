#include "examples/cpp/fashion_mnist.h"

#include <zlib.h>

#include <fstream>

#include "core/base/error.h"

namespace pmx {
namespace examples {
namespace {

// The whole content of `path`, or of `path` + ".gz" decompressed; ValueError when neither exists.
std::string ReadMaybeGzipped(const std::string& path) {
  if (std::ifstream plain(path, std::ios::binary); plain) {
    return std::string(std::istreambuf_iterator<char>(plain), std::istreambuf_iterator<char>());
  }
  const std::string gzipped = path + ".gz";
  gzFile file = gzopen(gzipped.c_str(), "rb");
  PMX_CHECK(file != nullptr, kValueError,
            "[fashion_mnist] neither %s nor %s exists: install Debian's dataset-fashion-mnist (tools/setup does) "
            "or pass the folder holding the IDX files",
            path, gzipped);
  std::string content;
  char buffer[1 << 16];
  int read;
  while ((read = gzread(file, buffer, sizeof(buffer))) > 0) content.append(buffer, read);
  const bool failed = read < 0;
  gzclose(file);
  PMX_CHECK(!failed, kValueError, "[fashion_mnist] %s is not a valid gzip file", gzipped);
  return content;
}

// The big-endian 32-bit integer at `offset`.
uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks an IDX header (magic 0x0000080N for N dimensions of unsigned bytes) and returns the dimensions.
std::vector<uint32_t> IdxDims(const std::string& bytes, const std::string& path, int ndim) {
  PMX_CHECK(bytes.size() >= 4u + 4u * ndim && BigEndian32(bytes, 0) == 0x800u + static_cast<uint32_t>(ndim),
            kValueError, "[fashion_mnist] %s is not an IDX file of %d-dimensional unsigned bytes", path, ndim);
  std::vector<uint32_t> dims;
  uint64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    dims.push_back(BigEndian32(bytes, 4 + 4 * d));
    total *= dims.back();
  }
  PMX_CHECK(bytes.size() == 4u + 4u * ndim + total, kValueError,
            "[fashion_mnist] %s holds %d bytes of data, its header promises %d", path,
            static_cast<int64_t>(bytes.size() - 4 - 4 * ndim), static_cast<int64_t>(total));
  return dims;
}

}  // namespace

ImageSet LoadFashionMnist(const std::string& folder, const std::string& prefix) {
  const std::string images_path = folder + "/" + prefix + "-images-idx3-ubyte";
  const std::string labels_path = folder + "/" + prefix + "-labels-idx1-ubyte";
  const std::string images = ReadMaybeGzipped(images_path);
  const std::string labels = ReadMaybeGzipped(labels_path);
  const std::vector<uint32_t> image_dims = IdxDims(images, images_path, 3);
  const std::vector<uint32_t> label_dims = IdxDims(labels, labels_path, 1);
  PMX_CHECK(image_dims[0] == label_dims[0], kValueError, "[fashion_mnist] %s has %d images but %s has %d labels",
            images_path, static_cast<int>(image_dims[0]), labels_path, static_cast<int>(label_dims[0]));
  ImageSet set;
  set.count = image_dims[0];
  set.rows = image_dims[1];
  set.cols = image_dims[2];
  set.pixels.resize(images.size() - 16);
  for (size_t i = 0; i < set.pixels.size(); ++i) set.pixels[i] = static_cast<unsigned char>(images[16 + i]) / 255.0f;
  set.labels.resize(set.count);
  for (int64_t i = 0; i < set.count; ++i) {
    const int label = static_cast<unsigned char>(labels[8 + i]);
    PMX_CHECK(label < 10, kValueError, "[fashion_mnist] %s: label %d of image %d is not in 0..9", labels_path, label,
              static_cast<int>(i));
    set.labels[i] = static_cast<float>(label);
  }
  return set;
}

}  // namespace examples
}  // namespace pmx
