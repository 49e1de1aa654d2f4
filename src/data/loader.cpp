#include "data/loader.h"

#include <algorithm>

#include "core/error.h"
#include "data/sampler.h"

namespace laplex::data {

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw Error("Loader: no dataset");
  if (options_.batch_size < 1) throw UsageError("loader: batch_size must be at least 1");
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size)
    throw UsageError("loader: rank " + std::to_string(options_.rank) + " of world size " +
                     std::to_string(options_.world_size));
  if (options_.batch_size < options_.world_size)
    throw UsageError("loader: the global batch_size (" + std::to_string(options_.batch_size) +
                     ") must be at least the number of ranks (" +
                     std::to_string(options_.world_size) + ")");
  if (options_.prefetch < 0) throw UsageError("loader: prefetch must be >= 0");
  if (options_.workers < 1) throw UsageError("loader: workers must be at least 1");
  batches_ = batch_count(dataset_->size(), options_.batch_size, options_.drop_last);
  example_shape_ = dataset_->example_shape();
  example_numel_ = numel(example_shape_);
  has_labels_ = dataset_->has_labels();
  const std::int64_t largest_local =
      (options_.batch_size + options_.world_size - 1) / options_.world_size;
  // A CUDA batch's labels ride in the same staging buffer, after the inputs,
  // so both uploads are queued without waiting for the GPU.
  const std::size_t input_bytes =
      static_cast<std::size_t>(largest_local * example_numel_) * sizeof(float);
  labels_offset_ = (input_bytes + alignof(std::int64_t) - 1) / alignof(std::int64_t) *
                   alignof(std::int64_t);
  staging_bytes_ = labels_offset_ + (has_labels_ ? static_cast<std::size_t>(largest_local) *
                                                       sizeof(std::int64_t)
                                                 : 0);
}

Loader::~Loader() { stop_workers(); }

std::int64_t Loader::smallest_batch() const {
  const std::int64_t size = dataset_->size(), batch = options_.batch_size;
  if (size == 0 || (options_.drop_last && size < batch)) return 0;  // no batch at all
  if (options_.drop_last || size % batch == 0) return batch;
  return size % batch;
}

void Loader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  if (first_batch < 0 || first_batch > batches_)
    throw UsageError("loader: cannot start epoch " + std::to_string(epoch) + " at batch " +
                     std::to_string(first_batch) + " of " + std::to_string(batches_));
  stop_workers();
  epoch_ = epoch;
  position_ = first_batch;
  started_ = true;
  error_ = nullptr;
  order_ = epoch_order(dataset_->size(), options_.seed, epoch, options_.shuffle);
  wanted_ = first_batch;
  if (options_.prefetch > 0) {
    const int threads = std::min(options_.workers, options_.prefetch);
    for (int w = 0; w < threads; ++w)
      workers_.emplace_back(&Loader::produce, this, first_batch + w);
  }
}

std::optional<Batch> Loader::next() {
  if (!started_) throw Error("Loader::next() before start_epoch()");
  if (error_) std::rethrow_exception(error_);
  if (position_ >= batches_) return std::nullopt;
  Staged staged;
  if (options_.prefetch == 0) {
    try {
      staged = stage(position_);
    } catch (...) {
      error_ = std::current_exception();
      throw;
    }
  } else {
    std::unique_lock lock(mutex_);
    // Batch position_ always comes: its worker reads every batch of its
    // stride up to the first failure, and a failure is itself an entry.
    changed_.wait(lock, [&] { return ready_.count(position_) > 0; });
    auto entry = ready_.find(position_);
    staged = std::move(entry->second);
    ready_.erase(entry);
    wanted_ = position_ + 1;
    lock.unlock();
    changed_.notify_all();
    if (staged.error) {
      error_ = staged.error;
      std::rethrow_exception(error_);
    }
  }
  ++position_;
  return deliver(std::move(staged));
}

Loader::Staged Loader::stage(std::int64_t batch) {
  const Slice global = global_batch(dataset_->size(), options_.batch_size, batch);
  const Slice local = rank_slice(global, options_.rank, options_.world_size);
  Staged staged;
  staged.index = batch;
  staged.global_size = global.size();
  staged.count = local.size();
  Shape shape = example_shape_;
  shape.insert(shape.begin(), local.size());
  float* out = nullptr;
  std::int64_t* labels = nullptr;
  if (options_.device.is_cpu()) {
    staged.inputs = Tensor::empty(shape, DType::f32);
    out = staged.inputs.data<float>();
    if (has_labels_) {
      staged.labels = Tensor::empty({local.size()}, DType::i64);
      labels = staged.labels.data<std::int64_t>();
    }
  } else {
    staged.staging = take_buffer();
    auto* bytes = static_cast<unsigned char*>(staged.staging->data());
    out = reinterpret_cast<float*>(bytes);
    if (has_labels_) labels = reinterpret_cast<std::int64_t*>(bytes + labels_offset_);
  }
  for (std::int64_t k = 0; k < local.size(); ++k)
    dataset_->read(order_[local.begin + k], epoch_, out + k * example_numel_,
                   labels ? labels + k : nullptr);
  return staged;
}

Batch Loader::deliver(Staged staged) {
  Batch batch;
  batch.index = staged.index;
  batch.global_size = staged.global_size;
  if (options_.device.is_cpu()) {
    batch.inputs = std::move(staged.inputs);
    batch.labels = std::move(staged.labels);
  } else {
    Shape shape = example_shape_;
    shape.insert(shape.begin(), staged.count);
    batch.inputs = Tensor::empty(shape, DType::f32, options_.device);
    staged.staging->copy_to_device(batch.inputs.raw_data(), 0,
                                   static_cast<std::size_t>(batch.inputs.numel()) * sizeof(float));
    if (has_labels_) {
      batch.labels = Tensor::empty({staged.count}, DType::i64, options_.device);
      staged.staging->copy_to_device(batch.labels.raw_data(), labels_offset_,
                                     static_cast<std::size_t>(staged.count) * sizeof(std::int64_t));
    }
    give_buffer(std::move(staged.staging));
  }
  return batch;
}

void Loader::produce(std::int64_t first_batch) {
  const int stride = std::min(options_.workers, options_.prefetch);
  for (std::int64_t b = first_batch; b < batches_; b += stride) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || b < wanted_ + options_.prefetch; });
      if (stop_) return;
    }
    Staged staged;
    try {
      staged = stage(b);
    } catch (...) {
      staged = Staged{};
      staged.index = b;
      staged.error = std::current_exception();
    }
    const bool failed = staged.error != nullptr;
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(b, std::move(staged));
    }
    changed_.notify_all();
    if (failed) return;
  }
}

void Loader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  std::lock_guard lock(mutex_);
  for (auto& [index, staged] : ready_)
    if (staged.staging) give_buffer(std::move(staged.staging));
  ready_.clear();
  stop_ = false;
}

// The buffer given back longest ago, whose upload is the likeliest to be
// done. Waiting for it (outside the lock) holds up only the thread staging
// a batch: a prefetch worker, or next() itself when prefetch is 0.
std::unique_ptr<HostBuffer> Loader::take_buffer() {
  std::unique_ptr<HostBuffer> buffer;
  {
    std::lock_guard lock(buffers_mutex_);
    if (!free_buffers_.empty()) {
      buffer = std::move(free_buffers_.front());
      free_buffers_.pop_front();
    }
  }
  if (!buffer)
    return std::make_unique<HostBuffer>(staging_bytes_, options_.pin_memory,
                                        options_.device.index);
  buffer->wait_for_copies();
  return buffer;
}

void Loader::give_buffer(std::unique_ptr<HostBuffer> buffer) {
  std::lock_guard lock(buffers_mutex_);
  free_buffers_.push_back(std::move(buffer));
}

}  // namespace laplex::data
