#pragma once
// Batches of a Dataset for training and evaluation: a seeded order per
// epoch, this rank's slice of every global batch, examples read ahead on
// background threads into (pinned, for a GPU) host memory, and each batch
// handed over on the requested device (from pinned memory, its upload is
// queued on the device's stream, and next() does not wait for the GPU).
//
//   struct LoaderOptions { batch_size (global, all ranks), shuffle, seed, drop_last,
//                          rank, world_size, prefetch (batches ahead; 0 = read in next()),
//                          workers (prefetch threads, each reading whole batches),
//                          pin_memory, device }
//   struct Batch { Tensor inputs;   (b, ...) float32 on the device
//                  Tensor labels;   (b,) int64 on the device; undefined without labels
//                  std::int64_t index;        global batch number in the epoch
//                  std::int64_t global_size;  examples in the global batch, all ranks }
//   Loader(std::shared_ptr<const Dataset>, LoaderOptions)
//   std::int64_t batches_per_epoch() const, smallest_batch() const
//   void start_epoch(epoch, first_batch = 0)    also restarts mid-epoch (resume)
//   std::optional<Batch> next()                 nullopt at the end of the epoch
//   std::int64_t epoch() const, position() const   batches handed out: resume point
//
// Batch k of epoch e holds examples epoch_order(size, seed, e, shuffle)[k B ..
// (k + 1) B) (sampler.h), of which rank r gets its contiguous slice; so N
// ranks with global batch B together read exactly the batches of one rank
// with batch B, and start_epoch(e, k) continues an interrupted epoch with
// bit-identical batches. The local batch size b can differ by one between
// ranks (and be 0 for a short last batch with more ranks than examples);
// every rank gets the same number of batches. With prefetch > 0, `workers`
// threads read batches ahead (worker w reads batches w, w + workers, ...;
// at most `prefetch` batches are read or being read ahead of next()) and
// next() hands them out in order, so the batches do not depend on the number
// of threads or their timing. An exception thrown by Dataset::read() on a
// worker is rethrown by next() on the caller's thread when it reaches that
// batch, and again by every later next() until start_epoch(). A Loader is
// used from one thread.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/pinned_memory.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace laplex::data {

struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;
  bool drop_last = false;
  int rank = 0, world_size = 1;
  int prefetch = 2;
  int workers = 1;
  bool pin_memory = true;  // for a CUDA device only
  Device device = Device::cpu();
};

struct Batch {
  Tensor inputs, labels;
  std::int64_t index = 0;
  std::int64_t global_size = 0;
};

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::int64_t batches_per_epoch() const { return batches_; }
  // Examples in the smallest global batch of an epoch: the last one, short
  // unless drop_last or the size divides evenly (0 when there is no batch).
  std::int64_t smallest_batch() const;
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  std::optional<Batch> next();

  std::int64_t epoch() const { return epoch_; }
  std::int64_t position() const { return position_; }
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

 private:
  // A batch read into host memory, not yet on the device.
  struct Staged {
    std::int64_t index = 0, global_size = 0, count = 0;
    Tensor inputs;                        // on the host when the device is the CPU
    std::unique_ptr<HostBuffer> staging;  // for a CUDA device: inputs, then labels
    Tensor labels;                        // for the CPU
    std::exception_ptr error;
  };

  Staged stage(std::int64_t batch);
  Batch deliver(Staged staged);
  void produce(std::int64_t first_batch);
  void stop_workers();
  std::unique_ptr<HostBuffer> take_buffer();
  void give_buffer(std::unique_ptr<HostBuffer> buffer);

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::int64_t batches_ = 0, example_numel_ = 0;
  std::size_t staging_bytes_ = 0;  // the largest local batch, inputs then labels
  std::size_t labels_offset_ = 0;  // where the labels start in a staging buffer
  Shape example_shape_;
  bool has_labels_ = false;

  std::int64_t epoch_ = 0, position_ = 0;
  bool started_ = false;
  std::vector<std::int64_t> order_;
  std::exception_ptr error_;

  // Shared with the workers: batches read ahead, by index, and the index
  // next() hands out next (position_, published for the workers' window).
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::int64_t, Staged> ready_;
  std::int64_t wanted_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;

  std::mutex buffers_mutex_;
  std::deque<std::unique_ptr<HostBuffer>> free_buffers_;
};

}  // namespace laplex::data
