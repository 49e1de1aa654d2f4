#pragma once
// What laplex-eval reports about a classification checkpoint: accuracy,
// per-class accuracy and the confusion matrix on a split.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "apps/train/classification_data.h"
#include "layers/module.h"

namespace laplex::eval {

struct ClassificationReport {
  std::int64_t examples = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  std::vector<double> per_class_accuracy;                // [class]
  std::vector<std::vector<std::int64_t>> confusion;     // [true][predicted]
  std::int64_t parameters = 0;
};

ClassificationReport evaluate_classifier(Module& model, const train::Split& split,
                                         std::int64_t classes, std::int64_t batch_size,
                                         Device device);

nlohmann::json to_json(const ClassificationReport& report);
std::string to_text(const ClassificationReport& report);

}  // namespace laplex::eval
