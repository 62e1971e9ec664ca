#include "model/model_writer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <list>
#include <numbers>

#include "core/error.h"
#include "format/gguf_writer.h"
#include "format/safetensors.h"
#include "model/load_hf_config.h"
#include "model/tensor_names.h"
#include "tokenizer/load.h"
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
  return layer_weight(w.layers[size_t(layer)], role);
}

uint64_t count(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool is_rms_norm(const ModelConfig& c, TensorRole role) {
  if (c.norm_kind != NormKind::Rms) return false;
  switch (role) {
    case TensorRole::AttnNorm:
    case TensorRole::FfnNorm:
    case TensorRole::OutputNorm:
    case TensorRole::PostAttnNorm:
    case TensorRole::PostFfnNorm:
    case TensorRole::QNorm:
    case TensorRole::KNorm: return true;
    default: return false;
  }
}

// What a file format expects of the stored weights.
struct WriteTarget {
  NameScheme scheme;
  RopeLayout layout;        // Q/K rows permuted to this RoPE pairing
  float norm_offset = 0;    // RMSNorm weights stored as (effective weight - this): HF Gemma stores w, 1 + w
  bool fused_phi3 = false;  // Phi-3: Q|K|V and gate|up stored as one tensor each
};

WriteTarget target_for(const ModelConfig& c, NameScheme scheme) {
  WriteTarget t{scheme, RopeLayout::HalfSplit};
  if (scheme == NameScheme::Gguf && c.arch == "llama") t.layout = RopeLayout::Interleaved;
  if (scheme == NameScheme::HuggingFace && (c.arch == "gemma" || c.arch == "gemma2")) t.norm_offset = 1.0f;
  t.fused_phi3 = c.arch == "phi3";
  return t;
}

using Scratch = std::list<std::vector<float>>;
// Gives a tensor's float data, transformed to the target's conventions; transformed or produced copies
// go to the scratch it is given. Holds copies of what it needs, so it can run after the visit (when a
// GGUF writer produces the tensor).
using Fetch = std::function<const float*(Scratch&)>;

// Visits every stored weight in file order with its name, shape and a fetch of its float data.
// linears = false skips the per-layer linears' weights and biases (a prepared file quantizes those);
// matrices = false skips every 2-D weight without reading it (a prepared file writes those its own way,
// and a streamed model has no fp32 pointer for them). A 2-D weight the model does not hold comes from
// `source` when one is given.
template <typename Visit>
void for_each_weight(const Model& m, const WriteTarget& target, const MatrixSource& source, Visit visit,
                     bool linears = true, bool matrices = true) {
  const ModelConfig& c = m.config;
  check(c.rotary_dims == 0 || c.rope_layout == target.layout,
        "cannot change the RoPE layout of a model with partial rotary embedding");
  auto name_of = [&](TensorRole role, int layer) { return tensor_name(target.scheme, role, layer, c.arch); };
  auto fetch_of = [&](TensorRole role, int layer) -> Fetch {
    const std::string name = name_of(role, layer);
    return [&m, &source, target, role, layer, name](Scratch& scratch) {
      const ModelConfig& c = m.config;
      const auto shape = expected_shape(c, role);
      const float* data = weight_of(m, role, layer);
      if (!data && source && shape.size() == 2) {
        scratch.push_back(source(role, layer));
        check(scratch.back().size() == count(shape), "weight '", name, "' was made with ",
              scratch.back().size(), " values, expected ", count(shape));
        data = scratch.back().data();
      }
      check(data != nullptr, "cannot write the model: weight '", name, "' is missing");
      const bool is_q = role == TensorRole::Wq || role == TensorRole::Bq;
      const bool is_k = role == TensorRole::Wk || role == TensorRole::Bk;
      if ((is_q || is_k) && c.rope_layout != target.layout) {
        const int cols = shape.size() == 2 ? int(shape[1]) : 1;
        scratch.push_back(permute_rope_rows(data, is_q ? c.n_heads : c.n_kv_heads, c.head_dim, cols,
                                            c.rope_layout, target.layout));
        data = scratch.back().data();
      }
      if (is_rms_norm(c, role) && c.norm_weight_offset != target.norm_offset) {
        std::vector<float> v(data, data + count(shape));
        for (float& x : v) x += c.norm_weight_offset - target.norm_offset;
        scratch.push_back(std::move(v));
        data = scratch.back().data();
      }
      return data;
    };
  };
  auto emit = [&](TensorRole role, int layer) {
    if (!matrices && expected_shape(c, role).size() == 2) return;
    visit(name_of(role, layer), expected_shape(c, role), fetch_of(role, layer));
  };
  // Rows of several roles as one tensor.
  auto emit_fused = [&](const std::string& name, std::initializer_list<TensorRole> roles, int layer) {
    if (!matrices) return;
    uint64_t n_rows = 0, cols = 0;
    std::vector<std::pair<Fetch, uint64_t>> parts;  // each role's fetch and element count
    for (TensorRole role : roles) {
      const auto shape = expected_shape(c, role);
      n_rows += shape[0];
      cols = shape[1];
      parts.emplace_back(fetch_of(role, layer), count(shape));
    }
    visit(name, std::vector<uint64_t>{n_rows, cols}, Fetch([parts](Scratch& scratch) {
            std::vector<float> rows;
            for (const auto& [fetch, n] : parts) {
              Scratch part_scratch;  // each part's copies are dropped once appended
              const float* data = fetch(part_scratch);
              rows.insert(rows.end(), data, data + n);
            }
            scratch.push_back(std::move(rows));
            return scratch.back().data();
          }));
  };
  const bool hf = target.scheme == NameScheme::HuggingFace;
  emit(TensorRole::TokenEmbedding, 0);
  for (int l = 0; l < c.n_layers; ++l)
    for (TensorRole role : layer_roles(c)) {
      if (!linears && is_linear_role(role)) continue;
      if (target.fused_phi3 && (role == TensorRole::Wq || role == TensorRole::Gate)) {
        const std::string prefix = hf ? str("model.layers.", l, ".") : str("blk.", l, ".");
        if (role == TensorRole::Wq)
          emit_fused(prefix + (hf ? "self_attn.qkv_proj.weight" : "attn_qkv.weight"),
                     {TensorRole::Wq, TensorRole::Wk, TensorRole::Wv}, l);
        else
          emit_fused(prefix + (hf ? "mlp.gate_up_proj.weight" : "ffn_up.weight"),
                     {TensorRole::Gate, TensorRole::Up}, l);
        continue;
      }
      if (target.fused_phi3 && (role == TensorRole::Wk || role == TensorRole::Wv || role == TensorRole::Up))
        continue;
      emit(role, l);
    }
  emit(TensorRole::OutputNorm, 0);
  if (c.norm_kind == NormKind::Layer) emit(TensorRole::OutputNormBias, 0);
  if (!c.tied_output) {
    emit(TensorRole::Output, 0);
    if (c.linear_biases) emit(TensorRole::OutputBias, 0);
  }
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
  w.set(p + (c.norm_kind == NormKind::Layer ? "attention.layer_norm_epsilon"
                                            : "attention.layer_norm_rms_epsilon"),
        GgufValue::of_f32(c.norm_eps));
  w.set(p + "rope.freq_base", GgufValue::of_f32(c.rope_base));
  w.set(p + "rope.dimension_count",
        GgufValue::of_u32(uint32_t(c.rotary_dims > 0 ? c.rotary_dims : c.head_dim)));
  if (c.sliding_window > 0)
    w.set(p + "attention.sliding_window", GgufValue::of_u32(uint32_t(c.sliding_window)));
  if (c.attn_logit_softcap > 0) w.set(p + "attn_logit_softcapping", GgufValue::of_f32(c.attn_logit_softcap));
  if (c.final_logit_softcap > 0)
    w.set(p + "final_logit_softcapping", GgufValue::of_f32(c.final_logit_softcap));
  // Llama 3 scaling is not a llama.cpp scaling type: its converter stores the per-pair divisors as the
  // rope_freqs.weight tensor instead (add_rope_freqs_tensor).
  if (c.rope_scaling == RopeScaling::Linear) {
    w.set(p + "rope.scaling.type", GgufValue::of_string("linear"));
    w.set(p + "rope.scaling.factor", GgufValue::of_f32(c.rope_scaling_factor));
  }
  if (m.tokenizer) {
    std::vector<std::pair<std::string, GgufValue>> keys;
    append_vocab_metadata(m.tokenizer->vocab(), keys);
    for (auto& [key, value] : keys) w.set(key, std::move(value));
  }
}

std::vector<float> llama3_rope_freq_factors(const ModelConfig& c) {
  const int rotary = c.rotary_dims > 0 ? c.rotary_dims : c.head_dim;
  check(c.rope_scaling_factor > 0 && c.rope_low_freq_factor > 0 &&
            c.rope_high_freq_factor > c.rope_low_freq_factor && c.rope_original_context > 0,
        "invalid llama3 RoPE scaling parameters");
  const double low_wavelen = c.rope_original_context / double(c.rope_low_freq_factor);
  const double high_wavelen = c.rope_original_context / double(c.rope_high_freq_factor);
  std::vector<float> factors;
  for (int i = 0; i < rotary / 2; ++i) {
    const double wavelen = 2 * std::numbers::pi * std::pow(double(c.rope_base), 2.0 * i / rotary);
    double divisor = 1;  // high frequencies keep theirs
    if (wavelen > low_wavelen) {
      divisor = c.rope_scaling_factor;
    } else if (wavelen >= high_wavelen) {
      // Blend between scaled and unscaled frequency, as a divisor of the unscaled one.
      const double smooth = (c.rope_original_context / wavelen - c.rope_low_freq_factor) /
                            (c.rope_high_freq_factor - c.rope_low_freq_factor);
      divisor = 1 / ((1 - smooth) / c.rope_scaling_factor + smooth);
    }
    factors.push_back(float(divisor));
  }
  return factors;
}

void add_rope_freqs_tensor(const ModelConfig& c, GgufWriter& w) {
  std::vector<float> factors = c.rope_freq_factors;
  if (factors.empty() && c.rope_scaling == RopeScaling::Llama3) factors = llama3_rope_freq_factors(c);
  if (factors.empty()) return;
  w.add_tensor_owned("rope_freqs.weight", GgmlType::F32, {uint64_t(factors.size())},
                     encode_floats(GgmlType::F32, factors.data(), factors.size()));
}

void write_model_gguf(const Model& m, const std::string& path, GgmlType weight_type,
                      const MatrixSource& source) {
  const ModelConfig& c = m.config;
  c.validate();
  check(weight_type == GgmlType::F32 || weight_type == GgmlType::F16 || weight_type == GgmlType::BF16 ||
            weight_type == GgmlType::Q8_0,
        "cannot write weights as ", ggml_type_name(weight_type), " (F32, F16, BF16, Q8_0 are supported)");
  GgufWriter w;
  set_model_metadata(m, w);
  std::list<std::vector<float>> scratch;
  add_float_tensors(m, w, weight_type, true, scratch, true, source);
  add_rope_freqs_tensor(c, w);
  w.write(path);
}

void add_float_tensors(const Model& m, GgufWriter& w, GgmlType weight_type, bool linears,
                       std::list<std::vector<float>>& scratch, bool matrices, const MatrixSource& source) {
  const ModelConfig& c = m.config;
  for_each_weight(
      m, target_for(c, NameScheme::Gguf), source,
      [&](const std::string& name, const std::vector<uint64_t>& shape, const Fetch& fetch) {
        const std::vector<uint64_t> dims(shape.rbegin(), shape.rend());
        const uint64_t n = count(shape);
        GgmlType type = shape.size() == 2 ? weight_type : GgmlType::F32;
        if (type == GgmlType::Q8_0 && dims[0] % 32 != 0) type = GgmlType::F32;
        if (shape.size() == 1) {  // vectors: small, kept (transformed) in the caller's scratch
          w.add_tensor(name, type, dims, fetch(scratch), size_t(n * 4));
          return;
        }
        // Matrices are encoded (or made) while the file is written, one at a time.
        w.add_tensor_produced(name, type, dims, ggml_row_bytes(type, dims[0]) * size_t(dims[1]),
                              [fetch, type, n](const GgufWriter::PieceWriter& write) {
                                Scratch local;
                                const std::vector<uint8_t> bytes =
                                    encode_floats(type, fetch(local), size_t(n));
                                write(bytes.data(), bytes.size());
                              });
      },
      linears, matrices);
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
  for_each_weight(m, target_for(c, NameScheme::HuggingFace), MatrixSource(),
                  [&](const std::string& name, const std::vector<uint64_t>& shape, const Fetch& fetch) {
                    st.add_tensor(name, GgmlType::F32, shape, fetch(scratch), size_t(count(shape) * 4));
                  });
  st.write(folder + "/model.safetensors");
  if (m.tokenizer) write_hf_tokenizer(m.tokenizer->vocab(), folder);
  const std::string config_path = folder + "/config.json";
  std::ofstream out(config_path + ".tmp", std::ios::trunc);
  out << config_text;
  out.close();
  check(out.good(), "writing '", config_path, "' failed");
  std::filesystem::rename(config_path + ".tmp", config_path, ec);
  check(!ec, "cannot rename '", config_path, ".tmp': ", ec.message());
}

}  // namespace llmnpu
