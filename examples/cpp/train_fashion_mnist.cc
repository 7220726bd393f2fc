// The main job (until the Python package lands): trains a small CNN on Fashion-MNIST with the C++ core —
// a Symbol bound by the graph Executor (memory-planned, fused), Adam from core/optim, Xavier initialisation —
// prints progress and per-epoch loss / accuracy / throughput, evaluates on the test set, exports the model in
// MXNet's format (<prefix>-symbol.json + <prefix>-0000.params), reloads it and prints a few predictions.
//
//   bazel run --config=opt //examples/cpp:train_fashion_mnist -- [--epochs N] [--batch-size B] [--data DIR]
//                                                                 [--out PREFIX] [--limit N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/array/ndarray_io.h"
#include "core/base/error.h"
#include "core/graph/executor.h"
#include "core/graph/symbol.h"
#include "core/ops/invoke.h"
#include "core/optim/initializer.h"
#include "core/optim/metric.h"
#include "core/optim/optimizer.h"
#include "examples/cpp/fashion_mnist.h"

namespace pmx {
namespace examples {
namespace {

using graph::Executor;
using graph::Symbol;

// Command-line settings.
struct Settings {
  int epochs = 4;
  int batch_size = 128;
  std::string data = kDebianFashionMnistFolder;
  std::string out;  // Export prefix; default: $TEST_TMPDIR (under bazel test) or /tmp, + /polymix-fashion-mnist-cnn.
  int64_t limit = 0;  // Use only the first `limit` training images (0: all); for quick smoke runs.
};

Settings ParseSettings(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    PMX_CHECK(i + 1 < argc, kValueError, "[train_fashion_mnist] %s needs a value", flag);
    const std::string value = argv[++i];
    if (flag == "--epochs") {
      settings.epochs = std::atoi(value.c_str());
    } else if (flag == "--batch-size") {
      settings.batch_size = std::atoi(value.c_str());
    } else if (flag == "--data") {
      settings.data = value;
    } else if (flag == "--out") {
      settings.out = value;
    } else if (flag == "--limit") {
      settings.limit = std::atoll(value.c_str());
    } else {
      Throw(ErrorKind::kValueError,
            "[train_fashion_mnist] unknown flag %s: expected --epochs, --batch-size, --data, --out or --limit", flag);
    }
  }
  if (settings.out.empty()) {
    const char* folder = std::getenv("TEST_TMPDIR");
    settings.out = std::string(folder != nullptr ? folder : "/tmp") + "/polymix-fashion-mnist-cnn";
  }
  PMX_CHECK(settings.epochs > 0 && settings.batch_size > 0, kValueError,
            "[train_fashion_mnist] --epochs and --batch-size must be positive, given %d and %d", settings.epochs,
            settings.batch_size);
  return settings;
}

Symbol Op(const std::string& op, const std::vector<Symbol>& inputs, const ParamMap& params, const std::string& name) {
  return Symbol::Create(op, inputs, {}, params, name);
}

// conv(32) - BN - relu - pool - conv(64) - BN - relu - pool - fc(128) - relu - dropout - fc(10) - softmax.
Symbol BuildNetwork() {
  Symbol x = Symbol::Variable("data");
  for (const auto& [name, filters] : std::vector<std::pair<std::string, std::string>>{{"1", "32"}, {"2", "64"}}) {
    x = Op("Convolution", {x}, {{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", filters}, {"no_bias", "True"}},
           "conv" + name);
    x = Op("BatchNorm", {x}, {{"fix_gamma", "False"}}, "bn" + name);
    x = Op("Activation", {x}, {{"act_type", "relu"}}, "relu" + name);
    x = Op("Pooling", {x}, {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}}, "pool" + name);
  }
  x = Op("Flatten", {x}, {}, "flatten");
  x = Op("FullyConnected", {x}, {{"num_hidden", "128"}}, "fc1");
  x = Op("Activation", {x}, {{"act_type", "relu"}}, "relu3");
  x = Op("Dropout", {x}, {{"p", "0.25"}}, "drop");
  x = Op("FullyConnected", {x}, {{"num_hidden", "10"}}, "fc2");
  return Op("SoftmaxOutput", {x}, {}, "softmax");
}

// Copies images [first, first + count) of `set` (in `order`) into the data and label arrays.
void FillBatch(const ImageSet& set, const std::vector<int64_t>& order, int64_t first, int64_t count,
               const NDArray& data, const NDArray& label) {
  const int64_t pixels = set.rows * set.cols;
  std::vector<float> images(count * pixels), labels(count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = order[first + i];
    std::memcpy(images.data() + i * pixels, set.pixels.data() + index * pixels, pixels * sizeof(float));
    labels[i] = set.labels[index];
  }
  data.CopyFromHost(images.data(), images.size() * sizeof(float));
  label.CopyFromHost(labels.data(), labels.size() * sizeof(float));
}

// Accuracy of `executor` (inference) over the whole of `set`, batch by batch (the last batch padded).
double Evaluate(Executor* executor, const ImageSet& set, int batch_size) {
  std::vector<int64_t> order(set.count);
  std::iota(order.begin(), order.end(), 0);
  order.resize(((set.count + batch_size - 1) / batch_size) * batch_size, 0);  // Pad with image 0.
  const NDArray data = executor->arg_dict().at("data");
  const NDArray label = executor->arg_dict().at("softmax_label");
  int64_t correct = 0;
  std::vector<float> probabilities(static_cast<size_t>(batch_size) * 10);
  for (int64_t first = 0; first < set.count; first += batch_size) {
    FillBatch(set, order, first, batch_size, data, label);
    executor->Forward(false);
    executor->outputs()[0].CopyToHost(probabilities.data(), probabilities.size() * sizeof(float));
    for (int64_t i = 0; i < batch_size && first + i < set.count; ++i) {
      const float* row = probabilities.data() + i * 10;
      correct += (std::max_element(row, row + 10) - row) == static_cast<int64_t>(set.labels[first + i]);
    }
  }
  return static_cast<double>(correct) / set.count;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Run(const Settings& settings) {
  std::printf("Loading Fashion-MNIST from %s\n", settings.data.c_str());
  ImageSet train = LoadFashionMnist(settings.data, "train");
  const ImageSet test = LoadFashionMnist(settings.data, "t10k");
  if (settings.limit > 0 && settings.limit < train.count) {
    train.count = settings.limit;
    train.pixels.resize(train.count * train.rows * train.cols);
    train.labels.resize(train.count);
  }
  std::printf("  %lld training and %lld test images of %lldx%lld\n", static_cast<long long>(train.count),
              static_cast<long long>(test.count), static_cast<long long>(train.rows),
              static_cast<long long>(train.cols));

  SeedRandom(42);
  const Symbol network = BuildNetwork();
  const int batch = settings.batch_size;
  const Shape data_shape{batch, 1, train.rows, train.cols};
  std::unique_ptr<Executor> trainer = Executor::SimpleBind(
      network, Device::cpu(), {{"data", data_shape}, {"softmax_label", Shape{batch}}}, {},
      {{"data", graph::GradReq::kNull}, {"softmax_label", graph::GradReq::kNull}});
  std::printf("Network: %zu parameters arrays, planned internal memory %.1f MiB (unplanned %.1f MiB)\n",
              trainer->arg_names().size() - 2, trainer->planned_bytes() / 1048576.0,
              trainer->unplanned_bytes() / 1048576.0);

  // Xavier for weights; biases, gamma/beta and the moving statistics by MXNet's name rules.
  const std::unique_ptr<optim::Initializer> init =
      optim::CreateInitializer("xavier", {{"rnd_type", "gaussian"}, {"factor_type", "in"}, {"magnitude", "2"}});
  const auto attrs = network.AttrDict();
  auto attrs_of = [&](const std::string& name) {
    auto found = attrs.find(name);
    return found == attrs.end() ? std::map<std::string, std::string>{} : found->second;
  };
  std::vector<int> parameters;  // Indices of trained arguments.
  for (size_t i = 0; i < trainer->arg_names().size(); ++i) {
    const std::string& name = trainer->arg_names()[i];
    if (name == "data" || name == "softmax_label") continue;
    init->Apply({name, attrs_of(name)}, trainer->arg_arrays()[i]);
    parameters.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < trainer->aux_names().size(); ++i) {
    init->Apply({trainer->aux_names()[i], attrs_of(trainer->aux_names()[i])}, trainer->aux_arrays()[i]);
  }

  const std::unique_ptr<optim::Optimizer> adam = optim::CreateOptimizer(
      "adam", {{"learning_rate", "0.002"}, {"rescale_grad", std::to_string(1.0 / batch)}, {"wd", "0.0001"}});
  std::map<int, std::string> index_names;
  for (int index : parameters) index_names[index] = trainer->arg_names()[index];
  adam->SetParamNames(index_names);
  std::vector<optim::OptimizerState> states;
  for (int index : parameters) states.push_back(adam->CreateState(index, trainer->arg_arrays()[index]));

  // An inference executor over the same parameter and statistics arrays (bound, not copied).
  std::vector<NDArray> eval_args = trainer->arg_arrays();
  const auto& names = trainer->arg_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "data") eval_args[i] = NDArray::Zeros(data_shape);
    if (names[i] == "softmax_label") eval_args[i] = NDArray::Zeros(Shape{batch});
  }
  std::unique_ptr<Executor> evaluator =
      Executor::Bind(network, Device::cpu(), eval_args, {}, {}, trainer->aux_arrays());

  std::mt19937_64 shuffle(7);
  std::vector<int64_t> order(train.count);
  std::iota(order.begin(), order.end(), 0);
  const NDArray data = trainer->arg_dict().at("data");
  const NDArray label = trainer->arg_dict().at("softmax_label");
  const int64_t batches = train.count / batch;
  std::vector<float> probabilities(static_cast<size_t>(batch) * 10);
  double test_accuracy = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), shuffle);
    const auto epoch_start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t b = 0; b < batches; ++b) {
      FillBatch(train, order, b * batch, batch, data, label);
      trainer->Forward(true);
      trainer->Backward();
      for (size_t k = 0; k < parameters.size(); ++k) {
        adam->Update(parameters[k], trainer->arg_arrays()[parameters[k]], trainer->grad_arrays()[parameters[k]],
                     &states[k]);
      }
      trainer->outputs()[0].CopyToHost(probabilities.data(), probabilities.size() * sizeof(float));
      for (int64_t i = 0; i < batch; ++i) {
        const float* row = probabilities.data() + i * 10;
        const int truth = static_cast<int>(train.labels[order[b * batch + i]]);
        loss_sum -= std::log(std::max(row[truth], 1e-12f));
        correct += (std::max_element(row, row + 10) - row) == truth;
      }
      seen += batch;
      if ((b + 1) % 20 == 0 || b + 1 == batches) {
        const int width = 30, filled = static_cast<int>(width * (b + 1) / batches);
        std::printf("\repoch %d/%d [%s%s] %lld/%lld  loss %.4f  acc %.4f  %.0f img/s", epoch, settings.epochs,
                    std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                    static_cast<long long>(seen), static_cast<long long>(batches * batch), loss_sum / seen,
                    static_cast<double>(correct) / seen, seen / Seconds(epoch_start));
        std::fflush(stdout);
      }
    }
    test_accuracy = Evaluate(evaluator.get(), test, batch);
    std::printf("\repoch %d/%d: train loss %.4f, train acc %.4f, test acc %.4f, %.0f img/s, %.1f s%20s\n", epoch,
                settings.epochs, loss_sum / seen, static_cast<double>(correct) / seen, test_accuracy,
                seen / Seconds(epoch_start), Seconds(epoch_start), "");
  }
  std::printf("Trained in %.1f s; test accuracy %.2f%%\n", Seconds(start), 100 * test_accuracy);

  // Export as MXNet does (model.export / save_checkpoint): the symbol JSON and "arg:"/"aux:"-named arrays.
  const std::string symbol_file = settings.out + "-symbol.json", params_file = settings.out + "-0000.params";
  network.Save(symbol_file);
  std::vector<NDArray> saved;
  std::vector<std::string> saved_names;
  for (int index : parameters) {
    saved.push_back(trainer->arg_arrays()[index]);
    saved_names.push_back("arg:" + trainer->arg_names()[index]);
  }
  for (size_t i = 0; i < trainer->aux_names().size(); ++i) {
    saved.push_back(trainer->aux_arrays()[i]);
    saved_names.push_back("aux:" + trainer->aux_names()[i]);
  }
  params::Save(params_file, saved, saved_names);
  std::printf("Exported %s and %s\n", symbol_file.c_str(), params_file.c_str());

  // Reload both files and predict a few test images.
  const Symbol loaded = Symbol::Load(symbol_file);
  const params::ArrayList arrays = params::Load(params_file);
  std::map<std::string, NDArray> by_name;
  for (size_t i = 0; i < arrays.arrays.size(); ++i) by_name[arrays.names[i]] = arrays.arrays[i];
  const int shown = 8;
  std::unique_ptr<Executor> predictor = Executor::SimpleBind(
      loaded, Device::cpu(), {{"data", Shape{shown, 1, test.rows, test.cols}}, {"softmax_label", Shape{shown}}}, {},
      {}, graph::GradReq::kNull);
  std::map<std::string, NDArray> arg_params, aux_params;
  for (const auto& [name, array] : by_name) (name.rfind("arg:", 0) == 0 ? arg_params : aux_params)[name.substr(4)] = array;
  predictor->CopyParamsFrom(arg_params, aux_params);
  std::vector<int64_t> first(shown);
  std::iota(first.begin(), first.end(), 0);
  FillBatch(test, first, 0, shown, predictor->arg_dict().at("data"), predictor->arg_dict().at("softmax_label"));
  predictor->Forward(false);
  std::vector<float> predicted(static_cast<size_t>(shown) * 10);
  predictor->outputs()[0].CopyToHost(predicted.data(), predicted.size() * sizeof(float));
  std::printf("Predictions of the reloaded model on the first %d test images:\n", shown);
  for (int i = 0; i < shown; ++i) {
    const float* row = predicted.data() + i * 10;
    const int64_t guess = std::max_element(row, row + 10) - row;
    const int truth = static_cast<int>(test.labels[i]);
    std::printf("  image %d: predicted %-12s (p = %.4f), true %-12s %s\n", i, kFashionMnistClasses[guess], row[guess],
                kFashionMnistClasses[truth], guess == truth ? "" : "<- wrong");
  }
  return 0;
}

}  // namespace
}  // namespace examples
}  // namespace pmx

int main(int argc, char** argv) {
  try {
    return pmx::examples::Run(pmx::examples::ParseSettings(argc, argv));
  } catch (const pmx::Error& error) {
    std::fprintf(stderr, "%s: %s\n", pmx::ErrorKindName(error.kind()), error.message().c_str());
    return 1;
  }
}
