#include <gtest/gtest.h>

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

}  // namespace
}  // namespace laplex::data
