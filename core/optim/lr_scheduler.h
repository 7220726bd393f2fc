// Learning-rate schedules (MXNet 1.x's mx.lr_scheduler): Factor, MultiFactor, Poly and Cosine, each with
// an optional linear or constant warmup. See Note [Scheduler state].
#ifndef POLYMIX_CORE_OPTIM_LR_SCHEDULER_H_
#define POLYMIX_CORE_OPTIM_LR_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/optim/internal/kwargs.h"

namespace pmx {
namespace optim {

// Note [Scheduler state]
// ~~~~~~~~~~~~~~~~~~~~~~
// MXNet's schedulers are stateful callables and Polymix keeps their exact behaviour:
// - Factor and MultiFactor decay `base_lr` in place as num_update passes their steps, so asking again for
//   an earlier num_update does not undo a decay (training resumed with begin_num_update still works).
// - An optimizer given a scheduler overwrites its base_lr with the optimizer's learning_rate (MXNet's
//   Optimizer.__init__). Poly and Cosine compute from the base_lr they were constructed with, and the
//   warmup always ends at the constructor's base_lr, so for those the overwrite has no effect — as in MXNet.
// - Warmup covers num_update < warmup_steps: linear goes from warmup_begin_lr towards the constructor's
//   base_lr in warmup_steps equal increments; constant stays at warmup_begin_lr.

// Options shared by every schedule (MXNet's LRScheduler constructor).
struct WarmupOptions {
  double base_lr = 0.01;             // The learning rate after warmup.
  int64_t warmup_steps = 0;          // Updates spent warming up (>= 0).
  double warmup_begin_lr = 0;        // The learning rate warmup starts from (<= base_lr).
  std::string warmup_mode = "linear";  // "linear" or "constant".
};

// A learning-rate schedule: the learning rate for a given number of updates.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // The learning rate after `num_update` updates (the largest update count of any weight); may advance
  // the scheduler's state (Note [Scheduler state]).
  virtual double operator()(int64_t num_update) = 0;
  // The registered name: "factor", "multifactor", "poly" or "cosine".
  virtual std::string name() const = 0;
  // The current base learning rate.
  double base_lr() const { return base_lr_; }
  // Overwrites the base learning rate (what an optimizer does with its learning_rate).
  void set_base_lr(double base_lr) { base_lr_ = base_lr; }

 protected:
  // Validates the warmup options (ValueError naming `where`).
  LRScheduler(const WarmupOptions& warmup, const std::string& where);
  // The learning rate during warmup; requires num_update < warmup_steps.
  double WarmupLr(int64_t num_update) const;

  double base_lr_;
  int64_t warmup_steps_;
  double warmup_begin_lr_;
  double warmup_final_lr_;  // The constructor's base_lr.
  std::string warmup_mode_;
};

// base_lr * factor**k after k whole `step`s (counted past step, 2*step, ...), never below stop_factor_lr.
class FactorScheduler : public LRScheduler {
 public:
  // step >= 1, factor <= 1 (ValueError otherwise).
  FactorScheduler(int64_t step, double factor = 1, double stop_factor_lr = 1e-8, const WarmupOptions& warmup = {});
  double operator()(int64_t num_update) override;
  std::string name() const override { return "factor"; }

 private:
  int64_t step_;
  double factor_;
  double stop_factor_lr_;
  int64_t count_ = 0;  // The last step boundary passed.
};

// base_lr * factor**k once num_update has passed k of the increasing `steps`.
class MultiFactorScheduler : public LRScheduler {
 public:
  // `steps` strictly increasing and >= 1, factor <= 1 (ValueError otherwise).
  MultiFactorScheduler(std::vector<int64_t> steps, double factor = 1, const WarmupOptions& warmup = {});
  double operator()(int64_t num_update) override;
  std::string name() const override { return "multifactor"; }

 private:
  std::vector<int64_t> steps_;
  double factor_;
  size_t next_step_ = 0;  // Index of the first step not yet passed.
};

// final_lr + (base_lr - final_lr) * (1 - (n - warmup_steps) / (max_update - warmup_steps))**pwr for
// warmup_steps <= n <= max_update; the last value afterwards.
class PolyScheduler : public LRScheduler {
 public:
  // max_update >= 1 and > warmup_steps (ValueError otherwise).
  PolyScheduler(int64_t max_update, double pwr = 2, double final_lr = 0, const WarmupOptions& warmup = {});
  double operator()(int64_t num_update) override;
  std::string name() const override { return "poly"; }

 private:
  int64_t max_update_;
  double power_;
  double final_lr_;
  double original_base_lr_;  // The constructor's base_lr (Note [Scheduler state]).
};

// final_lr + (base_lr - final_lr) * (1 + cos(pi * (n - warmup_steps) / (max_update - warmup_steps))) / 2
// for warmup_steps <= n <= max_update; the last value afterwards.
class CosineScheduler : public LRScheduler {
 public:
  // max_update >= 1 and > warmup_steps (ValueError otherwise).
  CosineScheduler(int64_t max_update, double final_lr = 0, const WarmupOptions& warmup = {});
  double operator()(int64_t num_update) override;
  std::string name() const override { return "cosine"; }

 private:
  int64_t max_update_;
  double final_lr_;
  double original_base_lr_;  // The constructor's base_lr (Note [Scheduler state]).
};

// Creates a schedule by name ("factor", "multifactor", "poly", "cosine", or the class names such as
// "FactorScheduler"; case-insensitive) from string keyword arguments named as MXNet's constructors
// (step, factor, stop_factor_lr, max_update, pwr, final_lr, base_lr, warmup_steps, warmup_begin_lr,
// warmup_mode). ValueError for an unknown name, an unknown or missing parameter, or a bad value.
std::unique_ptr<LRScheduler> CreateLRScheduler(const std::string& name, const KwArgs& kwargs = {});

}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_LR_SCHEDULER_H_
