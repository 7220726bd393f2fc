// MXNet .params files for JS: save and load, each as a Promise (file I/O on a worker) and a blocking variant.
#include <memory>

#include "bindings/js/src/addon.h"
#include "bindings/js/src/async.h"

namespace pmx_js {
namespace {

// What a save needs on the worker: private handles (the caller may dispose its arrays meanwhile) and names.
struct SaveJob {
  std::string path;
  std::vector<PmxNDArrayHandle> arrays;
  std::vector<std::string> names;
  bool named = false;

  ~SaveJob() {
    for (PmxNDArrayHandle array : arrays) pmx_ndarray_free(array);
  }

  // Writes the file; returns the error met.
  CapturedError Run() const {
    std::vector<const char*> name_pointers;
    for (const std::string& name : names) name_pointers.push_back(name.c_str());
    return Check(pmx_ndarray_save(path.c_str(), static_cast<int>(arrays.size()), arrays.data(),
                                  named ? name_pointers.data() : nullptr));
  }
};

// Reads (path, handles, names | null) into a job holding private handles.
bool ToSaveJob(napi_env env, napi_callback_info info, const char* function, SaveJob* job) {
  napi_value argv[3];
  std::vector<PmxNDArrayHandle> handles;
  if (!GetArgs(env, info, 3, argv, function) || !ToString(env, argv[0], "path", &job->path) ||
      !ToHandleList(env, argv[1], "arrays", false, &handles)) {
    return false;
  }
  job->named = !IsNullish(env, argv[2]);
  if (job->named && !ToStringList(env, argv[2], "names", &job->names)) return false;
  if (job->named && job->names.size() != handles.size()) {
    ThrowError(env, PMX_ERROR_VALUE, std::string("[") + function + "] " + std::to_string(handles.size()) +
                                         " arrays but " + std::to_string(job->names.size()) + " names");
    return false;
  }
  for (PmxNDArrayHandle handle : handles) {
    PmxNDArrayHandle own = nullptr;
    if (pmx_autograd_detach(handle, &own) != 0) {
      ThrowLastError(env);
      return false;
    }
    job->arrays.push_back(own);
  }
  return true;
}

// saveSync(path, handles, names | null)
napi_value SaveSync(napi_env env, napi_callback_info info) {
  SaveJob job;
  if (!ToSaveJob(env, info, "saveSync", &job)) return nullptr;
  const CapturedError error = job.Run();
  if (error.kind != PMX_OK) {
    napi_throw(env, MakeError(env, error));
    return nullptr;
  }
  return Undefined(env);
}

// save(path, handles, names | null) -> Promise<undefined>
napi_value Save(napi_env env, napi_callback_info info) {
  auto job = std::make_shared<SaveJob>();
  if (!ToSaveJob(env, info, "save", job.get())) return nullptr;
  return StartAsync(
      env, "polymix.save", [job]() { return job->Run(); }, [](napi_env env) { return Undefined(env); }, {});
}

// {handles, names}: the arrays of a loaded list (names null for an unnamed list); frees the list.
napi_value ListToJs(napi_env env, PmxNDArrayListHandle list) {
  std::unique_ptr<PmxNDArrayList, int (*)(PmxNDArrayListHandle)> owner(list, pmx_ndarray_list_free);
  int count = 0;
  if (pmx_ndarray_list_size(list, &count) != 0) return ThrowLastError(env);
  // Take every handle first (C only), so that a failure below leaks none: WrapHandles owns them all.
  std::vector<PmxNDArrayHandle> handles(count, nullptr);
  std::vector<const char*> names(count, nullptr);  // Valid while the list lives.
  for (int i = 0; i < count; ++i) {
    if (pmx_ndarray_list_get(list, i, &handles[i]) != 0 || pmx_ndarray_list_get_name(list, i, &names[i]) != 0) {
      const CapturedError error = CaptureLastError();
      for (PmxNDArrayHandle taken : handles) pmx_ndarray_free(taken);
      napi_throw(env, MakeError(env, error));
      return nullptr;
    }
  }
  napi_value wrapped = WrapHandles(env, count, handles.data());
  if (wrapped == nullptr) return nullptr;
  napi_value result, js_names = Null(env);
  if (count > 0 && names[0] != nullptr) {
    PMX_JS_CALL(env, napi_create_array_with_length(env, count, &js_names));
    for (int i = 0; i < count; ++i) {
      napi_value name = MakeString(env, names[i]);
      if (name == nullptr) return nullptr;
      PMX_JS_CALL(env, napi_set_element(env, js_names, i, name));
    }
  }
  PMX_JS_CALL(env, napi_create_object(env, &result));
  PMX_JS_CALL(env, napi_set_named_property(env, result, "handles", wrapped));
  PMX_JS_CALL(env, napi_set_named_property(env, result, "names", js_names));
  return result;
}

// loadSync(path) -> {handles, names}
napi_value LoadSync(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!GetArgs(env, info, 1, argv, "loadSync") || !ToString(env, argv[0], "path", &path)) return nullptr;
  PmxNDArrayListHandle list = nullptr;
  if (pmx_ndarray_load(path.c_str(), &list) != 0) return ThrowLastError(env);
  return ListToJs(env, list);
}

// load(path) -> Promise<{handles, names}>
napi_value Load(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!GetArgs(env, info, 1, argv, "load") || !ToString(env, argv[0], "path", &path)) return nullptr;
  // The list travels from the worker to the JS thread; freed there (or here if the work never hands it over).
  auto list = std::shared_ptr<PmxNDArrayListHandle>(new PmxNDArrayListHandle(nullptr), [](PmxNDArrayListHandle* p) {
    pmx_ndarray_list_free(*p);
    delete p;
  });
  return StartAsync(
      env, "polymix.load", [path, list]() { return Check(pmx_ndarray_load(path.c_str(), list.get())); },
      [list](napi_env env) {
        PmxNDArrayListHandle taken = *list;
        *list = nullptr;
        return ListToJs(env, taken);
      },
      {});
}

}  // namespace

void AddIoExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"save", Save},
                                      {"saveSync", SaveSync},
                                      {"load", Load},
                                      {"loadSync", LoadSync},
                                  });
}

}  // namespace pmx_js
