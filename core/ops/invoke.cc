#include "core/ops/invoke.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_join.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"
#include "core/base/mutex.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace {

// Note [Random seeds]
// Each device has one generator that hands a fresh 64-bit seed to every random op at push time, on the
// pushing thread, so that results depend only on the program order of calls and the seed given to
// SeedRandom, never on how the engine schedules the kernels. Kernels derive their streams from the seed
// (counter-based on GPUs, std::mt19937_64 per chunk on the host).
class RandomSeeds {
 public:
  uint64_t Next(Device device) {
    MutexLock lock(&mutex_);
    auto found = generators_.find(Key(device));
    if (found == generators_.end()) {
      found = generators_.emplace(Key(device), std::mt19937_64(base_seed_ + Key(device))).first;
    }
    return found->second();
  }
  void Seed(uint64_t seed) {
    MutexLock lock(&mutex_);
    base_seed_ = seed;
    generators_.clear();
  }

 private:
  static uint64_t Key(Device device) {
    const int type = device.type == DeviceType::kGPU ? 2 : 1;
    return static_cast<uint64_t>(type) * 1000003u + static_cast<uint64_t>(device.id);
  }
  Mutex mutex_;
  uint64_t base_seed_ ABSL_GUARDED_BY(mutex_) = 0x5eed;
  std::map<uint64_t, std::mt19937_64> generators_ ABSL_GUARDED_BY(mutex_);
};

RandomSeeds& Seeds() {
  static RandomSeeds* seeds = new RandomSeeds();
  return *seeds;
}

const Kernel& FindKernel(const OpDef& op, Device device) {
  const DeviceType type = device.type == DeviceType::kGPU ? DeviceType::kGPU : DeviceType::kCPU;
  auto found = op.kernels.find(type);
  if (found == op.kernels.end()) {
    Throw(ErrorKind::kNotImplementedError, "[%s] no %s kernel for %s yet", op.name,
          type == DeviceType::kGPU ? "GPU" : "CPU", op.name);
  }
  return found->second;
}

TensorRef RefOf(const NDArray& array) {
  TensorRef ref;
  ref.data = array.data();
  ref.shape = array.shape();
  ref.dtype = array.dtype();
  ref.device = array.device();
  return ref;
}

// Note [One record per call]
// An imperative call is pushed as a closure that the engine's worker runs and frees. Every separate heap
// object in it is allocated on the calling thread and freed on the worker, and glibc serves such frees through
// the calling thread's arena lock, which the caller contends for with its next allocation: for a one-element
// `a + b` that traffic, not the kernel, was most of the dispatch cost. So the call's refs, write modes,
// parameters and flags live in one record (small vectors inline) and the kernel is referenced, not copied:
// the registry owns it for the life of the process.

// One pushed call: the kernel with its tensors, modes, parameters and flags.
struct PendingCall {
  const Kernel* kernel = nullptr;
  absl::InlinedVector<TensorRef, 3> inputs;
  absl::InlinedVector<TensorRef, 2> outputs;
  absl::InlinedVector<WriteMode, 2> modes;
  OpParams params;
  uint64_t seed = 0;
  bool is_train = false;
  bool needs_temp = false;

  // Runs the kernel on the worker: `run` carries the device and stream.
  void Run(const RunContext& run) const {
    KernelContext context;
    context.params = &params;
    context.device = run.device;
    context.stream = run.stream;
    context.modes.assign(modes.begin(), modes.end());
    context.is_train = is_train;
    context.seed = seed;
    std::vector<StorageBlock> temps;
    if (needs_temp) {
      context.temp_space = [&temps, &run](size_t bytes) {
        temps.push_back(Storage::Get()->Allocate(bytes, run.device));
        return temps.back().data;
      };
    }
    // A GPU kernel is only queued when it returns: its scratch memory goes back to the pool (where work on
    // another stream may take it at once) only after the stream has finished with it.
    auto free_temps = [&temps, &run] {
      if (temps.empty()) return;
      if (run.stream != nullptr) gpu::SynchronizeStream(run.stream);
      for (StorageBlock& block : temps) Storage::Get()->Free(block);
    };
    try {
      (*kernel)(context, inputs, outputs);
    } catch (...) {
      free_temps();
      throw;
    }
    free_temps();
  }
};

}  // namespace

namespace {

// InferOutputs on shapes and dtypes already wrapped as MaybeShape/MaybeDType (Invoke builds them so directly,
// saving a copy of each list per call). `given(i)` is input i's actual shape (inference may rewrite in_shapes).
void InferOutputsOf(const OpDef& op, const OpParams& params, absl::FunctionRef<const Shape&(size_t)> given,
                    std::vector<MaybeShape> in_shapes, std::vector<MaybeDType> in_dtypes,
                    std::vector<MaybeShape>* out_shapes, std::vector<MaybeDType>* out_dtypes) {
  const int num_outputs = op.NumOutputs(params);
  const size_t num_inputs = in_shapes.size();
  out_shapes->assign(num_outputs, std::nullopt);
  const bool shapes_known = op.infer_shape(params, &in_shapes, out_shapes);
  for (size_t i = 0; i < in_shapes.size(); ++i) {
    PMX_CHECK(in_shapes[i].has_value() && *in_shapes[i] == given(i), kValueError,
              "[%s] input %d has shape %s, but the op expects %s", op.name, static_cast<int>(i),
              given(i).ToString(), in_shapes[i] ? in_shapes[i]->ToString() : std::string("another shape"));
  }
  if (!shapes_known) {
    std::vector<std::string> given_text;
    for (size_t i = 0; i < num_inputs; ++i) given_text.push_back(given(i).ToString());
    Throw(ErrorKind::kValueError, "[%s] cannot infer the output shapes from the input shapes (%s)", op.name,
          absl::StrJoin(given_text, ", "));
  }
  out_dtypes->assign(num_outputs, std::nullopt);
  bool dtypes_known;
  if (op.infer_type) {
    dtypes_known = op.infer_type(params, &in_dtypes, out_dtypes);
  } else {
    for (size_t i = 1; i < in_dtypes.size(); ++i) {
      PMX_CHECK(in_dtypes[i] == in_dtypes[0], kTypeError,
                "[%s] input %d has dtype %s but input 0 has %s: expected the same dtype", op.name,
                static_cast<int>(i), DTypeName(*in_dtypes[i]), DTypeName(*in_dtypes[0]));
    }
    dtypes_known = !in_dtypes.empty();
    for (MaybeDType& dtype : *out_dtypes) dtype = in_dtypes.empty() ? MaybeDType() : in_dtypes[0];
  }
  PMX_CHECK(dtypes_known, kTypeError, "[%s] cannot infer the output dtypes", op.name);
  for (int i = 0; i < num_outputs; ++i) {
    PMX_CHECK((*out_shapes)[i].has_value() && (*out_dtypes)[i].has_value(), kValueError,
              "[%s] output %d could not be inferred", op.name, i);
  }
}

}  // namespace

void InferOutputs(const OpDef& op, const OpParams& params, const std::vector<Shape>& input_shapes,
                  const std::vector<DType>& input_dtypes, std::vector<Shape>* output_shapes,
                  std::vector<DType>* output_dtypes) {
  std::vector<MaybeShape> out_shapes;
  std::vector<MaybeDType> out_dtypes;
  InferOutputsOf(op, params, [&](size_t i) -> const Shape& { return input_shapes[i]; }, std::vector<MaybeShape>(input_shapes.begin(), input_shapes.end()),
                 std::vector<MaybeDType>(input_dtypes.begin(), input_dtypes.end()), &out_shapes, &out_dtypes);
  output_shapes->clear();
  output_dtypes->clear();
  for (size_t i = 0; i < out_shapes.size(); ++i) {
    output_shapes->push_back(*out_shapes[i]);
    output_dtypes->push_back(*out_dtypes[i]);
  }
}

std::vector<NDArray> Invoke(const OpDef& op, const std::vector<NDArray>& inputs, const OpParams& params,
                            const InvokeOptions& options) {
  const int num_inputs = op.NumInputs(params);
  PMX_CHECK(static_cast<int>(inputs.size()) == num_inputs, kValueError,
            "[%s] expected %d input(s), given %d", op.name, num_inputs, static_cast<int>(inputs.size()));
  Device device = options.device.value_or(DefaultDevice());
  // Creation and sampling ops carry MXNet's `ctx` parameter (Note [Devices of creation ops] in init.cc): it
  // places their output when the caller named no device.
  if (!options.device && inputs.empty() &&
      std::any_of(op.params.begin(), op.params.end(), [](const ParamDef& def) { return def.name == "ctx"; }) &&
      !params.Str("ctx").empty()) {
    device = Device::Parse(params.Str("ctx"));
  }
  std::vector<MaybeShape> input_shapes;
  std::vector<MaybeDType> input_dtypes;
  input_shapes.reserve(inputs.size());
  input_dtypes.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    PMX_CHECK(!inputs[i].is_none(), kValueError, "[%s] input %d is a none array", op.name, static_cast<int>(i));
    if (i == 0 && !options.device) device = inputs[0].device();
    PMX_CHECK(inputs[i].device() == device || (inputs[i].device().is_host() && device.is_host()), kValueError,
              "[%s] input %d is on %s but the op runs on %s: copy it first (copyto / as_in_context)", op.name,
              static_cast<int>(i), inputs[i].device().ToString(), device.ToString());
    input_shapes.push_back(inputs[i].shape());
    input_dtypes.push_back(inputs[i].dtype());
  }
  std::vector<MaybeShape> output_shapes;
  std::vector<MaybeDType> output_dtypes;
  InferOutputsOf(op, params, [&](size_t i) -> const Shape& { return inputs[i].shape(); }, std::move(input_shapes), std::move(input_dtypes), &output_shapes, &output_dtypes);
  const Kernel& kernel = FindKernel(op, device);

  std::vector<NDArray> outputs = options.outputs;
  if (outputs.empty()) {
    outputs.reserve(output_shapes.size());
    for (size_t i = 0; i < output_shapes.size(); ++i) {
      outputs.push_back(NDArray::Empty(*output_shapes[i], *output_dtypes[i], device));
    }
  } else {
    PMX_CHECK(outputs.size() == output_shapes.size(), kValueError, "[%s] expected %d output array(s), given %d",
              op.name, static_cast<int>(output_shapes.size()), static_cast<int>(outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
      PMX_CHECK(outputs[i].shape() == *output_shapes[i] && outputs[i].dtype() == *output_dtypes[i], kValueError,
                "[%s] output %d is %s %s but the op produces %s %s", op.name, static_cast<int>(i),
                outputs[i].shape().ToString(), DTypeName(outputs[i].dtype()), output_shapes[i]->ToString(),
                DTypeName(*output_dtypes[i]));
      PMX_CHECK(outputs[i].device() == device, kValueError, "[%s] output %d is on %s, expected %s", op.name,
                static_cast<int>(i), outputs[i].device().ToString(), device.ToString());
    }
  }

  // Variables: outputs and mutated inputs are written; other inputs read (never both, never twice).
  std::vector<VarHandle> mutable_vars;
  auto add_unique = [](std::vector<VarHandle>* vars, VarHandle var) {
    if (std::find(vars->begin(), vars->end(), var) == vars->end()) vars->push_back(var);
  };
  for (const NDArray& output : outputs) add_unique(&mutable_vars, output.var());
  for (int index : op.MutatedInputs(params)) add_unique(&mutable_vars, inputs.at(index).var());
  std::vector<VarHandle> const_vars;
  for (const NDArray& input : inputs) {
    if (std::find(mutable_vars.begin(), mutable_vars.end(), input.var()) == mutable_vars.end()) {
      add_unique(&const_vars, input.var());
    }
  }

  // Everything the kernel needs, in one allocation shared by the engine's closure (Note [One record per call]).
  auto call = std::make_shared<PendingCall>();
  call->kernel = &kernel;
  for (const NDArray& input : inputs) call->inputs.push_back(RefOf(input));
  for (const NDArray& output : outputs) call->outputs.push_back(RefOf(output));
  call->modes.assign(options.modes.begin(), options.modes.end());
  call->modes.resize(outputs.size(), WriteMode::kWrite);
  call->params = params;
  call->seed = op.needs_rng ? Seeds().Next(device) : 0;
  call->is_train = options.is_train;
  call->needs_temp = op.needs_temp_space;

  Engine::Get()->PushSync([call = std::move(call)](RunContext run) { call->Run(run); }, device,
                          std::move(const_vars), std::move(mutable_vars), FnProperty::kNormal, 0, op.name.c_str());
  return outputs;
}

std::vector<NDArray> Invoke(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params,
                            const InvokeOptions& options) {
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  return Invoke(def, inputs, def.ParseParams(params), options);
}

NDArray Invoke1(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params) {
  return Invoke(op, inputs, params).at(0);
}

void SeedRandom(uint64_t seed) { Seeds().Seed(seed); }

uint64_t NextRandomSeed(Device device) { return Seeds().Next(device); }

}  // namespace pmx
