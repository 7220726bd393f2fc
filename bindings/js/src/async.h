// Promises backed by napi_async_work: the C ABI's blocking calls (waits, copies to the host, file I/O) run on a
// libuv worker thread so that the JS thread never blocks on them.
#ifndef POLYMIX_BINDINGS_JS_SRC_ASYNC_H_
#define POLYMIX_BINDINGS_JS_SRC_ASYNC_H_

#include <functional>
#include <vector>

#include "bindings/js/src/addon.h"

namespace pmx_js {

// Work for a worker thread: returns the error it met (kind PMX_OK on success; see Check); it must not touch
// JS values.
using AsyncWork = std::function<CapturedError()>;
// Runs on the JS thread after successful work: the value the Promise resolves with (nullptr with a pending
// exception rejects it with that exception).
using AsyncResult = std::function<napi_value(napi_env)>;

// The calling thread's last error if `status` is a C ABI failure, else no error (kind PMX_OK).
CapturedError Check(int status);

// Queues `work` and returns its Promise. `keep_alive` values (typed arrays written by the work) stay referenced
// until the Promise settles. A failure of the work rejects with the error lib/errors.js builds for its kind.
napi_value StartAsync(napi_env env, const char* name, AsyncWork work, AsyncResult result,
                      const std::vector<napi_value>& keep_alive);

}  // namespace pmx_js

#endif  // POLYMIX_BINDINGS_JS_SRC_ASYNC_H_
