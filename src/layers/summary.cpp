#include "layers/summary.h"

#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "layers/sequential.h"

namespace laplex {

std::vector<SummaryRow> summarize(Module& model, const Shape& input_shape) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<SummaryRow> rows;
  Tensor h = Tensor::zeros(input_shape, DType::f32, model.device());
  if (auto* seq = dynamic_cast<Sequential*>(&model)) {
    for (const auto& [name, child] : seq->children()) {
      // A layer that does not take its input is named by its place in the
      // config, which the layer's own message cannot know.
      const std::string where = "model.layers[" + name + "] (" + child->type_name() + "): ";
      try {
        h = child->forward(h);
      } catch (const UsageError& e) {
        throw UsageError(where + e.what());
      } catch (const Error& e) {
        throw Error(where + e.what());
      }
      rows.push_back({name, child->type_name(), h.shape(), child->parameter_count()});
    }
  } else {
    h = model.forward(h);
    rows.push_back({"", model.type_name(), h.shape(), model.parameter_count()});
  }
  model.train(was_training);
  return rows;
}

std::string format_summary(const std::vector<SummaryRow>& rows) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-16s %-20s %12s\n", "layer", "type", "output",
                "parameters");
  out += line;
  std::int64_t total = 0;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-8s %-16s %-20s %12lld\n", r.name.c_str(), r.type.c_str(),
                  shape_str(r.output_shape).c_str(), static_cast<long long>(r.parameters));
    out += line;
    total += r.parameters;
  }
  std::snprintf(line, sizeof line, "%-46s %12lld\n", "total", static_cast<long long>(total));
  return out + line;
}

}  // namespace laplex
