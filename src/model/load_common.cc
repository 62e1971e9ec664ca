#include "model/load_common.h"

#include <cstdint>
#include <filesystem>

#include "core/error.h"
#include "format/ggml_dequant.h"

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

bool is_matrix_role(TensorRole role) {
  return is_linear_role(role) || role == TensorRole::TokenEmbedding || role == TensorRole::Output;
}

const float* take(Model& model, const TensorTable& table, NameScheme scheme, TensorRole role, int layer,
                  bool stream = false) {
  const std::string name = tensor_name(scheme, role, layer, model.config.arch);
  const SourceTensor* t = table.find(name);
  check(t != nullptr, "'", model.path, "': missing tensor '", name, "'");
  const auto expected = expected_shape(model.config, role);
  check(t->shape == expected, "'", model.path, "': tensor '", name, "' has shape ", shape_string(t->shape),
        ", expected ", shape_string(expected));
  check(t->float_readable, "'", model.path, "': tensor '", name, "' has type ", t->type_name,
        ", which this engine cannot read");
  uint64_t n = 1;
  for (auto d : t->shape) n *= d;
  const size_t need = ggml_row_bytes(t->type, t->shape.back()) * (n / t->shape.back());
  check(t->nbytes == need, "'", model.path, "': tensor '", name, "' has ", t->nbytes,
        " bytes, its type needs ", need);
  // Streamed, fp32 included: read a block of rows at a time, its mapped pages given back after.
  if (stream && is_matrix_role(role) && t->shape.size() == 2) {
    const bool global = role == TensorRole::TokenEmbedding || role == TensorRole::Output;
    model.streamed[{global ? -1 : layer, role}] = {t->type, t->data, int(t->shape[0]), int(t->shape[1]),
                                                   ggml_row_bytes(t->type, t->shape[1])};
    return nullptr;
  }
  if (t->type == GgmlType::F32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0)
    return reinterpret_cast<const float*>(t->data);
  std::vector<float> out(n);
  ggml_to_float(t->type, t->data, out.data(), n);
  return model.own(std::move(out));
}

}  // namespace

void split_rows(TensorTable& table, SourceTensor fused, const std::vector<std::pair<std::string, int>>& parts,
                bool transposed) {
  check(fused.shape.size() == 2, "tensor '", fused.name, "' has rank ", fused.shape.size(), ", expected 2");
  if (transposed) {
    check(fused.shape[0] == 1, "tensor '", fused.name, "' is not a vector");
    fused.shape = {fused.shape[1], 1};
    check(fused.type == GgmlType::F32 || fused.type == GgmlType::F16 || fused.type == GgmlType::BF16,
          "tensor '", fused.name, "' has type ", fused.type_name, ", which this engine cannot split");
  }
  uint64_t rows = 0;
  for (const auto& part : parts) rows += uint64_t(part.second);
  check(fused.shape[0] == rows, "tensor '", fused.name, "' has ", fused.shape[0], " rows, expected ", rows);
  check(fused.float_readable, "tensor '", fused.name, "' has type ", fused.type_name,
        ", which this engine cannot read");
  const size_t row_bytes = ggml_row_bytes(fused.type, fused.shape[1]);
  check(row_bytes * rows == fused.nbytes, "tensor '", fused.name, "' has ", fused.nbytes, " bytes for ", rows,
        " rows of ", row_bytes);
  size_t offset = 0;
  for (const auto& [name, n] : parts) {
    SourceTensor t = fused;
    t.name = name;
    t.shape =
        transposed ? std::vector<uint64_t>{uint64_t(n)} : std::vector<uint64_t>{uint64_t(n), fused.shape[1]};
    t.data = fused.data + offset;
    t.nbytes = row_bytes * size_t(n);
    offset += t.nbytes;
    table.add(std::move(t));
  }
}

void assemble_weights(Model& model, const TensorTable& table, NameScheme scheme, bool stream_matrices) {
  const ModelConfig& c = model.config;
  ModelWeights& w = model.weights;
  w.token_embedding = take(model, table, scheme, TensorRole::TokenEmbedding, 0, stream_matrices);
  w.layers.assign(size_t(c.n_layers), {});
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& lw = w.layers[size_t(l)];
    for (TensorRole role : layer_roles(c)) {
      const float* data = take(model, table, scheme, role, l, stream_matrices);
      layer_weight(lw, role) = data;
    }
  }
  w.output_norm = take(model, table, scheme, TensorRole::OutputNorm, 0);
  if (c.norm_kind == NormKind::Layer)
    w.output_norm_b = take(model, table, scheme, TensorRole::OutputNormBias, 0);
  w.output =
      c.tied_output ? w.token_embedding : take(model, table, scheme, TensorRole::Output, 0, stream_matrices);
  if (c.linear_biases && !c.tied_output) w.output_b = take(model, table, scheme, TensorRole::OutputBias, 0);
}

std::string folder_of(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

}  // namespace llmnpu
