// The table of optimizers behind CreateOptimizer (defined with the optimizers in optimizers.cc).
#ifndef POLYMIX_CORE_OPTIM_INTERNAL_OPTIMIZERS_H_
#define POLYMIX_CORE_OPTIM_INTERNAL_OPTIMIZERS_H_

#include <memory>
#include <string>
#include <vector>

#include "core/optim/optimizer.h"

namespace pmx {
namespace optim {
namespace internal {

// A new optimizer registered as `lower_name` with default hyper-parameters, or nullptr.
std::unique_ptr<Optimizer> NewOptimizer(const std::string& lower_name);

// Every registered name, sorted.
std::vector<std::string> RegisteredOptimizerNames();

}  // namespace internal
}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_INTERNAL_OPTIMIZERS_H_
