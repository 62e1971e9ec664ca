// GGUF models: general.architecture "llama" (Q/K rows stored for interleaved RoPE, as llama.cpp's
// converter permutes them) or "qwen2" (rows as in HF: half-split RoPE).
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
  check(arch == "llama" || arch == "qwen2", "'", path, "': architecture '", arch,
        "' is not supported (llama, qwen2 are)");
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
  check(get_size(f, p + "rope.dimension_count", c.head_dim) == c.head_dim, "'", path,
        "': rope.dimension_count differs from the head size (partial RoPE is not supported)");
  c.ffn_dim = get_size(f, p + "feed_forward_length");
  c.max_seq_len = get_size(f, p + "context_length", 2048);
  c.norm_eps = get_real(f, p + "attention.layer_norm_rms_epsilon", arch == "qwen2" ? 1e-6f : 1e-5f);
  c.rope_base = get_real(f, p + "rope.freq_base", arch == "qwen2" ? 1000000.0f : 10000.0f);

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
  return c;
}

std::unique_ptr<Model> load_gguf_model(const std::string& path) {
  auto file = std::make_shared<GgufFile>(path);
  const GgufFile& f = *file;
  auto model = std::make_unique<Model>();
  model->format = "gguf";
  model->path = path;
  ModelConfig& c = model->config;
  c = read_gguf_hyperparameters(f);
  c.rope_layout = c.arch == "llama" ? RopeLayout::Interleaved : RopeLayout::HalfSplit;

  check(!f.find_tensor("rope_freqs.weight") || c.rope_scaling == RopeScaling::Llama3, "'", path,
        "': has a rope_freqs tensor but no rope.scaling.type = llama3; precomputed RoPE factors are not "
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
    table.add({t.name, info ? info->name : "unknown", readable, t.type, t.shape(), t.data, t.nbytes});
  }
  assemble_weights(*model, table, NameScheme::Gguf);
  model->keep_alive.push_back(file);
  if (f.find("tokenizer.ggml.model")) model->tokenizer = make_tokenizer(vocab_from_gguf(f));
  return model;
}

}  // namespace llmnpu
