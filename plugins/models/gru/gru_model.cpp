// gru.so — stacked GRU over the feature window, linear head on the last step.
#include "../common/recurrent_model.h"

namespace {

class GruModel : public klab::plugins::RecurrentModel<torch::nn::GRU, torch::nn::GRUOptions> {
 public:
  GruModel(std::int64_t input_size, const std::string& json)
      : RecurrentModel("gru", input_size, json) {}
};

}  // namespace

KLAB_MODEL_PLUGIN("gru", "1.0.0", "Stacked GRU (batch_first) with a linear head on the last step",
                  GruModel)
