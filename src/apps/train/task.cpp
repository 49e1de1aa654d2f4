#include "apps/train/task.h"

#include "apps/train/classification_task.h"
#include "apps/train/covariance_task.h"

namespace laplex::train {

std::unique_ptr<Task> make_task(const TrainConfig& config, Device device) {
  if (config.task == "covariance") return std::make_unique<CovarianceTask>(config, device);
  return std::make_unique<ClassificationTask>(config, device);
}

}  // namespace laplex::train
