// train/torch_loop.h — how a torch model learns: the host's loop over shuffled batches of
// windows, with the optimiser, learning-rate schedule, loss, gradient clipping, validation after
// every epoch, early stopping and checkpoints (train/checkpointer.h).
//
// Deterministic for a seed: each epoch re-seeds the shuffle and dropout from (seed, epoch), so a
// run resumed from a checkpoint continues exactly as an uninterrupted one would.
#pragma once

#include <iosfwd>
#include <vector>

#include "config/experiment.h"
#include "data/dataset.h"
#include "train/checkpointer.h"

namespace klab {

class TorchModel;
class TrainingManager;

// Trains `model` on ds.train(), validating on ds.val(); epochs go to the manager's metrics and
// log (and to `progress` when set). `resuming` continues from the newest checkpoint. On return
// the model holds the best validation epoch's weights. Throws TrainError when the loss stops
// being finite or when a stop was requested (train/process_policy.h).
TrainState train_torch_model(TorchModel& model, const Dataset& ds, const TrainSpec& t, TrainingManager& manager,
                             bool resuming, std::ostream* progress);

}  // namespace klab
