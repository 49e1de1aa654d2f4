#include <gtest/gtest.h>

#include "core/ops/matmul.h"
#include "core/pinned_memory.h"
#include "data/loader.h"
#include "data/tensor_dataset.h"

namespace laplex::data {
namespace {

TEST(LoaderGpu, CudaBatchesFromPinnedOrPageableStagingEqualCpuBatches) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU";
  EXPECT_TRUE(HostBuffer(4096, true, 0).pinned());
  std::vector<float> x(41 * 2 * 3);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 0.25f * static_cast<float>(k);
  std::vector<std::int64_t> y(41);
  for (std::size_t k = 0; k < y.size(); ++k) y[k] = static_cast<std::int64_t>(k % 5);
  auto dataset = std::make_shared<TensorDataset>(Tensor::from_vector(x, {41, 2, 3}),
                                                 Tensor::from_vector(y, {41}));
  LoaderOptions options;
  options.batch_size = 8;
  options.seed = 2;
  Loader cpu(dataset, options);
  for (bool pinned : {true, false})
    for (int prefetch : {0, 3}) {
      SCOPED_TRACE(std::string(pinned ? "pinned" : "pageable") + " prefetch " +
                   std::to_string(prefetch));
      options.device = Device::cuda(0);
      options.pin_memory = pinned;
      options.prefetch = prefetch;
      Loader gpu(dataset, options);
      cpu.start_epoch(1);
      gpu.start_epoch(1);
      while (auto expected = cpu.next()) {
        const auto batch = gpu.next();
        ASSERT_TRUE(batch.has_value());
        EXPECT_TRUE(batch->inputs.device().is_cuda());
        EXPECT_TRUE(batch->labels.device().is_cuda());
        EXPECT_EQ(batch->inputs.shape(), expected->inputs.shape());
        EXPECT_EQ(batch->inputs.to_vector<float>(), expected->inputs.to_vector<float>());
        EXPECT_EQ(batch->labels.to_vector<std::int64_t>(),
                  expected->labels.to_vector<std::int64_t>());
      }
      EXPECT_FALSE(gpu.next().has_value());
    }
}

// Uploads from pinned buffers are queued, not waited for, and a worker
// refills a buffer only once its upload is done. Here the GPU lags far
// behind the host (a large matmul queued before every next()), nothing is
// read until the epoch ends, and two epochs run: every batch must still hold
// its own examples, so no buffer was rewritten under a pending upload.
TEST(LoaderGpu, QueuedUploadsSurviveBufferReuseWhileTheGpuLags) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU";
  const std::int64_t count = 300;
  std::vector<float> x(count * 64);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k);
  std::vector<std::int64_t> y(count);
  for (std::int64_t k = 0; k < count; ++k) y[k] = k;
  auto dataset = std::make_shared<TensorDataset>(Tensor::from_vector(x, {count, 64}),
                                                 Tensor::from_vector(y, {count}));
  LoaderOptions options;
  options.batch_size = 7;
  options.seed = 5;
  options.prefetch = 3;
  options.workers = 2;
  Loader cpu(dataset, options);
  options.device = Device::cuda(0);
  Loader gpu(dataset, options);
  const Tensor big = Tensor::ones({2048, 2048}, DType::f32, Device::cuda(0));
  for (std::int64_t epoch : {0, 1}) {
    SCOPED_TRACE("epoch " + std::to_string(epoch));
    gpu.start_epoch(epoch);
    std::vector<Batch> got;
    std::vector<Tensor> busywork;
    while (true) {
      busywork.push_back(matmul(big, big));
      auto batch = gpu.next();
      if (!batch) break;
      got.push_back(std::move(*batch));
    }
    cpu.start_epoch(epoch);
    std::size_t k = 0;
    while (auto expected = cpu.next()) {
      ASSERT_LT(k, got.size());
      EXPECT_EQ(got[k].inputs.to_vector<float>(), expected->inputs.to_vector<float>()) << k;
      EXPECT_EQ(got[k].labels.to_vector<std::int64_t>(),
                expected->labels.to_vector<std::int64_t>()) << k;
      ++k;
    }
    EXPECT_EQ(k, got.size());
  }
}

}  // namespace
}  // namespace laplex::data
