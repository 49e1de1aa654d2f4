#pragma once
// Task `covariance`: a density model (layers/covariance, e.g. laplex_ou) is
// fitted to 8-bit images by maximum likelihood. Pixels p in 0..255 are
// dequantised uniformly, x = (p + u) / 256 with u ~ U[0, 1) (fresh noise
// every epoch in training, fixed noise on the test split), and the model's
// forward(x) gives each row's negative log-density in nats. The training
// loss is the batch's mean NLL per dimension; records also carry bits per
// dimension, bpd = (NLL + n ln 256) / (n ln 2) (laplex-math.md section 4).
#include "apps/train/pixel_data.h"
#include "apps/train/task.h"
#include "data/loader.h"
#include "layers/covariance/laplex_ou.h"

namespace laplex::train {

class CovarianceTask : public Task {
 public:
  CovarianceTask(const TrainConfig& config, Device device);
  std::string describe_data() const override;
  Shape sample_shape() const override;
  Shape example_shape() const override;
  std::int64_t batches_per_epoch() const override;
  std::int64_t smallest_training_batch() const override;
  void check_model(Module& model, bool fresh_run) const override;
  void initialise_model(Module& model, const std::function<void(const std::string&)>& note) override;
  void start_epoch(std::int64_t epoch, std::int64_t first_batch) override;
  TaskBatch next_batch() override;
  Tensor loss(Module& model, const TaskBatch& batch, std::int64_t epoch) override;
  nlohmann::json train_fields(double mean_loss) const override;
  nlohmann::json evaluate(Module& model) override;
  std::string format_evaluation(const nlohmann::json& evaluation) const override;

 private:
  const TrainConfig& config_;
  Device device_;
  PixelData data_;
  std::unique_ptr<data::Loader> train_, test_;  // over the dequantised splits

  // The images laplex_ou's order search reads (0 when it is off); throws
  // UsageError when the training split cannot give the 2 it needs.
  std::int64_t order_search_count(const LaplexOu& ou) const;
  void search_anchor_order(LaplexOu& ou, const std::function<void(const std::string&)>& note);
};

}  // namespace laplex::train
