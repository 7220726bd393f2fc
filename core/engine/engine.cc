#include "core/engine/engine.h"

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/internal/naive_engine.h"
#include "core/engine/internal/threaded_engine.h"

namespace pmx {

// Note [Engine singleton lifetime]
// Engine::Get()'s engine is created on first use and never destroyed. Destroying it from a static
// destructor would join worker threads while other statics (and a binding's interpreter) are being torn
// down, in an order no one controls; MXNet hit exactly that at exit. The pointer stays reachable, so
// leak checkers do not report it. Work still pending at exit is abandoned: call WaitForAll first.

Engine* Engine::Get() {
  static Engine* const engine = CreateEngine(Env().engine_type).release();
  return engine;
}

std::unique_ptr<Engine> CreateEngine(const std::string& type, int cpu_workers) {
  if (type == "NaiveEngine") return std::make_unique<engine_internal::NaiveEngine>();
  // MXNet's names for its threaded engines all mean ours.
  if (type == "ThreadedEngine" || type == "ThreadedEnginePerDevice" || type == "ThreadedEnginePooled") {
    return std::make_unique<engine_internal::ThreadedEngine>(cpu_workers > 0 ? cpu_workers
                                                                             : Env().cpu_worker_threads);
  }
  Throw(ErrorKind::kValueError, "[CreateEngine] type: expected ThreadedEngine or NaiveEngine, got '%s'", type);
}

}  // namespace pmx
