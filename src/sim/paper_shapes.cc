#include "sim/paper_shapes.h"

#include "core/error.h"
#include "model/synth.h"

namespace llmnpu::sim {

const std::vector<PaperShape>& paper_shapes() {
  static const std::vector<PaperShape> shapes = [] {
    // Qwen1.5-1.8B (its Hugging Face config.json): the paper's headline model, multi-head attention.
    ModelConfig qwen;
    qwen.arch = "qwen2";
    qwen.name = "qwen1.5-1.8b";
    qwen.dim = 2048;
    qwen.n_layers = 24;
    qwen.n_heads = 16;
    qwen.n_kv_heads = 16;
    qwen.head_dim = 128;
    qwen.ffn_dim = 5504;
    qwen.vocab_size = 151936;
    qwen.max_seq_len = 32768;
    // The paper's other models, from their Hugging Face config.json files.
    ModelConfig gemma;  // Gemma-2B: multi-query attention, head_dim 256, GeGLU
    gemma.arch = "gemma";
    gemma.name = "gemma-2b";
    gemma.dim = 2048;
    gemma.n_layers = 18;
    gemma.n_heads = 8;
    gemma.n_kv_heads = 1;
    gemma.head_dim = 256;
    gemma.ffn_dim = 16384;
    gemma.vocab_size = 256000;
    gemma.max_seq_len = 8192;
    gemma.ffn_activation = FfnActivation::GeluTanh;
    gemma.embedding_scale = 45.254834f;  // sqrt(2048)
    ModelConfig phi2;  // Phi-2: LayerNorm, parallel attention and GELU MLP, partial rotary, biases
    phi2.arch = "phi2";
    phi2.name = "phi-2";
    phi2.dim = 2560;
    phi2.n_layers = 32;
    phi2.n_heads = 32;
    phi2.n_kv_heads = 32;
    phi2.head_dim = 80;
    phi2.rotary_dims = 32;
    phi2.ffn_dim = 10240;
    phi2.vocab_size = 51200;
    phi2.norm_kind = NormKind::Layer;
    phi2.parallel_block = true;
    phi2.ffn_gated = false;
    phi2.ffn_activation = FfnActivation::GeluTanh;
    phi2.linear_biases = true;
    ModelConfig llama2;  // LLaMA-2-7B
    llama2.arch = "llama";
    llama2.name = "llama-2-7b";
    llama2.dim = 4096;
    llama2.n_layers = 32;
    llama2.n_heads = 32;
    llama2.n_kv_heads = 32;
    llama2.head_dim = 128;
    llama2.ffn_dim = 11008;
    llama2.vocab_size = 32000;
    llama2.max_seq_len = 4096;
    ModelConfig mistral = llama2;  // Mistral-7B-v0.1: GQA 4, sliding window 4096
    mistral.name = "mistral-7b";
    mistral.n_kv_heads = 8;
    mistral.ffn_dim = 14336;
    mistral.max_seq_len = 32768;
    mistral.sliding_window = 4096;
    return std::vector<PaperShape>{{"qwen1.5-1.8b", qwen},
                                   {"gemma-2b", gemma},
                                   {"phi-2", phi2},
                                   {"llama-2-7b", llama2},
                                   {"mistral-7b", mistral}};
  }();
  return shapes;
}

ModelConfig find_sim_shape(const std::string& name) {
  for (const auto& s : paper_shapes())
    if (s.name == name) return s.config;
  std::string known;
  for (const auto& s : synth_shapes()) {
    if (s.name == name) return s.config;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  for (const auto& s : paper_shapes()) known += ", " + s.name;
  fail("unknown shape '", name, "' (known: ", known, ")");
}

}  // namespace llmnpu::sim
