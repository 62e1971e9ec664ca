#include "model/load_common.h"

#include <cstdint>
#include <filesystem>

#include "core/error.h"

namespace llmnpu {

void TensorTable::add(SourceTensor t) {
  check(!index_.count(t.name), "duplicate tensor '", t.name, "'");
  index_[t.name] = tensors_.size();
  tensors_.push_back(std::move(t));
}

const SourceTensor* TensorTable::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

const float* take(Model& model, const TensorTable& table, NameScheme scheme, TensorRole role, int layer) {
  const std::string name = tensor_name(scheme, role, layer);
  const SourceTensor* t = table.find(name);
  check(t != nullptr, "'", model.path, "': missing tensor '", name, "'");
  const auto expected = expected_shape(model.config, role);
  check(t->shape == expected, "'", model.path, "': tensor '", name, "' has shape ", shape_string(t->shape),
        ", expected ", shape_string(expected));
  check(t->float_readable, "'", model.path, "': tensor '", name, "' has type ", t->type_name,
        ", which this engine cannot read");
  uint64_t n = 1;
  for (auto d : t->shape) n *= d;
  if (t->type == GgmlType::F32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    check(t->nbytes == n * 4, "'", model.path, "': tensor '", name, "' has ", t->nbytes, " bytes for ", n,
          " floats");
    return reinterpret_cast<const float*>(t->data);
  }
  const size_t need = ggml_row_bytes(t->type, t->shape.back()) * (n / t->shape.back());
  check(t->nbytes == need, "'", model.path, "': tensor '", name, "' has ", t->nbytes,
        " bytes, its type needs ", need);
  std::vector<float> out(n);
  ggml_to_float(t->type, t->data, out.data(), n);
  return model.own(std::move(out));
}

}  // namespace

void assemble_weights(Model& model, const TensorTable& table, NameScheme scheme) {
  const ModelConfig& c = model.config;
  ModelWeights& w = model.weights;
  w.token_embedding = take(model, table, scheme, TensorRole::TokenEmbedding, 0);
  w.layers.assign(size_t(c.n_layers), {});
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& lw = w.layers[size_t(l)];
    auto get = [&](TensorRole role) { return take(model, table, scheme, role, l); };
    lw.attn_norm = get(TensorRole::AttnNorm);
    lw.wq = get(TensorRole::Wq);
    lw.wk = get(TensorRole::Wk);
    lw.wv = get(TensorRole::Wv);
    if (c.qkv_bias) {
      lw.bq = get(TensorRole::Bq);
      lw.bk = get(TensorRole::Bk);
      lw.bv = get(TensorRole::Bv);
    }
    lw.wo = get(TensorRole::Wo);
    lw.ffn_norm = get(TensorRole::FfnNorm);
    lw.w_gate = get(TensorRole::Gate);
    lw.w_up = get(TensorRole::Up);
    lw.w_down = get(TensorRole::Down);
  }
  w.output_norm = take(model, table, scheme, TensorRole::OutputNorm, 0);
  w.output = c.tied_output ? w.token_embedding : take(model, table, scheme, TensorRole::Output, 0);
}

std::string folder_of(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

}  // namespace llmnpu
