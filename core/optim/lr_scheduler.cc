#include "core/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "core/base/error.h"

namespace pmx {
namespace optim {

LRScheduler::LRScheduler(const WarmupOptions& warmup, const std::string& where)
    : base_lr_(warmup.base_lr),
      warmup_steps_(warmup.warmup_steps),
      warmup_begin_lr_(warmup.warmup_begin_lr),
      warmup_final_lr_(warmup.base_lr),
      warmup_mode_(warmup.warmup_mode) {
  PMX_CHECK(warmup_begin_lr_ <= warmup_final_lr_, kValueError,
            "%s warmup_begin_lr (%g) must not exceed base_lr (%g)", where, warmup_begin_lr_, warmup_final_lr_);
  PMX_CHECK(warmup_steps_ >= 0, kValueError, "%s warmup_steps must be >= 0, given %d", where, warmup_steps_);
  PMX_CHECK(warmup_mode_ == "linear" || warmup_mode_ == "constant", kValueError,
            "%s warmup_mode must be 'linear' or 'constant', given '%s'", where, warmup_mode_);
}

double LRScheduler::WarmupLr(int64_t num_update) const {
  if (warmup_mode_ == "constant") return warmup_begin_lr_;
  return warmup_begin_lr_ + (warmup_final_lr_ - warmup_begin_lr_) * static_cast<double>(num_update) /
                                static_cast<double>(warmup_steps_);
}

FactorScheduler::FactorScheduler(int64_t step, double factor, double stop_factor_lr, const WarmupOptions& warmup)
    : LRScheduler(warmup, "[lr_scheduler factor]"), step_(step), factor_(factor), stop_factor_lr_(stop_factor_lr) {
  PMX_CHECK(step >= 1, kValueError, "[lr_scheduler factor] step must be >= 1, given %d", step);
  PMX_CHECK(factor <= 1, kValueError, "[lr_scheduler factor] factor must be <= 1 so that the rate decays, given %g",
            factor);
}

double FactorScheduler::operator()(int64_t num_update) {
  if (num_update < warmup_steps_) return WarmupLr(num_update);
  while (num_update > count_ + step_) {
    count_ += step_;
    base_lr_ = std::max(base_lr_ * factor_, stop_factor_lr_);
  }
  return base_lr_;
}

MultiFactorScheduler::MultiFactorScheduler(std::vector<int64_t> steps, double factor, const WarmupOptions& warmup)
    : LRScheduler(warmup, "[lr_scheduler multifactor]"), steps_(std::move(steps)), factor_(factor) {
  PMX_CHECK(!steps_.empty(), kValueError, "[lr_scheduler multifactor] step must list at least one update count");
  for (size_t i = 0; i < steps_.size(); ++i) {
    PMX_CHECK(steps_[i] >= 1, kValueError, "[lr_scheduler multifactor] every step must be >= 1, given %d",
              steps_[i]);
    PMX_CHECK(i == 0 || steps_[i] > steps_[i - 1], kValueError,
              "[lr_scheduler multifactor] steps must increase strictly, given %d after %d", steps_[i],
              steps_[i - 1]);
  }
  PMX_CHECK(factor <= 1, kValueError,
            "[lr_scheduler multifactor] factor must be <= 1 so that the rate decays, given %g", factor);
}

double MultiFactorScheduler::operator()(int64_t num_update) {
  if (num_update < warmup_steps_) return WarmupLr(num_update);
  while (next_step_ < steps_.size() && num_update > steps_[next_step_]) {
    ++next_step_;
    base_lr_ *= factor_;
  }
  return base_lr_;
}

namespace {

// Checks max_update of Poly and Cosine against the warmup (the decay divides by their difference).
void CheckMaxUpdate(const char* where, int64_t max_update, int64_t warmup_steps) {
  PMX_CHECK(max_update >= 1, kValueError, "%s max_update must be >= 1, given %d", where, max_update);
  PMX_CHECK(max_update > warmup_steps, kValueError, "%s max_update (%d) must exceed warmup_steps (%d)", where,
            max_update, warmup_steps);
}

}  // namespace

PolyScheduler::PolyScheduler(int64_t max_update, double pwr, double final_lr, const WarmupOptions& warmup)
    : LRScheduler(warmup, "[lr_scheduler poly]"),
      max_update_(max_update),
      power_(pwr),
      final_lr_(final_lr),
      original_base_lr_(warmup.base_lr) {
  CheckMaxUpdate("[lr_scheduler poly]", max_update, warmup_steps_);
}

double PolyScheduler::operator()(int64_t num_update) {
  if (num_update < warmup_steps_) return WarmupLr(num_update);
  if (num_update <= max_update_) {
    const double progress =
        static_cast<double>(num_update - warmup_steps_) / static_cast<double>(max_update_ - warmup_steps_);
    base_lr_ = final_lr_ + (original_base_lr_ - final_lr_) * std::pow(1 - progress, power_);
  }
  return base_lr_;
}

CosineScheduler::CosineScheduler(int64_t max_update, double final_lr, const WarmupOptions& warmup)
    : LRScheduler(warmup, "[lr_scheduler cosine]"),
      max_update_(max_update),
      final_lr_(final_lr),
      original_base_lr_(warmup.base_lr) {
  CheckMaxUpdate("[lr_scheduler cosine]", max_update, warmup_steps_);
}

double CosineScheduler::operator()(int64_t num_update) {
  if (num_update < warmup_steps_) return WarmupLr(num_update);
  if (num_update <= max_update_) {
    const double progress =
        static_cast<double>(num_update - warmup_steps_) / static_cast<double>(max_update_ - warmup_steps_);
    base_lr_ = final_lr_ + (original_base_lr_ - final_lr_) * (1 + std::cos(M_PI * progress)) / 2;
  }
  return base_lr_;
}

std::unique_ptr<LRScheduler> CreateLRScheduler(const std::string& name, const KwArgs& kwargs) {
  std::string key = absl::AsciiStrToLower(name);
  const std::string suffix = "scheduler";
  if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
    key = key.substr(0, key.size() - suffix.size());
  }
  PMX_CHECK(key == "factor" || key == "multifactor" || key == "poly" || key == "cosine", kValueError,
            "[lr_scheduler] unknown scheduler '%s': expected factor, multifactor, poly or cosine", name);
  KwArgsReader args("[lr_scheduler " + key + "]", kwargs);
  WarmupOptions warmup;
  warmup.base_lr = args.Float("base_lr", 0.01);
  warmup.warmup_steps = args.Int("warmup_steps", 0);
  warmup.warmup_begin_lr = args.Float("warmup_begin_lr", 0);
  warmup.warmup_mode = args.Str("warmup_mode", "linear");
  std::unique_ptr<LRScheduler> scheduler;
  if (key == "factor") {
    const int64_t step = args.RequiredInt("step");
    const double factor = args.Float("factor", 1);
    const double stop = args.Float("stop_factor_lr", 1e-8);
    args.Finish();
    scheduler = std::make_unique<FactorScheduler>(step, factor, stop, warmup);
  } else if (key == "multifactor") {
    std::vector<int64_t> steps = args.RequiredInts("step");
    const double factor = args.Float("factor", 1);
    args.Finish();
    scheduler = std::make_unique<MultiFactorScheduler>(std::move(steps), factor, warmup);
  } else if (key == "poly") {
    const int64_t max_update = args.RequiredInt("max_update");
    const double pwr = args.Float("pwr", 2);
    const double final_lr = args.Float("final_lr", 0);
    args.Finish();
    scheduler = std::make_unique<PolyScheduler>(max_update, pwr, final_lr, warmup);
  } else {
    const int64_t max_update = args.RequiredInt("max_update");
    const double final_lr = args.Float("final_lr", 0);
    args.Finish();
    scheduler = std::make_unique<CosineScheduler>(max_update, final_lr, warmup);
  }
  return scheduler;
}

}  // namespace optim
}  // namespace pmx
