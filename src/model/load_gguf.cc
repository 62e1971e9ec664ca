// GGUF models as llama.cpp's converter writes them: general.architecture "llama" (Q/K rows permuted for
// interleaved RoPE), "qwen2", "gemma" (norm weights stored as 1 + w, embeddings scaled by sqrt(dim),
// GELU-tanh gated MLP, tied output) and "phi3" (fused attn_qkv and gate|up ffn_up; sliding window), all
// but llama with NEOX (half-split) RoPE.
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "format/ggml_dequant.h"
#include "format/gguf.h"
#include "model/gguf_config.h"
#include "model/load_common.h"
#include "tokenizer/load.h"

namespace llmnpu {

namespace {

int get_size(const GgufFile& f, const std::string& key, int64_t fallback = -1) {
  const GgufValue* v = f.find(key);
  if (!v) {
    check(fallback >= 0, "'", f.path(), "': missing metadata key '", key, "'");
    return int(fallback);
  }
  check(v->is_integer(), "'", f.path(), "': '", key, "' is not an integer");
  int64_t n = v->as_int();
  check(n > 0 && n <= (int64_t(1) << 30), "'", f.path(), "': '", key, "' = ", n, " is out of range");
  return int(n);
}

float get_real(const GgufFile& f, const std::string& key, float fallback) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  check(v->is_number(), "'", f.path(), "': '", key, "' is not a number");
  double x = v->as_float();
  check(std::isfinite(x), "'", f.path(), "': '", key, "' is not finite");
  return float(x);
}

}  // namespace

ModelConfig read_gguf_hyperparameters(const GgufFile& f) {
  const std::string& path = f.path();
  const GgufValue& arch_value = f.get("general.architecture");
  check(arch_value.type == GgufType::STRING, "'", path, "': general.architecture is not a string");
  const std::string arch = arch_value.as_string();
  check(arch == "llama" || arch == "qwen2" || arch == "qwen3" || arch == "gemma" || arch == "gemma2" ||
            arch == "phi2" || arch == "phi3",
        "'", path, "': architecture '", arch,
        "' is not supported (llama, qwen2, qwen3, gemma, gemma2, phi2, phi3 are)");
  const std::string p = arch + ".";

  ModelConfig c;
  c.arch = arch;
  c.name = f.find("general.name") && f.get("general.name").type == GgufType::STRING
               ? f.get("general.name").as_string()
               : std::filesystem::path(path).stem().string();
  c.dim = get_size(f, p + "embedding_length");
  c.n_layers = get_size(f, p + "block_count");
  c.n_heads = get_size(f, p + "attention.head_count");
  c.n_kv_heads = get_size(f, p + "attention.head_count_kv", c.n_heads);
  c.head_dim = get_size(f, p + "attention.key_length", c.dim / c.n_heads);
  check(get_size(f, p + "attention.value_length", c.head_dim) == c.head_dim, "'", path,
        "': attention.value_length differs from key_length, which is not supported");
  const int rotary = get_size(f, p + "rope.dimension_count", c.head_dim);
  check(rotary <= c.head_dim && rotary % 2 == 0, "'", path, "': rope.dimension_count ", rotary,
        " must be even and at most the head size ", c.head_dim);
  if (rotary < c.head_dim) c.rotary_dims = rotary;
  c.ffn_dim = get_size(f, p + "feed_forward_length");
  c.max_seq_len = get_size(f, p + "context_length", 2048);
  c.norm_eps = arch == "phi2" ? get_real(f, p + "attention.layer_norm_epsilon", 1e-5f)
                              : get_real(f, p + "attention.layer_norm_rms_epsilon",
                                         arch == "qwen2" || arch == "qwen3" ? 1e-6f : 1e-5f);
  if (arch == "qwen3") c.qk_norm = true;
  if (arch == "phi2") {
    // One LayerNorm (with bias) feeding attention and a GELU MLP in parallel; biases on every linear.
    c.norm_kind = NormKind::Layer;
    c.parallel_block = true;
    c.ffn_gated = false;
    c.ffn_activation = FfnActivation::GeluTanh;
    c.linear_biases = true;
  }
  c.rope_base = get_real(f, p + "rope.freq_base", arch == "qwen2" || arch == "qwen3" ? 1000000.0f : 10000.0f);
  if (f.find(p + "attention.sliding_window")) c.sliding_window = get_size(f, p + "attention.sliding_window");
  if (arch == "gemma" || arch == "gemma2") {
    c.embedding_scale = std::sqrt(float(c.dim));
    c.ffn_activation = FfnActivation::GeluTanh;
  }
  if (arch == "gemma2") {
    // Post-norms, softcaps, and the window on every other layer (0, 2, ...), as llama.cpp builds it.
    c.post_norms = true;
    c.attn_logit_softcap = get_real(f, p + "attn_logit_softcapping", 50.0f);
    c.final_logit_softcap = get_real(f, p + "final_logit_softcapping", 30.0f);
    c.sliding_window_pattern = 2;
    check(c.attn_logit_softcap > 0 && c.final_logit_softcap > 0, "'", path, "': softcaps must be positive");
    // llama.cpp: queries scaled by 1/sqrt(head_dim), except the 46-layer (27B) model's 1/sqrt(dim/heads).
    if (c.n_layers == 46) c.attention_scale = float(1.0 / std::sqrt(double(c.dim) / c.n_heads));
  }

  const std::string scaling =
      f.find(p + "rope.scaling.type") ? f.get(p + "rope.scaling.type").as_string() : "none";
  if (scaling == "linear" || scaling == "llama3") {
    c.rope_scaling = scaling == "linear" ? RopeScaling::Linear : RopeScaling::Llama3;
    c.rope_scaling_factor = get_real(f, p + "rope.scaling.factor", 1.0f);
    c.rope_low_freq_factor = get_real(f, p + "rope.scaling.low_freq_factor", 1.0f);
    c.rope_high_freq_factor = get_real(f, p + "rope.scaling.high_freq_factor", 4.0f);
    c.rope_original_context = get_size(f, p + "rope.scaling.original_context_length", 8192);
    check(c.rope_scaling_factor > 0, "'", path, "': rope.scaling.factor must be positive");
  } else {
    check(scaling == "none", "'", path, "': rope scaling type '", scaling,
          "' is not supported (linear, llama3 are)");
  }
  if (const GgufTensor* freqs = f.find_tensor("rope_freqs.weight");
      freqs && c.rope_scaling == RopeScaling::None) {
    // llama.cpp's converter stores Llama 3 scaling as these divisors (and no rope.scaling.type).
    const int pairs = (c.rotary_dims > 0 ? c.rotary_dims : c.head_dim) / 2;
    check(freqs->type == GgmlType::F32 && freqs->dims.size() == 1 && freqs->dims[0] == uint64_t(pairs), "'",
          path, "': rope_freqs.weight must be F32 [", pairs, "]");
    const float* factors = reinterpret_cast<const float*>(freqs->data);
    c.rope_freq_factors.assign(factors, factors + pairs);
    for (float x : c.rope_freq_factors)
      check(std::isfinite(x) && x > 0, "'", path, "': rope_freqs.weight holds ", x,
            ", not a positive number");
  }
  return c;
}

std::unique_ptr<Model> load_gguf_model(const std::string& path, bool stream_matrices) {
  auto file = std::make_shared<GgufFile>(path);
  const GgufFile& f = *file;
  auto model = std::make_unique<Model>();
  model->format = "gguf";
  model->path = path;
  ModelConfig& c = model->config;
  c = read_gguf_hyperparameters(f);
  c.rope_layout = c.arch == "llama" ? RopeLayout::Interleaved : RopeLayout::HalfSplit;

  check(!f.find_tensor("rope_factors_long.weight") && !f.find_tensor("rope_factors_short.weight"), "'", path,
        "': long-context RoPE factors (rope_factors_long / rope_factors_short, Phi-3 LongRoPE) are not "
        "supported");

  // The embedding's row count is the vocabulary (the token list may be shorter when rows are padded).
  const GgufTensor& embedding = f.tensor("token_embd.weight");
  check(embedding.dims.size() == 2, "'", path, "': token_embd.weight has rank ", embedding.dims.size(),
        ", expected 2");
  check(embedding.dims[1] <= (1u << 30), "'", path, "': token_embd.weight is implausibly large");
  c.vocab_size = int(embedding.dims[1]);
  if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens"))
    check(tokens->array.size() <= size_t(c.vocab_size), "'", path, "': ", tokens->array.size(),
          " tokens but only ", c.vocab_size, " embedding rows");
  c.qkv_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.tied_output = f.find_tensor("output.weight") == nullptr;
  c.validate();

  TensorTable table;
  for (const GgufTensor& t : f.tensors()) {
    const GgmlTypeInfo* info = ggml_type_info(uint32_t(t.type));
    const bool readable = t.type == GgmlType::F32 || t.type == GgmlType::F16 || t.type == GgmlType::BF16 ||
                          ggml_dequantizable(t.type);
    SourceTensor source{t.name, info ? info->name : "unknown", readable, t.type, t.shape(), t.data, t.nbytes};
    // Phi-3 fuses Q|K|V and gate|up row-wise: each part is a run of whole rows of the fused tensor.
    if ((c.arch == "phi3" || c.arch == "phi2") &&
        (t.name.ends_with(".attn_qkv.weight") || t.name.ends_with(".attn_qkv.bias"))) {
      const bool bias = t.name.ends_with(".bias");
      const std::string kind = bias ? "bias" : "weight";
      const std::string layer = t.name.substr(0, t.name.size() - ("attn_qkv." + kind).size());
      if (bias) source.shape.insert(source.shape.begin(), 1);  // a bias is one row of a [1][n] matrix
      split_rows(table, source,
                 {{layer + "attn_q." + kind, c.q_dim()},
                  {layer + "attn_k." + kind, c.kv_dim()},
                  {layer + "attn_v." + kind, c.kv_dim()}},
                 bias);
    } else if (c.arch == "phi3" && t.name.ends_with(".ffn_up.weight") && t.shape().size() == 2 &&
               t.shape()[0] == 2 * uint64_t(c.ffn_dim)) {
      const std::string layer = t.name.substr(0, t.name.size() - std::string("ffn_up.weight").size());
      split_rows(table, source,
                 {{layer + "ffn_gate.weight", c.ffn_dim}, {layer + "ffn_up.weight", c.ffn_dim}});
    } else {
      table.add(std::move(source));
    }
  }
  assemble_weights(*model, table, NameScheme::Gguf, stream_matrices);
  model->keep_alive.push_back(file->mapping());
  if (f.find("tokenizer.ggml.model")) model->tokenizer = make_tokenizer(vocab_from_gguf(f));
  return model;
}

}  // namespace llmnpu
