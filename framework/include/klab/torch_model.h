// klab/torch_model.h — the torch family of models: a torch::nn::Module the host trains.
//
// A TorchModel maps a batch [batch, seq_len, input_size] to [batch, output_size] in forward().
// The host's loop (train/ in klab) does the rest: batches, optimiser, learning-rate schedule,
// checkpoints, early stopping; the weights are saved as a PyTorch state_dict
// (model/pytorch_model.bin) under the names PyTorch's Python modules use, so Python loads them.
// Plugins of this family link klab::sdk_torch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/version.h>

#include "klab/model.h"

// Model plugins built with this header record the LibTorch they were compiled against; the host
// refuses a mismatch.
#undef KLAB_MODEL_TORCH_VERSION
#define KLAB_MODEL_TORCH_VERSION TORCH_VERSION

namespace klab {

class TorchModel : public torch::nn::Module, public Model {
 public:
  ~TorchModel() override = default;

  // [batch, seq_len, input_size] -> [batch, output_size].
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;

  TorchModel* as_torch() final { return this; }

  // Trained by the host's loop, never by fit().
  std::string fit(const WindowView&, const WindowView&) final {
    throw ConfigError(model_type() + ": a torch model is trained by klab's loop, not by fit()");
  }

  // forward() in eval mode without gradients, over chunks of kPredictChunk rows.
  void predict(const WindowView& view, float* out) override {
    torch::NoGradGuard no_grad;
    eval();
    const std::int64_t per_row = view.seq_length * view.n_features;
    for (std::int64_t first = 0; first < view.rows; first += kPredictChunk) {
      const std::int64_t rows = std::min(kPredictChunk, view.rows - first);
      auto inputs = torch::empty({rows, view.seq_length, view.n_features}, torch::kFloat);
      std::memcpy(inputs.data_ptr<float>(), view.inputs + first * per_row,
                  static_cast<std::size_t>(rows * per_row) * sizeof(float));
      auto output = forward(inputs).contiguous();
      std::memcpy(out + first * output_size(), output.data_ptr<float>(),
                  static_cast<std::size_t>(rows * output_size()) * sizeof(float));
    }
  }

  // The host saves and loads a torch model's state_dict itself (model/pytorch_model.bin).
  std::string save(const std::string&) const final { return "pytorch_model.bin"; }
  void load(const std::string&) final {}

  // Rows per forward() when predicting (evaluation and PredictionEngine use the same, so their
  // results agree bit for bit).
  static constexpr std::int64_t kPredictChunk = 256;
};

}  // namespace klab
