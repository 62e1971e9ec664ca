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
    for (TensorRole role : layer_roles(c)) {
      const float* data = take(model, table, scheme, role, l);
      switch (role) {
        case TensorRole::AttnNorm: lw.attn_norm = data; break;
        case TensorRole::AttnNormBias: lw.attn_norm_b = data; break;
        case TensorRole::Wq: lw.wq = data; break;
        case TensorRole::Wk: lw.wk = data; break;
        case TensorRole::Wv: lw.wv = data; break;
        case TensorRole::Bq: lw.bq = data; break;
        case TensorRole::Bk: lw.bk = data; break;
        case TensorRole::Bv: lw.bv = data; break;
        case TensorRole::Wo: lw.wo = data; break;
        case TensorRole::Bo: lw.bo = data; break;
        case TensorRole::FfnNorm: lw.ffn_norm = data; break;
        case TensorRole::Gate: lw.w_gate = data; break;
        case TensorRole::Up: lw.w_up = data; break;
        case TensorRole::UpBias: lw.b_up = data; break;
        case TensorRole::Down: lw.w_down = data; break;
        case TensorRole::DownBias: lw.b_down = data; break;
        case TensorRole::QNorm: lw.q_norm = data; break;
        case TensorRole::KNorm: lw.k_norm = data; break;
        case TensorRole::PostAttnNorm: lw.post_attn_norm = data; break;
        case TensorRole::PostFfnNorm: lw.post_ffn_norm = data; break;
        default: fail("unexpected layer tensor role ", int(role));
      }
    }
  }
  w.output_norm = take(model, table, scheme, TensorRole::OutputNorm, 0);
  if (c.norm_kind == NormKind::Layer)
    w.output_norm_b = take(model, table, scheme, TensorRole::OutputNormBias, 0);
  w.output = c.tied_output ? w.token_embedding : take(model, table, scheme, TensorRole::Output, 0);
  if (c.linear_biases && !c.tied_output) w.output_b = take(model, table, scheme, TensorRole::OutputBias, 0);
}

std::string folder_of(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

}  // namespace llmnpu
