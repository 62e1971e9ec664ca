#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

#include "core/error.h"
#include "model/tensor_names.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

namespace {

ModelConfig sized(ModelConfig c, int dim, int layers, int heads, int kv_heads, int head_dim, int ffn,
                  int vocab, int context) {
  c.dim = dim;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.ffn_dim = ffn;
  c.vocab_size = vocab;
  c.max_seq_len = context;
  return c;
}

// The options of each family as its GGUF loader sets them (model/load_gguf.cc), sizes left to the shape.
ModelConfig gemma_family(bool gemma2) {
  ModelConfig c;
  c.arch = gemma2 ? "gemma2" : "gemma";
  c.norm_eps = 1e-6f;
  c.rope_layout = RopeLayout::HalfSplit;
  c.ffn_activation = FfnActivation::GeluTanh;
  c.tied_output = true;
  if (gemma2) {
    c.post_norms = true;
    c.attn_logit_softcap = 50.0f;
    c.final_logit_softcap = 30.0f;
    c.sliding_window_pattern = 2;
  }
  return c;
}

ModelConfig phi2_family() {
  ModelConfig c;
  c.arch = "phi2";
  c.rope_layout = RopeLayout::HalfSplit;
  c.norm_kind = NormKind::Layer;
  c.parallel_block = true;
  c.ffn_gated = false;
  c.ffn_activation = FfnActivation::GeluTanh;
  c.linear_biases = true;
  c.qkv_bias = true;
  return c;
}

ModelConfig phi3_family() {
  ModelConfig c;
  c.arch = "phi3";
  c.rope_layout = RopeLayout::HalfSplit;
  return c;
}

ModelConfig qwen3_family() {
  ModelConfig c;
  c.arch = "qwen3";
  c.norm_eps = 1e-6f;
  c.rope_base = 1000000.0f;
  c.rope_layout = RopeLayout::HalfSplit;
  c.qk_norm = true;
  c.tied_output = true;
  return c;
}

// The paper's and today's popular families, each in its real dimensions and a tiny test variant (the
// tiny ones keep what makes the family different: head size != dim / heads, partial rotary, windows).
void add_family_shapes(std::vector<SynthShape>& list, const ModelConfig& tiny_llama) {
  ModelConfig gemma = sized(gemma_family(false), 128, 4, 4, 1, 64, 352, 512, 1024);
  gemma.embedding_scale = std::sqrt(128.0f);
  list.push_back({"tiny-gemma", gemma});
  ModelConfig gemma2 = sized(gemma_family(true), 128, 4, 4, 2, 64, 352, 512, 1024);
  gemma2.embedding_scale = std::sqrt(128.0f);
  gemma2.sliding_window = 16;
  list.push_back({"tiny-gemma2", gemma2});
  ModelConfig phi2 = sized(phi2_family(), 128, 4, 4, 4, 32, 512, 512, 1024);
  phi2.rotary_dims = 16;
  list.push_back({"tiny-phi2", phi2});
  ModelConfig phi3 = sized(phi3_family(), 128, 4, 4, 4, 32, 352, 512, 1024);
  phi3.sliding_window = 32;
  list.push_back({"tiny-phi3", phi3});
  list.push_back({"tiny-qwen3", sized(qwen3_family(), 128, 4, 4, 2, 64, 352, 512, 1024)});
  ModelConfig mistral = tiny_llama;
  mistral.tied_output = false;
  mistral.sliding_window = 16;
  list.push_back({"tiny-mistral", mistral});

  ModelConfig gemma_2b = sized(gemma_family(false), 2048, 18, 8, 1, 256, 16384, 256000, 8192);
  gemma_2b.embedding_scale = std::sqrt(2048.0f);
  list.push_back({"gemma-2b", gemma_2b});
  ModelConfig gemma2_2b = sized(gemma_family(true), 2304, 26, 8, 4, 256, 9216, 256000, 8192);
  gemma2_2b.embedding_scale = std::sqrt(2304.0f);
  gemma2_2b.sliding_window = 4096;
  list.push_back({"gemma-2-2b", gemma2_2b});
  ModelConfig phi_2 = sized(phi2_family(), 2560, 32, 32, 32, 80, 10240, 51200, 2048);
  phi_2.rotary_dims = 32;  // partial_rotary_factor 0.4
  list.push_back({"phi-2", phi_2});
  ModelConfig phi3_mini = sized(phi3_family(), 3072, 32, 32, 32, 96, 8192, 32064, 4096);
  phi3_mini.sliding_window = 2047;
  list.push_back({"phi-3-mini", phi3_mini});
  list.push_back({"qwen3-0.6b", sized(qwen3_family(), 1024, 28, 16, 8, 128, 3072, 151936, 40960)});
  ModelConfig llama2_7b = sized(tiny_llama, 4096, 32, 32, 32, 128, 11008, 32000, 4096);
  llama2_7b.tied_output = false;
  list.push_back({"llama-2-7b", llama2_7b});
  ModelConfig mistral_7b = sized(tiny_llama, 4096, 32, 32, 8, 128, 14336, 32000, 32768);
  mistral_7b.tied_output = false;
  mistral_7b.sliding_window = 4096;  // Mistral-7B v0.1
  list.push_back({"mistral-7b", mistral_7b});
}

}  // namespace

const std::vector<SynthShape>& synth_shapes() {
  static const std::vector<SynthShape> shapes = [] {
    std::vector<SynthShape> list;
    ModelConfig tiny;
    tiny.arch = "llama";
    tiny.dim = 128;
    tiny.n_layers = 4;
    tiny.n_heads = 4;
    tiny.n_kv_heads = 2;
    tiny.head_dim = 32;
    tiny.ffn_dim = 352;
    tiny.vocab_size = 512;
    tiny.max_seq_len = 1024;
    tiny.rope_base = 10000.0f;
    tiny.rope_layout = RopeLayout::Interleaved;
    tiny.tied_output = true;
    list.push_back({"tiny", tiny});

    ModelConfig tiny_qwen = tiny;  // the Qwen2 facts (biases, half-split RoPE) at test size
    tiny_qwen.arch = "qwen2";
    tiny_qwen.rope_layout = RopeLayout::HalfSplit;
    tiny_qwen.rope_base = 1000000.0f;
    tiny_qwen.norm_eps = 1e-6f;
    tiny_qwen.qkv_bias = true;
    list.push_back({"tiny-qwen2", tiny_qwen});

    ModelConfig qwen;
    qwen.arch = "qwen2";
    qwen.dim = 896;
    qwen.n_layers = 24;
    qwen.n_heads = 14;
    qwen.n_kv_heads = 2;
    qwen.head_dim = 64;
    qwen.ffn_dim = 4864;
    qwen.vocab_size = 151936;
    qwen.max_seq_len = 32768;
    qwen.norm_eps = 1e-6f;
    qwen.rope_base = 1000000.0f;
    qwen.rope_layout = RopeLayout::HalfSplit;
    qwen.qkv_bias = true;
    qwen.tied_output = true;
    list.push_back({"qwen2.5-0.5b", qwen});

    ModelConfig llama;
    llama.arch = "llama";
    llama.dim = 2048;
    llama.n_layers = 16;
    llama.n_heads = 32;
    llama.n_kv_heads = 8;
    llama.head_dim = 64;
    llama.ffn_dim = 8192;
    llama.vocab_size = 128256;
    llama.max_seq_len = 131072;
    llama.rope_base = 500000.0f;
    llama.rope_layout = RopeLayout::Interleaved;
    llama.rope_scaling = RopeScaling::Llama3;
    llama.rope_scaling_factor = 32.0f;
    llama.rope_low_freq_factor = 1.0f;
    llama.rope_high_freq_factor = 4.0f;
    llama.rope_original_context = 8192;
    llama.tied_output = true;
    list.push_back({"llama-3.2-1b", llama});
    add_family_shapes(list, tiny);
    for (auto& s : list) s.config.name = "synth-" + s.name;
    return list;
  }();
  return shapes;
}

const SynthShape& find_synth_shape(const std::string& name) {
  std::string known;
  for (const auto& s : synth_shapes()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  fail("unknown synthetic shape '", name, "' (known: ", known, ")");
}

namespace {

// splitmix64: a tiny, fast, well-mixed generator; one stream per tensor keeps tensors independent of
// the order (and threads) they are generated in.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  // Approximately normal (sum of 4 uniforms, variance matched): fast and plenty for random weights.
  float normal() {
    float s = uniform() + uniform() + uniform() + uniform() - 2.0f;
    return s * 1.7320508f;  // var of sum of 4 U(0,1) is 1/3
  }
};

uint64_t stream_seed(uint64_t seed, uint64_t tensor) {
  return seed * 0x100000001b3ull ^ (tensor * 0x9e3779b97f4a7c15ull);
}

std::vector<float> random_matrix(uint64_t seed, uint64_t id, size_t rows, size_t cols, float stddev) {
  std::vector<float> m(rows * cols);
  // Rows in parallel blocks, each with its own stream, so the result does not depend on thread count.
  size_t blocks = std::max<size_t>(1, std::min<size_t>(rows, 64));
  auto fill = [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      Rng rng{stream_seed(seed, id * 1000003 + b)};
      size_t r0 = rows * b / blocks, r1 = rows * (b + 1) / blocks;
      for (size_t i = r0 * cols; i < r1 * cols; ++i) m[i] = rng.normal() * stddev;
    }
  };
  unsigned n_threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t)
    threads.emplace_back(fill, blocks * t / n_threads, blocks * (t + 1) / n_threads);
  fill(0, blocks / n_threads);
  for (auto& t : threads) t.join();
  return m;
}

std::vector<int> pick_channels(uint64_t seed, uint64_t id, int count, int range) {
  Rng rng{stream_seed(seed, id)};
  std::vector<int> out;
  while (int(out.size()) < count) {
    int c = int(rng.next() % uint64_t(range));
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void fit_vocab(Vocab& vocab, int size) {
  check(vocab.size() > 0, "synth: empty vocabulary");
  if (int(vocab.size()) > size)
    fail("synth: vocabulary of ", vocab.size(), " tokens is larger than the shape's ", size);
  bool scores = !vocab.scores.empty();
  for (int i = int(vocab.size()); i < size; ++i) {
    vocab.tokens.push_back(str("<|pad_", i, "|>"));
    vocab.types.push_back(TokenType::Unused);
    if (scores) vocab.scores.push_back(-1e9f);
  }
}

}  // namespace

namespace {

// Residual-branch outputs are scaled by gain/sqrt(2L) so the residual stream keeps one size at any
// depth, and is dominated by what the layers computed rather than by the input embedding (with a
// tied head, a stream that is mostly the input embedding just predicts the input token again).
constexpr float kBranchGain = 4.0f;
constexpr float kResidualOutlier = 60.0f;  // times a typical residual channel
constexpr float kFfnGain = 5.0f;           // gate and up rows of spiking FFN channels

// Makes each 2-D weight on its own, from the seed and the tensor's stream id alone: the whole model in
// memory and a file written one matrix at a time get the same numbers.
class SynthMatrices {
 public:
  SynthMatrices(const ModelConfig& c, uint64_t seed, bool outliers, size_t real_tokens,
                const SynthInfo& planted)
      : c_(c),
        seed_(seed),
        outliers_(outliers),
        real_tokens_(std::min(real_tokens, size_t(c.vocab_size))),
        planted_(planted) {
    // Stream ids in the order the tensors were first drawn: 1 the embedding, then each layer's seven
    // matrices and its vectors, then the final vectors and the untied head.
    per_layer_ = 7 + (c.qkv_bias ? 3 : 0) + (c.norm_kind == NormKind::Layer ? 1 : 0) +
                 (c.linear_biases ? 3 : 0) + (c.qk_norm ? 2 : 0) + (c.post_norms ? 2 : 0);
  }
  uint64_t layer_id(int layer) const { return 2 + uint64_t(layer) * per_layer_; }
  uint64_t after_layers_id() const { return layer_id(c_.n_layers); }

  std::vector<float> make(TensorRole role, int layer) const {
    const size_t dim = size_t(c_.dim), ffn = size_t(c_.ffn_dim);
    const float in_dim = 1.0f / std::sqrt(float(c_.dim));
    const float branch = kBranchGain / std::sqrt(2.0f * float(c_.n_layers));
    const float residual_damp = 1.0f / kResidualOutlier;
    const uint64_t base = layer_id(layer);
    switch (role) {
      case TensorRole::TokenEmbedding: return embedding();
      case TensorRole::Output: {
        check(!c_.tied_output, "synth: a tied model has no separate output matrix");
        const uint64_t id = after_layers_id() + (c_.norm_kind == NormKind::Layer ? 1 : 0);
        std::vector<float> out = random_matrix(seed_, id, size_t(c_.vocab_size), dim, emb_std());
        zero_padding_rows(out);
        return out;
      }
      case TensorRole::Wq:
      case TensorRole::Wk:
      case TensorRole::Wv: {
        const size_t rows = size_t(role == TensorRole::Wq ? c_.q_dim() : c_.kv_dim());
        const uint64_t offset = role == TensorRole::Wq ? 0 : role == TensorRole::Wk ? 1 : 2;
        std::vector<float> w = random_matrix(seed_, base + offset, rows, dim, in_dim);
        if (outliers_) damp_columns(w, rows, dim, planted_.residual_outlier_channels, residual_damp);
        return w;
      }
      case TensorRole::Wo:
        return random_matrix(seed_, base + 3, dim, size_t(c_.q_dim()), branch / std::sqrt(float(c_.q_dim())));
      case TensorRole::Gate:
      case TensorRole::Up: {
        const bool gate = role == TensorRole::Gate;
        std::vector<float> w = random_matrix(seed_, base + (gate ? 4 : 5), ffn, dim, in_dim);
        if (outliers_) {
          damp_columns(w, ffn, dim, planted_.residual_outlier_channels, residual_damp);
          // An ungated MLP (Phi-2) gets the whole spike on its one input projection.
          const float gain = gate || c_.ffn_gated ? kFfnGain : kFfnGain * kFfnGain;
          for (int ch : planted_.ffn_outlier_channels)
            for (size_t k = 0; k < dim; ++k) w[size_t(ch) * dim + k] *= gain;
        }
        return w;
      }
      case TensorRole::Down: {
        std::vector<float> w =
            random_matrix(seed_, base + 6, dim, ffn, branch * 2.0f / std::sqrt(float(ffn)));
        if (outliers_) damp_columns(w, dim, ffn, planted_.ffn_outlier_channels, 1.0f / (kFfnGain * kFfnGain));
        return w;
      }
      default: fail("synth: no matrix for this role");
    }
  }

 private:
  // Embeddings: small, and the tied head gives logits with a spread of a few nats.
  float emb_std() const { return 3.0f / std::sqrt(float(c_.dim)); }

  std::vector<float> embedding() const {
    const size_t dim = size_t(c_.dim);
    std::vector<float> emb = random_matrix(seed_, 1, size_t(c_.vocab_size), dim, emb_std());
    if (outliers_) {
      // Massive activations: the planted channels carry large values of a fixed sign, varying by token
      // (so calibration percentiles sit below the max, as in real models).
      Rng rng{stream_seed(seed_, 900003)};
      for (size_t v = 0; v < size_t(c_.vocab_size); ++v)
        for (size_t k = 0; k < planted_.residual_outlier_channels.size(); ++k) {
          int ch = planted_.residual_outlier_channels[k];
          float sign = (k % 2) ? -1.0f : 1.0f;
          float u = rng.uniform();
          float mag = u < 0.9f ? 0.3f + 0.4f * u : 1.0f + 0.7f * (u - 0.9f) * 10.0f;  // a heavy tail
          emb[v * dim + size_t(ch)] = sign * kResidualOutlier * mag * kBranchGain * 0.5f;
        }
    }
    // Families that scale the embedding (Gemma: by sqrt(dim)) get it pre-divided, so the residual stream
    // has the same size as in the others.
    if (c_.embedding_scale != 1.0f)
      for (float& x : emb) x /= c_.embedding_scale;
    zero_padding_rows(emb);
    return emb;
  }

  // Padding tokens get zero rows (as untrained rows of real padded vocabularies are near zero): with
  // the tied head their logit is 0, far below the best real tokens, so they are rarely generated.
  void zero_padding_rows(std::vector<float>& m) const {
    const size_t dim = size_t(c_.dim);
    std::fill(m.begin() + long(real_tokens_ * dim), m.end(), 0.0f);
  }

  // Linear inputs see the outlier channels at full size; their weight columns are scaled down so the
  // contribution stays in range (as trained models do), which keeps them essential but hard to quantize.
  static void damp_columns(std::vector<float>& w, size_t rows, size_t cols, const std::vector<int>& channels,
                           float f) {
    for (size_t r = 0; r < rows; ++r)
      for (int ch : channels) w[r * cols + size_t(ch)] *= f;
  }

  ModelConfig c_;
  uint64_t seed_;
  bool outliers_;
  size_t real_tokens_;
  SynthInfo planted_;
  uint64_t per_layer_;
};

}  // namespace

SynthModel synthesize_lazily(const SynthOptions& opt, Vocab vocab, SynthInfo* info) {
  auto model = std::make_unique<Model>();
  ModelConfig c = opt.config ? *opt.config : find_synth_shape(opt.shape).config;
  if (opt.layers > 0) c.n_layers = opt.layers;
  c.validate();
  model->config = c;
  model->format = "synth";
  model->path = "synth:" + opt.shape;

  const size_t real_tokens = vocab.size();
  fit_vocab(vocab, c.vocab_size);
  model->tokenizer = make_tokenizer(vocab);

  const uint64_t seed = opt.seed;
  const size_t dim = size_t(c.dim), ffn = size_t(c.ffn_dim);
  const float branch = kBranchGain / std::sqrt(2.0f * float(c.n_layers));

  SynthInfo planted;
  if (opt.outliers) {
    planted.residual_outlier_channels = pick_channels(seed, 900001, std::max(2, c.dim / 300), c.dim);
    planted.ffn_outlier_channels = pick_channels(seed, 900002, std::max(2, c.ffn_dim / 1200), c.ffn_dim);
  }
  if (info) *info = planted;
  auto matrices = std::make_shared<const SynthMatrices>(c, seed, opt.outliers, real_tokens, planted);

  // Weights the Llama layout lacks are drawn around their neutral value, so a loader that drops or
  // misplaces one changes the logits.
  uint64_t id = 0;
  auto around = [&](size_t n, float center, float spread) {
    std::vector<float> v = random_matrix(seed, id++, 1, n, spread);
    for (float& x : v) x += center;
    return model->own(std::move(v));
  };
  auto ones = [&](size_t n, float v) { return std::vector<float>(n, v); };
  model->weights.layers.resize(size_t(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = model->weights.layers[size_t(l)];
    L.attn_norm = model->own(ones(dim, 1.0f));
    L.ffn_norm = model->own(ones(dim, 1.0f));
    id = matrices->layer_id(l) + 7;  // the vectors' streams follow the seven matrices'
    if (c.qkv_bias) {
      L.bq = model->own(random_matrix(seed, id++, 1, size_t(c.q_dim()), 0.1f));
      L.bk = model->own(random_matrix(seed, id++, 1, size_t(c.kv_dim()), 0.1f));
      L.bv = model->own(random_matrix(seed, id++, 1, size_t(c.kv_dim()), 0.1f));
    }
    if (c.norm_kind == NormKind::Layer) L.attn_norm_b = around(dim, 0.0f, 0.05f);
    if (c.parallel_block) L.ffn_norm = nullptr;  // one norm feeds both branches
    if (c.linear_biases) {
      L.bo = around(dim, 0.0f, 0.02f);
      L.b_up = around(ffn, 0.0f, 0.1f);
      L.b_down = around(dim, 0.0f, 0.02f);
    }
    if (c.qk_norm) {
      L.q_norm = around(size_t(c.head_dim), 1.0f, 0.2f);
      L.k_norm = around(size_t(c.head_dim), 1.0f, 0.2f);
    }
    if (c.post_norms) {
      // Each branch output is normalized before its residual add: its weight sets the branch's size.
      L.post_attn_norm = around(dim, 0.25f * branch, 0.025f * branch);
      L.post_ffn_norm = around(dim, 0.25f * branch, 0.025f * branch);
    }
  }
  // The final norm removes the massive channels before the (tied) head, as trained models learn to, and
  // restores the spread of the other channels, which the massive ones shrink through the RMS.
  // A tied head reads the pre-divided embedding, so the final norm restores the embedding scale.
  std::vector<float> out_norm(dim, (opt.outliers ? 3.0f : 1.0f) * (c.tied_output ? c.embedding_scale : 1.0f));
  for (int ch : planted.residual_outlier_channels) out_norm[size_t(ch)] = 0.0f;
  model->weights.output_norm = model->own(std::move(out_norm));
  id = matrices->after_layers_id();
  if (c.norm_kind == NormKind::Layer) {
    std::vector<float> bias = random_matrix(seed, id++, 1, dim, 0.05f);
    for (int ch : planted.residual_outlier_channels) bias[size_t(ch)] = 0.0f;
    model->weights.output_norm_b = model->own(std::move(bias));
  }
  if (!c.tied_output) {
    ++id;  // the head's own stream
    if (c.linear_biases) model->weights.output_b = around(size_t(c.vocab_size), 0.0f, 0.1f);
  }
  MatrixSource source = [matrices](TensorRole role, int layer) { return matrices->make(role, layer); };
  return {std::move(model), std::move(source)};
}

uint64_t synth_float_bytes(const SynthOptions& opt) {
  ModelConfig c = opt.config ? *opt.config : find_synth_shape(opt.shape).config;
  if (opt.layers > 0) c.n_layers = opt.layers;
  auto elements = [&](TensorRole role) {
    uint64_t n = 1;
    for (uint64_t d : expected_shape(c, role)) n *= d;
    return n;
  };
  uint64_t total = elements(TensorRole::TokenEmbedding) + elements(TensorRole::OutputNorm);
  if (!c.tied_output) total += elements(TensorRole::Output);
  for (TensorRole role : layer_roles(c)) total += uint64_t(c.n_layers) * elements(role);
  return total * sizeof(float);
}

std::unique_ptr<Model> synthesize_model(const SynthOptions& opt, Vocab vocab, SynthInfo* info) {
  SynthModel lazy = synthesize_lazily(opt, std::move(vocab), info);
  Model& m = *lazy.model;
  const ModelConfig& c = m.config;
  m.weights.token_embedding = m.own(lazy.matrices(TensorRole::TokenEmbedding, 0));
  m.weights.output = c.tied_output ? m.weights.token_embedding : m.own(lazy.matrices(TensorRole::Output, 0));
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = m.weights.layers[size_t(l)];
    for (TensorRole role :
         {TensorRole::Wq, TensorRole::Wk, TensorRole::Wv, TensorRole::Wo, TensorRole::Up, TensorRole::Down})
      layer_weight(L, role) = m.own(lazy.matrices(role, l));
    if (c.ffn_gated) L.w_gate = m.own(lazy.matrices(TensorRole::Gate, l));
  }
  return std::move(lazy.model);
}

}  // namespace llmnpu
