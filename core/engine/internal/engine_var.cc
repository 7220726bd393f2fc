#include "core/engine/internal/engine_var.h"

#include <algorithm>
#include <utility>

namespace pmx {

using engine_internal::ErrorRecord;
using engine_internal::ReadyList;
using engine_internal::VarAccess;

void EngineVar::Enqueue(VarAccess* access) {
  access->next = nullptr;
  if (tail_ == nullptr) {
    head_ = tail_ = access;
  } else {
    tail_->next = access;
    tail_ = access;
  }
}

VarAccess* EngineVar::Dequeue() {
  VarAccess* access = head_;
  head_ = access->next;
  if (head_ == nullptr) tail_ = nullptr;
  return access;
}

bool EngineVar::AppendRead(VarAccess* access) {
  MutexLock lock(&mutex_);
  // A non-empty queue always starts with a waiting write, which this read must follow.
  if (!write_running_ && head_ == nullptr) {
    ++running_reads_;
    return true;
  }
  Enqueue(access);
  return false;
}

bool EngineVar::AppendWrite(VarAccess* access) {
  MutexLock lock(&mutex_);
  if (!write_running_ && running_reads_ == 0 && head_ == nullptr) {
    write_running_ = true;
    return true;
  }
  Enqueue(access);
  return false;
}

void EngineVar::CompleteRead(ReadyList* ready) {
  MutexLock lock(&mutex_);
  --running_reads_;
  if (running_reads_ == 0 && head_ != nullptr) {
    // Only writes wait while no write runs (reads are granted as soon as the write before them ends).
    write_running_ = true;
    ready->push_back(Dequeue()->op);
  }
}

void EngineVar::CompleteWrite(std::shared_ptr<ErrorRecord> error, ReadyList* ready) {
  MutexLock lock(&mutex_);
  write_running_ = false;
  error_ = std::move(error);
  while (head_ != nullptr && !head_->is_write) {
    ++running_reads_;
    ready->push_back(Dequeue()->op);
  }
  if (running_reads_ == 0 && head_ != nullptr) {
    write_running_ = true;
    ready->push_back(Dequeue()->op);
  }
}

bool EngineVar::NoPendingWrites() {
  MutexLock lock(&mutex_);
  return !write_running_ && head_ == nullptr;
}

std::shared_ptr<ErrorRecord> EngineVar::error() {
  MutexLock lock(&mutex_);
  return error_;
}

void EngineVar::set_error(std::shared_ptr<ErrorRecord> error) {
  MutexLock lock(&mutex_);
  error_ = std::move(error);
}

bool EngineVar::deletion_pushed() {
  MutexLock lock(&mutex_);
  return deletion_pushed_;
}

void EngineVar::mark_deletion_pushed() {
  MutexLock lock(&mutex_);
  deletion_pushed_ = true;
}

namespace engine_internal {

std::string OpName(const char* op_name) {
  return op_name == nullptr || *op_name == '\0' ? std::string("op") : std::string(op_name);
}

Error CurrentErrorNamed(const std::string& op_name) {
  Error error = CurrentExceptionAsError();
  if (!error.message().empty() && error.message()[0] == '[') return error;
  return Error(error.kind(), "[" + op_name + "] " + error.message());
}

Error ErrorNamed(const Error& error, const std::string& op_name, const std::string& context) {
  return Error(error.kind(), "[" + op_name + "] " + context + error.message());
}

void ValidateDevice(const std::string& op_name, Device device) {
  const auto type = static_cast<int32_t>(device.type);
  PMX_CHECK(type >= static_cast<int32_t>(DeviceType::kCPU) && type <= static_cast<int32_t>(DeviceType::kCPUPinned),
            kValueError, "[%s] device: expected cpu, gpu or cpu_pinned, got device type %d", op_name, type);
  PMX_CHECK(device.id >= 0, kValueError, "[%s] device: expected a non-negative device id, got %s", op_name,
            device.ToString());
}

namespace {

// Checks one list's entries one by one.
void ValidateEach(const void* owner, const std::string& op_name, const std::vector<VarHandle>& vars,
                  const char* list) {
  for (size_t i = 0; i < vars.size(); ++i) {
    EngineVar* var = vars[i];
    PMX_CHECK(var != nullptr, kValueError, "[%s] %s[%d]: expected a variable, got a null handle", op_name, list,
              i);
    PMX_CHECK(var->owner() == owner, kValueError,
              "[%s] %s[%d]: expected a variable of this engine, got one created by another engine", op_name,
              list, i);
    PMX_CHECK(!var->deletion_pushed(), kValueError,
              "[%s] %s[%d]: expected a live variable, got one already passed to DeleteVariable", op_name, list,
              i);
  }
}

// Position of `var` in `vars` before `end`, or -1.
int FindBefore(const std::vector<VarHandle>& vars, size_t end, VarHandle var) {
  for (size_t i = 0; i < end; ++i) {
    if (vars[i] == var) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

void ValidateVariables(const void* owner, const std::string& op_name, const std::vector<VarHandle>& const_vars,
                       const std::vector<VarHandle>& mutable_vars) {
  ValidateEach(owner, op_name, const_vars, "const_vars");
  ValidateEach(owner, op_name, mutable_vars, "mutable_vars");
  const size_t total = const_vars.size() + mutable_vars.size();
  if (total > 32) {
    // Long lists (grouped updates): sort a copy first so the common duplicate-free case is O(n log n).
    std::vector<VarHandle> all(const_vars);
    all.insert(all.end(), mutable_vars.begin(), mutable_vars.end());
    std::sort(all.begin(), all.end());
    if (std::adjacent_find(all.begin(), all.end()) == all.end()) return;
  }
  // Quadratic, but only for short lists or to name the positions of a duplicate known to exist.
  for (size_t i = 0; i < const_vars.size(); ++i) {
    const int earlier = FindBefore(const_vars, i, const_vars[i]);
    PMX_CHECK(earlier < 0, kValueError,
              "[%s] const_vars: expected each variable once, got the same variable at positions %d and %d",
              op_name, earlier, i);
  }
  for (size_t i = 0; i < mutable_vars.size(); ++i) {
    const int earlier = FindBefore(mutable_vars, i, mutable_vars[i]);
    PMX_CHECK(earlier < 0, kValueError,
              "[%s] mutable_vars: expected each variable once, got the same variable at positions %d and %d",
              op_name, earlier, i);
    const int as_const = FindBefore(const_vars, const_vars.size(), mutable_vars[i]);
    PMX_CHECK(as_const < 0, kValueError,
              "[%s] expected a variable in const_vars or mutable_vars, got const_vars[%d] also listed as "
              "mutable_vars[%d] (list a variable that is read and written in mutable_vars only)",
              op_name, as_const, i);
  }
}

}  // namespace engine_internal
}  // namespace pmx
