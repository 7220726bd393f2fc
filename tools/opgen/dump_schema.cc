// `bazel run //tools/opgen:dump_schema -- --dump-schema` prints the operator registry as JSON: the
// input of every language's op-function generator.
#include <cstring>
#include <iostream>

#include "core/ops/op.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "--dump-schema") != 0) {
    std::cerr << "usage: " << argv[0] << " --dump-schema\n"
              << "  prints the operator registry (names, aliases, docs, inputs, outputs, parameters) as JSON\n";
    return 2;
  }
  std::cout << pmx::OpRegistry::Get()->SchemaJson() << "\n";
  return 0;
}
