#pragma once
// The optimizer's state in a checkpoint, matched to the run that resumes
// it. The state is saved by position (param.N.exp_avg, ...), and the order
// of the parameters depends on the optimizer groups, so a checkpoint also
// records the optimizer's type and its parameters' names in that order; a
// resume with other groups gets each parameter's own state back.
#include <map>
#include <string>

#include "apps/train/checkpoint.h"
#include "apps/train/train_config.h"
#include "optim/optimizer.h"

namespace laplex::train {

// The optimizer's parameters in its own order, one dotted name a line (the
// train_state metadata "optimizer.parameters").
std::string optimizer_order(const optim::Optimizer& optimizer);

// The checkpoint's optimizer state for this run's optimizer: the same type,
// the same parameters, renumbered into this run's order. Checkpoints
// without the names are taken in order. UsageErrors name `file`.
std::map<std::string, Tensor> optimizer_state_for(const Checkpoint& resumed,
                                                  const TrainConfig& config,
                                                  const optim::Optimizer& optimizer,
                                                  const std::string& file);

}  // namespace laplex::train
