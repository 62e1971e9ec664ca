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
    return std::vector<PaperShape>{{"qwen1.5-1.8b", qwen}};
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
