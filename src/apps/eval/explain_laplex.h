#pragma once
// laplex-eval --explain for classifiers: pictures of every LAPLEX layer whose
// input is an image (raw pixels, or convolutional feature maps, flattened by
// the `flatten` layer just before it) in a sequential model:
//   <name>.s.png      each head's input anchors s on the image grid (one tile per head,
//                     one colour-mapped panel per channel)
//   <name>.rows.png   every output row of the materialised W on the image grid
//   <name>.row<k>.png one picture per output row when there are few rows
//                     (a classification head: one per class)
// <name> is the layer's module path ("model.1").
#include <string>
#include <vector>

#include "core/shape.h"
#include "layers/module.h"

namespace laplex::eval {

// `sample_shape` is one input with batch 1, e.g. (1, 1, 28, 28). The model
// must be on the CPU. Returns the paths written (none when no LAPLEX layer
// sees an image).
std::vector<std::string> explain_laplex_layers(Module& model, const Shape& sample_shape,
                                               const std::string& out_dir);

}  // namespace laplex::eval
