// Weight initializers (MXNet 1.x's mx.init): Uniform, Normal, Xavier, MSRAPrelu, Constant, Zero, One,
// Orthogonal and Mixed, MXNet's name-based dispatch, and the JSON form MXNet stores in a variable's
// __init__ attribute. Random draws run the registered _random_* operators, so mx.random.seed governs them.
#ifndef POLYMIX_CORE_OPTIM_INITIALIZER_H_
#define POLYMIX_CORE_OPTIM_INITIALIZER_H_

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "core/array/ndarray.h"
#include "core/optim/internal/kwargs.h"

namespace pmx {
namespace optim {

// Note [Initializer dispatch]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Apply(desc, array) follows MXNet's Initializer.__call__ for an InitDesc:
// 1. a non-empty "__init__" attribute (e.g. '["zero", {}]', set by a variable's init= or by BatchNorm for its
//    moving statistics) wins: the initializer it describes fills the array with its weight rule;
// 2. otherwise by the name's ending: "weight" -> this initializer's weight rule, "bias" -> 0, "gamma" -> 1,
//    "beta" -> 0, and, as MXNet's name-only (legacy) path, "moving_mean" / "moving_inv_var" / "moving_avg" ->
//    0 and "moving_var" -> 1;
// 3. any other name is a ValueError, as in MXNet.
// So Constant(5) fills "fc1_weight" with 5 but "fc1_bias" with 0, exactly as mx.init.Constant(5) does.

// What is being initialized (MXNet's InitDesc): the parameter's name and its variable attributes.
struct InitDesc {
  std::string name;                           // e.g. "fc1_weight".
  std::map<std::string, std::string> attrs;  // e.g. {"__init__": "[\"one\", {}]"}; may be empty.
};

// The base of every initializer.
class Initializer {
 public:
  virtual ~Initializer() = default;
  // Fills `array` for the parameter `desc` (Note [Initializer dispatch]).
  virtual void Apply(const InitDesc& desc, const NDArray& array) const;
  // Fills `array` by this initializer's weight rule whatever the name (MXNet's _init_weight).
  virtual void InitWeight(const std::string& name, const NDArray& array) const = 0;
  // The JSON form MXNet writes into __init__: '["xavier", {"rnd_type": "uniform", "factor_type": "avg",
  // "magnitude": 3}]' (every constructor argument in order, formatted as Python's json.dumps).
  virtual std::string Dumps() const;
  // The registered name, e.g. "xavier".
  const std::string& name() const { return name_; }

 protected:
  // An initializer registered as `name` with constructor arguments `kwargs` (name, JSON value text).
  Initializer(std::string name, std::vector<std::pair<std::string, std::string>> kwargs)
      : name_(std::move(name)), kwargs_(std::move(kwargs)) {}

 private:
  friend std::unique_ptr<Initializer> CreateInitializer(const std::string&, const KwArgs&);
  std::string name_;
  std::vector<std::pair<std::string, std::string>> kwargs_;  // For Dumps; values are JSON text.
};

// Fills with 0 (registered "zero", alias "zeros").
class Zero : public Initializer {
 public:
  Zero() : Initializer("zero", {}) {}
  void InitWeight(const std::string& name, const NDArray& array) const override;
};

// Fills with 1 (registered "one", alias "ones").
class One : public Initializer {
 public:
  One() : Initializer("one", {}) {}
  void InitWeight(const std::string& name, const NDArray& array) const override;
};

// Fills with `value` (registered "constant").
class Constant : public Initializer {
 public:
  explicit Constant(double value);
  void InitWeight(const std::string& name, const NDArray& array) const override;

 private:
  double value_;
};

// Uniform draws in [-scale, scale) (registered "uniform").
class Uniform : public Initializer {
 public:
  explicit Uniform(double scale = 0.07);
  void InitWeight(const std::string& name, const NDArray& array) const override;

 private:
  double scale_;
};

// Normal draws with mean 0 and standard deviation sigma (registered "normal").
class Normal : public Initializer {
 public:
  explicit Normal(double sigma = 0.01);
  void InitWeight(const std::string& name, const NDArray& array) const override;

 private:
  double sigma_;
};

// Xavier/Glorot: with fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]) and factor
// their average ("avg"), fan_in ("in") or fan_out ("out"), draws uniform in [-c, c) ("uniform") or normal
// with standard deviation c ("gaussian"), c = sqrt(magnitude / factor). Needs at least 2 dimensions.
class Xavier : public Initializer {
 public:
  // ValueError for an unknown rnd_type or factor_type.
  explicit Xavier(const std::string& rnd_type = "uniform", const std::string& factor_type = "avg",
                  double magnitude = 3);
  void InitWeight(const std::string& name, const NDArray& array) const override;

 protected:
  // Xavier registered under another name with other JSON arguments (MSRAPrelu).
  Xavier(std::string name, std::vector<std::pair<std::string, std::string>> kwargs, std::string rnd_type,
         std::string factor_type, double magnitude);

 private:
  std::string rnd_type_, factor_type_;
  double magnitude_;
};

// He/MSRA for PReLU: Xavier with gaussian draws and magnitude 2 / (1 + slope**2) (registered "msraprelu").
class MSRAPrelu : public Xavier {
 public:
  explicit MSRAPrelu(const std::string& factor_type = "avg", double slope = 0.25);
};

// A scaled orthogonal matrix (Saxe et al.): draws an (n_out, n_in) matrix (n_in = prod(shape[1:])) uniform in
// [-1, 1) or standard normal ("uniform"/"normal"), orthonormalizes its rows (n_out <= n_in) or columns by an
// LQ factorization (_linalg_gelqf) and multiplies by scale (registered "orthogonal"). MXNet takes the SVD's
// factor instead; both give orthonormal rows/columns.
class Orthogonal : public Initializer {
 public:
  // ValueError for an unknown rand_type.
  explicit Orthogonal(double scale = 1.414, const std::string& rand_type = "uniform");
  void InitWeight(const std::string& name, const NDArray& array) const override;

 private:
  double scale_;
  std::string rand_type_;
};

// Picks an initializer by regular expression on the parameter name, the first pattern matching at the start
// of the name (Python's re.match) winning (MXNet's mx.init.Mixed); no match is a ValueError.
class Mixed : public Initializer {
 public:
  // One initializer per pattern (ValueError on a count mismatch or a bad pattern).
  Mixed(std::vector<std::string> patterns, std::vector<std::shared_ptr<const Initializer>> initializers);
  void Apply(const InitDesc& desc, const NDArray& array) const override;
  void InitWeight(const std::string& name, const NDArray& array) const override;
  // NotImplementedError: MXNet's Mixed has no JSON form either.
  std::string Dumps() const override;

 private:
  // The initializer for `name`; ValueError when no pattern matches.
  const Initializer& Pick(const std::string& name) const;

  std::vector<std::string> patterns_;
  std::vector<std::regex> regexes_;
  std::vector<std::shared_ptr<const Initializer>> initializers_;
};

// Creates an initializer from a registered name ("uniform", "normal", "xavier", "msraprelu", "constant",
// "zero"/"zeros", "one"/"ones", "orthogonal"; case-insensitive) with string keyword arguments, or from
// MXNet's JSON form '["xavier", {"magnitude": 2.34}]' (then `kwargs` must be empty). Dumps() of the result
// writes back the JSON MXNet would. ValueError for an unknown name or parameter, or bad JSON.
std::unique_ptr<Initializer> CreateInitializer(const std::string& name_or_json, const KwArgs& kwargs = {});

// The registered initializer names (aliases included), sorted.
std::vector<std::string> InitializerNames();

}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_INITIALIZER_H_
