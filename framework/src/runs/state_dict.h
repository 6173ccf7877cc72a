// runs/state_dict.h — model and optimizer state in PyTorch's own formats.
//
// model_state_dict(): name -> tensor for every parameter and buffer, under PyTorch's names;
// pickle_save'd it is the pytorch_model.bin Python's torch.load returns as a dict.
// optimizer_state_dict(): {"state": {index: {...}}, "param_groups": [{..., "params": [...]}]},
// exactly the layout of torch.optim's state_dict() for Adam, AdamW and SGD, so checkpoints load
// in Python, and klab restores its optimizers from the same structure on resume.
#pragma once

#include <filesystem>
#include <string>

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace klab {

c10::Dict<std::string, at::Tensor> model_state_dict(const torch::nn::Module& model);

// Strict: every key of the model must be present with the same shape and no key may be extra;
// otherwise IoError naming `source` and the key.
void load_model_state_dict(torch::nn::Module& model, const c10::Dict<std::string, at::Tensor>& state,
                           const std::string& source);

// `kind`: adam | adamw | sgd (the optimizer's actual class).
c10::IValue optimizer_state_dict(torch::optim::Optimizer& optimizer, const std::string& kind);
void load_optimizer_state_dict(torch::optim::Optimizer& optimizer, const c10::IValue& state,
                               const std::string& kind, const std::string& source);

// pickle_save to a file atomically / pickle_load from one (IoError naming the file).
void save_pickle(const std::filesystem::path& path, const c10::IValue& value);
c10::IValue load_pickle(const std::filesystem::path& path);

// The model_state_dict of a pickled pytorch_model.bin: a plain dict, or a checkpoint's
// "model_state_dict" entry.
c10::Dict<std::string, at::Tensor> load_state_dict_file(const std::filesystem::path& path);

}  // namespace klab
