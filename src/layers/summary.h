#pragma once
// The per-layer table printed by laplex-train at start and by laplex-eval:
// name, type, output shape, parameters.
#include <string>
#include <vector>

#include "layers/module.h"

namespace laplex {

struct SummaryRow {
  std::string name, type;
  Shape output_shape;
  std::int64_t parameters = 0;
};

// Runs one forward pass on zeros of `input_shape` (batch included) without
// gradients, recording each top-level layer's output shape (the children of
// a Sequential; the module itself otherwise). A child that fails is named
// in the error as model.layers[i] (type), keeping the error's kind.
std::vector<SummaryRow> summarize(Module& model, const Shape& input_shape);
std::string format_summary(const std::vector<SummaryRow>& rows);

}  // namespace laplex
