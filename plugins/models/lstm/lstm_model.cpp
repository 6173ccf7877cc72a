// lstm.so — stacked LSTM over the feature window, linear head on the last step.
#include "../common/recurrent_model.h"

namespace {

class LstmModel : public klab::plugins::RecurrentModel<torch::nn::LSTM, torch::nn::LSTMOptions> {
 public:
  LstmModel(std::int64_t input_size, const std::string& json)
      : RecurrentModel("lstm", input_size, json) {}
};

}  // namespace

KLAB_MODEL_PLUGIN("lstm", "1.0.0", "Stacked LSTM (batch_first) with a linear head on the last step",
                  LstmModel)
