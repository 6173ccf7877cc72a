#include "runs/state_dict.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include "klab/error.h"
#include "runs/files.h"

namespace klab {

namespace {

using GenericDict = c10::impl::GenericDict;

GenericDict string_dict() { return GenericDict(c10::StringType::get(), c10::AnyType::get()); }

std::string state_key(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

at::Tensor tensor_at(const GenericDict& d, const std::string& key, const std::string& source) {
  auto it = d.find(key);
  if (it == d.end() || !it->value().isTensor()) throw IoError(source + ": optimizer state lacks '" + key + "'");
  return it->value().toTensor();
}

}  // namespace

c10::Dict<std::string, at::Tensor> model_state_dict(const torch::nn::Module& model) {
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : model.named_parameters()) state.insert(item.key(), item.value().detach().clone());
  for (const auto& item : model.named_buffers()) state.insert(item.key(), item.value().detach().clone());
  return state;
}

void load_model_state_dict(torch::nn::Module& model, const c10::Dict<std::string, at::Tensor>& state,
                           const std::string& source) {
  torch::NoGradGuard no_grad;
  std::size_t used = 0;
  auto load = [&](const std::string& name, at::Tensor& target) {
    auto it = state.find(name);
    if (it == state.end()) throw IoError(source + ": missing weight '" + name + "'");
    if (it->value().sizes() != target.sizes()) {
      throw IoError(source + ": weight '" + name + "' has shape " + c10::str(it->value().sizes()) +
                    ", the model expects " + c10::str(target.sizes()));
    }
    target.copy_(it->value());
    ++used;
  };
  for (auto& item : model.named_parameters()) load(item.key(), item.value());
  for (auto& item : model.named_buffers()) load(item.key(), item.value());
  if (used != state.size()) {
    for (const auto& entry : state) {
      if (!model.named_parameters().contains(entry.key()) && !model.named_buffers().contains(entry.key())) {
        throw IoError(source + ": unexpected weight '" + entry.key() + "' (not in the model)");
      }
    }
  }
}

c10::IValue optimizer_state_dict(torch::optim::Optimizer& optimizer, const std::string& kind) {
  auto& group = optimizer.param_groups().at(0);
  const auto& params = group.params();
  c10::impl::GenericDict state(c10::IntType::get(), c10::AnyType::get());
  std::vector<int64_t> indices;
  for (std::size_t i = 0; i < params.size(); ++i) {
    indices.push_back(static_cast<int64_t>(i));
    auto it = optimizer.state().find(state_key(params[i]));
    if (it == optimizer.state().end()) continue;
    GenericDict entry = string_dict();
    if (kind == "adam" || kind == "adamw") {
      int64_t step = 0;
      at::Tensor exp_avg, exp_avg_sq, max_sq;
      if (kind == "adam") {
        auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
        step = s.step(), exp_avg = s.exp_avg(), exp_avg_sq = s.exp_avg_sq(), max_sq = s.max_exp_avg_sq();
      } else {
        auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
        step = s.step(), exp_avg = s.exp_avg(), exp_avg_sq = s.exp_avg_sq(), max_sq = s.max_exp_avg_sq();
      }
      entry.insert("step", at::scalar_tensor(static_cast<double>(step), at::kFloat));
      entry.insert("exp_avg", exp_avg.clone());
      entry.insert("exp_avg_sq", exp_avg_sq.clone());
      if (max_sq.defined()) entry.insert("max_exp_avg_sq", max_sq.clone());
    } else {
      auto& s = static_cast<torch::optim::SGDParamState&>(*it->second);
      if (s.momentum_buffer().defined()) entry.insert("momentum_buffer", s.momentum_buffer().clone());
    }
    state.insert(static_cast<int64_t>(i), entry);
  }

  GenericDict g = string_dict();
  if (kind == "adam" || kind == "adamw") {
    double lr, eps, wd;
    bool amsgrad;
    std::tuple<double, double> betas;
    if (kind == "adam") {
      auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
      lr = o.lr(), eps = o.eps(), wd = o.weight_decay(), amsgrad = o.amsgrad(), betas = o.betas();
    } else {
      auto& o = static_cast<torch::optim::AdamWOptions&>(group.options());
      lr = o.lr(), eps = o.eps(), wd = o.weight_decay(), amsgrad = o.amsgrad(), betas = o.betas();
    }
    g.insert("lr", lr);
    g.insert("betas", c10::IValue(betas));
    g.insert("eps", eps);
    g.insert("weight_decay", wd);
    g.insert("amsgrad", amsgrad);
  } else {
    auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
    g.insert("lr", o.lr());
    g.insert("momentum", o.momentum());
    g.insert("dampening", o.dampening());
    g.insert("weight_decay", o.weight_decay());
    g.insert("nesterov", o.nesterov());
  }
  g.insert("maximize", false);
  g.insert("foreach", c10::IValue());
  g.insert("params", c10::IValue(indices));
  c10::impl::GenericList groups(c10::AnyType::get());
  groups.push_back(g);

  GenericDict out = string_dict();
  out.insert("state", state);
  out.insert("param_groups", groups);
  return out;
}

void load_optimizer_state_dict(torch::optim::Optimizer& optimizer, const c10::IValue& value,
                               const std::string& kind, const std::string& source) {
  if (!value.isGenericDict()) throw IoError(source + ": optimizer_state_dict is not a dict");
  auto dict = value.toGenericDict();
  auto state_it = dict.find("state");
  if (state_it == dict.end() || !state_it->value().isGenericDict()) {
    throw IoError(source + ": optimizer_state_dict has no 'state'");
  }
  auto state = state_it->value().toGenericDict();
  auto& group = optimizer.param_groups().at(0);
  const auto& params = group.params();
  optimizer.state().clear();
  for (const auto& entry : state) {
    const int64_t index = entry.key().toInt();
    if (index < 0 || index >= static_cast<int64_t>(params.size())) {
      throw IoError(source + ": optimizer state for parameter " + std::to_string(index) +
                    ", but the model has " + std::to_string(params.size()));
    }
    auto s = entry.value().toGenericDict();
    const at::Tensor& p = params[static_cast<std::size_t>(index)];
    if (kind == "adam" || kind == "adamw") {
      const auto step = static_cast<int64_t>(tensor_at(s, "step", source).item<double>());
      auto exp_avg = tensor_at(s, "exp_avg", source).clone(), exp_avg_sq = tensor_at(s, "exp_avg_sq", source).clone();
      at::Tensor max_sq;
      if (s.contains("max_exp_avg_sq")) max_sq = tensor_at(s, "max_exp_avg_sq", source).clone();
      if (exp_avg.sizes() != p.sizes()) throw IoError(source + ": optimizer state does not match the model");
      if (kind == "adam") {
        auto ps = std::make_unique<torch::optim::AdamParamState>();
        ps->step(step).exp_avg(exp_avg).exp_avg_sq(exp_avg_sq).max_exp_avg_sq(max_sq);
        optimizer.state()[state_key(p)] = std::move(ps);
      } else {
        auto ps = std::make_unique<torch::optim::AdamWParamState>();
        ps->step(step).exp_avg(exp_avg).exp_avg_sq(exp_avg_sq).max_exp_avg_sq(max_sq);
        optimizer.state()[state_key(p)] = std::move(ps);
      }
    } else if (s.contains("momentum_buffer")) {
      auto ps = std::make_unique<torch::optim::SGDParamState>();
      ps->momentum_buffer(tensor_at(s, "momentum_buffer", source).clone());
      optimizer.state()[state_key(p)] = std::move(ps);
    }
  }
}

void save_pickle(const std::filesystem::path& path, const c10::IValue& value) {
  const std::vector<char> bytes = torch::pickle_save(value);
  files::write_atomic(path, std::string(bytes.begin(), bytes.end()));
}

c10::IValue load_pickle(const std::filesystem::path& path) {
  const std::string text = files::read_text(path);
  try {
    return torch::pickle_load(std::vector<char>(text.begin(), text.end()));
  } catch (const std::exception& e) {
    throw IoError(path.string() + ": not a readable PyTorch file: " + std::string(e.what()).substr(0, 200));
  }
}

c10::Dict<std::string, at::Tensor> load_state_dict_file(const std::filesystem::path& path) {
  c10::IValue value = load_pickle(path);
  if (!value.isGenericDict()) throw IoError(path.string() + ": not a state_dict (expected a dict)");
  auto dict = value.toGenericDict();
  if (dict.contains("model_state_dict")) value = dict.at("model_state_dict");
  if (!value.isGenericDict()) throw IoError(path.string() + ": model_state_dict is not a dict");
  c10::Dict<std::string, at::Tensor> out;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      throw IoError(path.string() + ": state_dict entries must be name -> tensor");
    }
    out.insert(entry.key().toStringRef(), entry.value().toTensor());
  }
  return out;
}

}  // namespace klab
