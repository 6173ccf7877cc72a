#include "runs/run_outputs.h"

namespace klab {

nlohmann::json initial_run_config(const ExperimentSpec& spec, const nlohmann::json& model_config) {
  nlohmann::json config = {{"seq_length", spec.train.seq_length},
                           {"epochs", spec.train.epochs},
                           {"batch_size", spec.train.batch_size},
                           {"learning_rate", spec.train.learning_rate},
                           {"patience", spec.train.patience},
                           {"train_start_date", spec.start_date},
                           {"train_end_date", spec.end_date},
                           {"stock_symbols", spec.symbols},
                           {"experiment_name", spec.name},
                           {"experiment_file", spec.file}};
  for (const auto& [key, value] : model_config.items()) {
    if (key != "model_type") config[key] = value;
  }
  config["features"] = spec.features;
  config["experiment"] = spec.to_json();
  return config;
}

nlohmann::json model_folder_config(const ExperimentSpec& spec, const nlohmann::json& model_config) {
  nlohmann::json config = model_config;
  config["feature_names"] = spec.features;
  config["seq_length"] = spec.train.seq_length;
  config["target"] = {{"kind", spec.target_kind}, {"horizon", spec.horizon}, {"normalize", spec.target_normalize}};
  config["adjust"] = spec.adjust;
  return config;
}

nlohmann::json training_arguments(const ExperimentSpec& spec, const FitReport& fit) {
  const TrainSpec& t = spec.train;
  const char* optimizer = t.optimizer == "adam" ? "Adam" : t.optimizer == "adamw" ? "AdamW" : "SGD";
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"learning_rate", t.learning_rate},
          {"optimizer", optimizer},
          {"loss_function", t.loss == "huber" ? "HuberLoss" : "MSELoss"},
          {"train_samples", fit.train_samples},
          {"val_samples", fit.val_samples},
          {"test_samples", fit.test_samples},
          {"best_val_loss", fit.best_val_loss},
          {"best_epoch", fit.best_epoch},
          {"total_epochs_trained", fit.epochs_trained},
          {"early_stopped", fit.early_stopped},
          {"weight_decay", t.weight_decay},
          {"lr_schedule", t.lr_schedule},
          {"grad_clip", t.grad_clip},
          {"seed", t.seed},
          {"threads", t.threads}};
}

}  // namespace klab
