#include "model/model.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/mapped_file.h"
#include "model/tensor_names.h"

namespace llmnpu {

const float*& layer_weight(LayerWeights& lw, TensorRole role) {
  switch (role) {
    case TensorRole::AttnNorm: return lw.attn_norm;
    case TensorRole::AttnNormBias: return lw.attn_norm_b;
    case TensorRole::Wq: return lw.wq;
    case TensorRole::Wk: return lw.wk;
    case TensorRole::Wv: return lw.wv;
    case TensorRole::Bq: return lw.bq;
    case TensorRole::Bk: return lw.bk;
    case TensorRole::Bv: return lw.bv;
    case TensorRole::Wo: return lw.wo;
    case TensorRole::Bo: return lw.bo;
    case TensorRole::FfnNorm: return lw.ffn_norm;
    case TensorRole::Gate: return lw.w_gate;
    case TensorRole::Up: return lw.w_up;
    case TensorRole::UpBias: return lw.b_up;
    case TensorRole::Down: return lw.w_down;
    case TensorRole::DownBias: return lw.b_down;
    case TensorRole::QNorm: return lw.q_norm;
    case TensorRole::KNorm: return lw.k_norm;
    case TensorRole::PostAttnNorm: return lw.post_attn_norm;
    case TensorRole::PostFfnNorm: return lw.post_ffn_norm;
    default: fail("tensor role ", int(role), " is not a per-layer weight");
  }
}

const float* layer_weight(const LayerWeights& lw, TensorRole role) {
  return layer_weight(const_cast<LayerWeights&>(lw), role);  // the same switch, read-only
}

void MatrixRef::read_rows(int r0, int n, float* out) const {
  check(r0 >= 0 && n >= 0 && r0 + n <= rows, "rows ", r0, "..", r0 + n, " outside a matrix of ", rows);
  if (f32) {
    std::copy_n(f32 + size_t(r0) * size_t(cols), size_t(n) * size_t(cols), out);
    return;
  }
  check(streamed != nullptr, "reading rows of an empty matrix");
  const uint8_t* first = streamed->data + size_t(r0) * streamed->row_bytes;
  for (int r = 0; r < n; ++r)
    ggml_to_float(streamed->type, first + size_t(r) * streamed->row_bytes, out + size_t(r) * size_t(cols),
                  size_t(cols));
  // The mapped pages go back to the page cache (a later read maps them again): a process that reads the
  // whole model once per calibration window then holds about one block of it, not the model.
  release_mapped_pages(first, size_t(n) * streamed->row_bytes);
}

void MatrixRef::read_rows_f16(int r0, int n, uint16_t* out) const {
  check(r0 >= 0 && n >= 0 && r0 + n <= rows, "rows ", r0, "..", r0 + n, " outside a matrix of ", rows);
  if (streamed && streamed->type == GgmlType::F16) {
    const uint8_t* first = streamed->data + size_t(r0) * streamed->row_bytes;
    std::memcpy(out, first, size_t(n) * streamed->row_bytes);
    release_mapped_pages(first, size_t(n) * streamed->row_bytes);
    return;
  }
  constexpr int kBlock = 64;  // rows converted at a time
  std::vector<float> block(size_t(kBlock) * size_t(cols));
  for (int b = 0; b < n; b += kBlock) {
    const int m = std::min(kBlock, n - b);
    read_rows(r0 + b, m, block.data());
    for (size_t i = 0; i < size_t(m) * size_t(cols); ++i)
      out[size_t(b) * size_t(cols) + i] = float_to_half(block[i]);
  }
}

MatrixRef Model::matrix(int layer, TensorRole role) const {
  const bool global = role == TensorRole::TokenEmbedding || role == TensorRole::Output;
  MatrixRef m;
  const auto shape = expected_shape(config, role);
  check(shape.size() == 2, "tensor role ", int(role), " is not a matrix");
  m.rows = int(shape[0]);
  m.cols = int(shape[1]);
  if (!global) {
    check(layer >= 0 && size_t(layer) < weights.layers.size(), "model has no layer ", layer);
    m.f32 = layer_weight(weights.layers[size_t(layer)], role);
  } else {
    m.f32 = role == TensorRole::TokenEmbedding ? weights.token_embedding : weights.output;
  }
  if (!m.f32) {
    // A tied head reads the embedding's rows.
    const TensorRole key =
        role == TensorRole::Output && config.tied_output ? TensorRole::TokenEmbedding : role;
    auto it = streamed.find({global ? -1 : layer, key});
    if (it != streamed.end()) m.streamed = &it->second;
  }
  return m;
}

float* Model::own(std::vector<float> data) {
  auto buffer = std::make_shared<std::vector<float>>(std::move(data));
  float* p = buffer->data();
  keep_alive.push_back(std::move(buffer));
  return p;
}

}  // namespace llmnpu
