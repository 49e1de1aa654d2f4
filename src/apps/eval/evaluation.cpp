#include "apps/eval/evaluation.h"

#include <cstdio>
#include <numeric>

#include "core/autograd/grad_mode.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"

namespace laplex::eval {

ClassificationReport evaluate_classifier(Module& model, const train::Split& split,
                                         std::int64_t classes, std::int64_t batch_size,
                                         Device device) {
  NoGradGuard no_grad;
  model.eval();
  ClassificationReport report;
  report.examples = split.size();
  report.parameters = model.parameter_count();
  report.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
  std::vector<std::int64_t> order(split.size());
  std::iota(order.begin(), order.end(), 0);
  double loss = 0.0;
  for (std::int64_t begin = 0; begin < split.size(); begin += batch_size) {
    const std::int64_t end = std::min(split.size(), begin + batch_size);
    auto [x, y] = train::gather_batch(split, order, begin, end, device);
    const Tensor logits = model.forward(x);
    if (logits.dim() != 2 || logits.size(1) != classes)
      throw UsageError("the model outputs shape " + shape_str(logits.shape()) + ", expected (batch, " +
                       std::to_string(classes) + ") class scores");
    loss += cross_entropy(logits, y).item() * static_cast<double>(end - begin);
    const auto predicted = argmax(logits, 1).to_vector<std::int64_t>();
    const auto truth = y.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < predicted.size(); ++i) ++report.confusion[truth[i]][predicted[i]];
  }
  std::int64_t correct = 0;
  for (std::int64_t c = 0; c < classes; ++c) {
    const std::int64_t row = std::accumulate(report.confusion[c].begin(), report.confusion[c].end(),
                                             std::int64_t{0});
    correct += report.confusion[c][c];
    report.per_class_accuracy.push_back(row ? static_cast<double>(report.confusion[c][c]) / row : 0.0);
  }
  const double n = static_cast<double>(std::max<std::int64_t>(report.examples, 1));
  report.loss = loss / n;
  report.accuracy = static_cast<double>(correct) / n;
  return report;
}

nlohmann::json to_json(const ClassificationReport& r) {
  return {{"examples", r.examples},   {"loss", r.loss},
          {"accuracy", r.accuracy},   {"per_class_accuracy", r.per_class_accuracy},
          {"confusion", r.confusion}, {"parameters", r.parameters}};
}

std::string to_text(const ClassificationReport& r) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "examples %lld  parameters %lld  loss %.4f  accuracy %.4f\n",
                static_cast<long long>(r.examples), static_cast<long long>(r.parameters), r.loss,
                r.accuracy);
  out += line;
  out += "per-class accuracy:\n";
  for (std::size_t c = 0; c < r.per_class_accuracy.size(); ++c) {
    std::snprintf(line, sizeof line, "  class %2zu  %.4f\n", c, r.per_class_accuracy[c]);
    out += line;
  }
  out += "confusion matrix (rows: true class, columns: predicted):\n";
  for (const auto& row : r.confusion) {
    for (auto v : row) {
      std::snprintf(line, sizeof line, "%6lld", static_cast<long long>(v));
      out += line;
    }
    out += "\n";
  }
  return out;
}

}  // namespace laplex::eval
