#include "model/model_writer.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>

#include "core/error.h"
#include "format/gguf_writer.h"
#include "format/safetensors.h"
#include "model/load_hf_config.h"
#include "model/tensor_names.h"
#include "tokenizer/vocab.h"

namespace llmnpu {

namespace {

const float* weight_of(const Model& m, TensorRole role, int layer) {
  const ModelWeights& w = m.weights;
  if (!is_layer_role(role)) {
    switch (role) {
      case TensorRole::TokenEmbedding: return w.token_embedding;
      case TensorRole::OutputNorm: return w.output_norm;
      case TensorRole::OutputNormBias: return w.output_norm_b;
      case TensorRole::OutputBias: return w.output_b;
      default: return w.output;
    }
  }
  check(size_t(layer) < w.layers.size(), "model has no layer ", layer);
  const LayerWeights& l = w.layers[size_t(layer)];
  switch (role) {
    case TensorRole::AttnNorm: return l.attn_norm;
    case TensorRole::Wq: return l.wq;
    case TensorRole::Wk: return l.wk;
    case TensorRole::Wv: return l.wv;
    case TensorRole::Bq: return l.bq;
    case TensorRole::Bk: return l.bk;
    case TensorRole::Bv: return l.bv;
    case TensorRole::Wo: return l.wo;
    case TensorRole::FfnNorm: return l.ffn_norm;
    case TensorRole::Gate: return l.w_gate;
    case TensorRole::Up: return l.w_up;
    case TensorRole::AttnNormBias: return l.attn_norm_b;
    case TensorRole::Bo: return l.bo;
    case TensorRole::UpBias: return l.b_up;
    case TensorRole::DownBias: return l.b_down;
    case TensorRole::QNorm: return l.q_norm;
    case TensorRole::KNorm: return l.k_norm;
    case TensorRole::PostAttnNorm: return l.post_attn_norm;
    case TensorRole::PostFfnNorm: return l.post_ffn_norm;
    default: return l.w_down;
  }
}

// Visits every stored weight in file order with its (possibly permuted) float data.
template <typename Visit>
void for_each_weight(const Model& m, RopeLayout target, std::list<std::vector<float>>& scratch, Visit visit) {
  const ModelConfig& c = m.config;
  auto emit = [&](TensorRole role, int layer) {
    const float* data = weight_of(m, role, layer);
    const std::string name = tensor_name(NameScheme::Gguf, role, layer);
    check(data != nullptr, "cannot write the model: weight '", name, "' is missing");
    const auto shape = expected_shape(c, role);
    const bool is_q = role == TensorRole::Wq || role == TensorRole::Bq;
    const bool is_k = role == TensorRole::Wk || role == TensorRole::Bk;
    if ((is_q || is_k) && c.rope_layout != target) {
      const int cols = shape.size() == 2 ? int(shape[1]) : 1;
      scratch.push_back(
          permute_rope_rows(data, is_q ? c.n_heads : c.n_kv_heads, c.head_dim, cols, c.rope_layout, target));
      data = scratch.back().data();
    }
    visit(role, layer, shape, data);
  };
  emit(TensorRole::TokenEmbedding, 0);
  for (int l = 0; l < c.n_layers; ++l)
    for (TensorRole role : layer_roles(c)) emit(role, l);
  emit(TensorRole::OutputNorm, 0);
  if (!c.tied_output) emit(TensorRole::Output, 0);
}

uint64_t count(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

}  // namespace

std::vector<float> permute_rope_rows(const float* w, int n_heads, int head_dim, int cols, RopeLayout from,
                                     RopeLayout to) {
  check(head_dim % 2 == 0, "RoPE permutation needs an even head size, got ", head_dim);
  std::vector<float> out(size_t(n_heads) * size_t(head_dim) * size_t(cols));
  const size_t row = size_t(cols), half = size_t(head_dim / 2);
  for (size_t h = 0; h < size_t(n_heads); ++h) {
    const float* src = w + h * size_t(head_dim) * row;
    float* dst = out.data() + h * size_t(head_dim) * row;
    for (size_t i = 0; i < half; ++i) {
      // Source and destination row of each member of pair i.
      size_t first_in = i, second_in = i + half, first_out = 2 * i,
             second_out = 2 * i + 1;  // HalfSplit -> Interleaved
      if (from == to) {
        first_out = first_in;
        second_out = second_in;
      } else if (from == RopeLayout::Interleaved) {
        std::swap(first_in, first_out);
        std::swap(second_in, second_out);
      }
      std::memcpy(dst + first_out * row, src + first_in * row, row * sizeof(float));
      std::memcpy(dst + second_out * row, src + second_in * row, row * sizeof(float));
    }
  }
  return out;
}

void set_model_metadata(const Model& m, GgufWriter& w) {
  const ModelConfig& c = m.config;
  const std::string p = c.arch + ".";
  w.set("general.architecture", GgufValue::of_string(c.arch));
  w.set("general.name", GgufValue::of_string(c.name));
  w.set("general.alignment", GgufValue::of_u32(32));
  w.set(p + "context_length", GgufValue::of_u32(uint32_t(c.max_seq_len)));
  w.set(p + "embedding_length", GgufValue::of_u32(uint32_t(c.dim)));
  w.set(p + "block_count", GgufValue::of_u32(uint32_t(c.n_layers)));
  w.set(p + "feed_forward_length", GgufValue::of_u32(uint32_t(c.ffn_dim)));
  w.set(p + "attention.head_count", GgufValue::of_u32(uint32_t(c.n_heads)));
  w.set(p + "attention.head_count_kv", GgufValue::of_u32(uint32_t(c.n_kv_heads)));
  w.set(p + "attention.key_length", GgufValue::of_u32(uint32_t(c.head_dim)));
  w.set(p + "attention.value_length", GgufValue::of_u32(uint32_t(c.head_dim)));
  w.set(p + "attention.layer_norm_rms_epsilon", GgufValue::of_f32(c.norm_eps));
  w.set(p + "rope.freq_base", GgufValue::of_f32(c.rope_base));
  w.set(p + "rope.dimension_count", GgufValue::of_u32(uint32_t(c.head_dim)));
  if (c.sliding_window > 0)
    w.set(p + "attention.sliding_window", GgufValue::of_u32(uint32_t(c.sliding_window)));
  if (c.attn_logit_softcap > 0) w.set(p + "attn_logit_softcapping", GgufValue::of_f32(c.attn_logit_softcap));
  if (c.final_logit_softcap > 0)
    w.set(p + "final_logit_softcapping", GgufValue::of_f32(c.final_logit_softcap));
  if (c.rope_scaling != RopeScaling::None) {
    w.set(p + "rope.scaling.type",
          GgufValue::of_string(c.rope_scaling == RopeScaling::Linear ? "linear" : "llama3"));
    w.set(p + "rope.scaling.factor", GgufValue::of_f32(c.rope_scaling_factor));
    w.set(p + "rope.scaling.original_context_length", GgufValue::of_u32(uint32_t(c.rope_original_context)));
    w.set(p + "rope.scaling.low_freq_factor", GgufValue::of_f32(c.rope_low_freq_factor));
    w.set(p + "rope.scaling.high_freq_factor", GgufValue::of_f32(c.rope_high_freq_factor));
  }
  if (m.tokenizer) {
    std::vector<std::pair<std::string, GgufValue>> keys;
    append_vocab_metadata(m.tokenizer->vocab(), keys);
    for (auto& [key, value] : keys) w.set(key, std::move(value));
  }
}

void write_model_gguf(const Model& m, const std::string& path, GgmlType weight_type) {
  const ModelConfig& c = m.config;
  c.validate();
  check(c.arch == "llama" || c.arch == "qwen2", "cannot write GGUF for architecture '", c.arch, "'");
  check(weight_type == GgmlType::F32 || weight_type == GgmlType::F16 || weight_type == GgmlType::BF16 ||
            weight_type == GgmlType::Q8_0,
        "cannot write weights as ", ggml_type_name(weight_type), " (F32, F16, BF16, Q8_0 are supported)");
  GgufWriter w;
  set_model_metadata(m, w);
  const RopeLayout target = c.arch == "llama" ? RopeLayout::Interleaved : RopeLayout::HalfSplit;
  std::list<std::vector<float>> scratch;
  for_each_weight(m, target, scratch,
                  [&](TensorRole role, int layer, const std::vector<uint64_t>& shape, const float* data) {
                    const std::vector<uint64_t> dims(shape.rbegin(), shape.rend());
                    const uint64_t n = count(shape);
                    GgmlType type = shape.size() == 2 ? weight_type : GgmlType::F32;
                    if (type == GgmlType::Q8_0 && dims[0] % 32 != 0) type = GgmlType::F32;
                    const std::string name = tensor_name(NameScheme::Gguf, role, layer);
                    if (type == GgmlType::F32)
                      w.add_tensor(name, type, dims, data, size_t(n * 4));
                    else
                      w.add_tensor_owned(name, type, dims, encode_floats(type, data, size_t(n)));
                  });
  if (!c.rope_freq_factors.empty())  // llama.cpp's own way to store precomputed RoPE divisors
    w.add_tensor("rope_freqs.weight", GgmlType::F32, {uint64_t(c.rope_freq_factors.size())},
                 c.rope_freq_factors.data(), c.rope_freq_factors.size() * sizeof(float));
  w.write(path);
}

void write_model_hf(const Model& m, const std::string& folder) {
  const ModelConfig& c = m.config;
  c.validate();
  check(c.rope_freq_factors.empty(),
        "cannot write a Hugging Face folder for a model with precomputed RoPE "
        "frequency divisors (rope_freqs.weight); write GGUF instead");
  const std::string config_text = hf_config_json(c);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  check(!ec, "cannot create folder '", folder, "': ", ec.message());
  SafetensorsWriter st;
  st.set_metadata("format", "pt");
  std::list<std::vector<float>> scratch;
  for_each_weight(m, RopeLayout::HalfSplit, scratch,
                  [&](TensorRole role, int layer, const std::vector<uint64_t>& shape, const float* data) {
                    st.add_tensor(tensor_name(NameScheme::HuggingFace, role, layer), GgmlType::F32, shape,
                                  data, size_t(count(shape) * 4));
                  });
  st.write(folder + "/model.safetensors");
  const std::string config_path = folder + "/config.json";
  std::ofstream out(config_path + ".tmp", std::ios::trunc);
  out << config_text;
  out.close();
  check(out.good(), "writing '", config_path, "' failed");
  std::filesystem::rename(config_path + ".tmp", config_path, ec);
  check(!ec, "cannot rename '", config_path, ".tmp': ", ec.message());
}

}  // namespace llmnpu
