// Reading the Fashion-MNIST dataset: IDX files (gzip-compressed or not) from a folder, as Debian's
// dataset-fashion-mnist package installs them in /usr/share/datasets/fashion-mnist.
#ifndef POLYMIX_EXAMPLES_CPP_FASHION_MNIST_H_
#define POLYMIX_EXAMPLES_CPP_FASHION_MNIST_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pmx {
namespace examples {

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr char kDebianFashionMnistFolder[] = "/usr/share/datasets/fashion-mnist";

// The ten Fashion-MNIST classes, by label.
inline constexpr std::array<const char*, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// One split of the dataset: `count` 28x28 images as float32 in [0, 1], row-major, and their labels.
struct ImageSet {
  int64_t count = 0;          // Number of images.
  int64_t rows = 0, cols = 0;  // Image size (28 x 28).
  std::vector<float> pixels;  // count * rows * cols values in [0, 1].
  std::vector<float> labels;  // count labels 0..9 (float32, as SoftmaxOutput's label input takes them).
};

// Reads "<prefix>-images-idx3-ubyte[.gz]" and "<prefix>-labels-idx1-ubyte[.gz]" from `folder` (prefix "train"
// or "t10k"). Throws pmx::Error (ValueError) naming the file for a missing, truncated or malformed file.
ImageSet LoadFashionMnist(const std::string& folder, const std::string& prefix);

}  // namespace examples
}  // namespace pmx

#endif  // POLYMIX_EXAMPLES_CPP_FASHION_MNIST_H_
