#include "model/model.h"

#include "core/error.h"
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

float* Model::own(std::vector<float> data) {
  auto buffer = std::make_shared<std::vector<float>>(std::move(data));
  float* p = buffer->data();
  keep_alive.push_back(std::move(buffer));
  return p;
}

}  // namespace llmnpu
