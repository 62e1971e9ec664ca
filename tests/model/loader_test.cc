#include "model/loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "backend/float_graph.h"
#include "common/compare.h"
#include "common/testdata.h"
#include "core/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "format/safetensors.h"
#include "kernels/rope.h"
#include "model/load_hf_config.h"
#include "model/model_writer.h"
#include "model/synth.h"
#include "model/tensor_names.h"
#include "runtime/engine.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

const char* kStories = "testdata/models/stories260K/stories260K.bin";

std::string tmp(const std::string& name) { return test::temp_dir() + "/" + name; }

// A small random model (owned weights) with the given config.
std::unique_ptr<Model> random_model(ModelConfig c, uint32_t seed) {
  c.validate();
  auto m = std::make_unique<Model>();
  m->config = c;
  m->format = "memory";
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto make = [&](TensorRole role) {
    uint64_t n = 1;
    for (auto d : expected_shape(c, role)) n *= d;
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return m->own(std::move(v));
  };
  m->weights.token_embedding = make(TensorRole::TokenEmbedding);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights w;
    w.attn_norm = make(TensorRole::AttnNorm);
    w.wq = make(TensorRole::Wq);
    w.wk = make(TensorRole::Wk);
    w.wv = make(TensorRole::Wv);
    if (c.qkv_bias) {
      w.bq = make(TensorRole::Bq);
      w.bk = make(TensorRole::Bk);
      w.bv = make(TensorRole::Bv);
    }
    w.wo = make(TensorRole::Wo);
    w.ffn_norm = make(TensorRole::FfnNorm);
    w.w_gate = make(TensorRole::Gate);
    w.w_up = make(TensorRole::Up);
    w.w_down = make(TensorRole::Down);
    m->weights.layers.push_back(w);
  }
  m->weights.output_norm = make(TensorRole::OutputNorm);
  m->weights.output = c.tied_output ? m->weights.token_embedding : make(TensorRole::Output);
  return m;
}

ModelConfig small_config(const std::string& arch) {
  ModelConfig c;
  c.arch = arch;
  c.name = "small-" + arch;
  c.dim = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.ffn_dim = 96;
  c.vocab_size = 40;
  c.max_seq_len = 128;
  c.norm_eps = 1e-6f;
  c.rope_base = 500000.0f;
  c.qkv_bias = arch == "qwen2";
  c.tied_output = arch == "qwen2";
  c.rope_layout = arch == "llama" ? RopeLayout::Interleaved : RopeLayout::HalfSplit;
  return c;
}

const float* weight(const Model& m, TensorRole role, int layer) {
  const auto& w = m.weights;
  const auto& l = w.layers[size_t(layer)];
  switch (role) {
    case TensorRole::TokenEmbedding: return w.token_embedding;
    case TensorRole::OutputNorm: return w.output_norm;
    case TensorRole::Output: return w.output;
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
    case TensorRole::Down: return l.w_down;
    case TensorRole::OutputNormBias: return w.output_norm_b;
    case TensorRole::OutputBias: return w.output_b;
    case TensorRole::QNorm: return l.q_norm;
    case TensorRole::KNorm: return l.k_norm;
    case TensorRole::PostAttnNorm: return l.post_attn_norm;
    case TensorRole::PostFfnNorm: return l.post_ffn_norm;
    case TensorRole::AttnNormBias: return l.attn_norm_b;
    case TensorRole::Bo: return l.bo;
    case TensorRole::UpBias: return l.b_up;
    case TensorRole::DownBias: return l.b_down;
  }
  return nullptr;
}

size_t count(const ModelConfig& c, TensorRole role) {
  size_t n = 1;
  for (auto d : expected_shape(c, role)) n *= size_t(d);
  return n;
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.ffn_dim, b.ffn_dim);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.max_seq_len, b.max_seq_len);
  EXPECT_EQ(a.norm_eps, b.norm_eps);
  EXPECT_EQ(a.rope_base, b.rope_base);
  EXPECT_EQ(a.rope_scaling, b.rope_scaling);
  EXPECT_EQ(a.rope_scaling_factor, b.rope_scaling_factor);
  EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  EXPECT_EQ(a.tied_output, b.tied_output);
}

// Every weight of b equals a's, after converting Q/K rows of a into b's RoPE layout.
void expect_same_weights(const Model& a, const Model& b) {
  const ModelConfig& c = a.config;
  auto compare = [&](TensorRole role, int layer) {
    const size_t n = count(c, role);
    const float* pa = weight(a, role, layer);
    std::vector<float> permuted;
    const bool q = role == TensorRole::Wq || role == TensorRole::Bq,
               k = role == TensorRole::Wk || role == TensorRole::Bk;
    if ((q || k) && a.config.rope_layout != b.config.rope_layout) {
      permuted = permute_rope_rows(pa, q ? c.n_heads : c.n_kv_heads, c.head_dim,
                                   int(n / size_t(q ? c.q_dim() : c.kv_dim())), a.config.rope_layout,
                                   b.config.rope_layout);
      pa = permuted.data();
    }
    ASSERT_NE(weight(b, role, layer), nullptr) << tensor_name(NameScheme::Gguf, role, layer);
    EXPECT_EQ(std::memcmp(pa, weight(b, role, layer), n * 4), 0)
        << tensor_name(NameScheme::Gguf, role, layer);
  };
  compare(TensorRole::TokenEmbedding, 0);
  compare(TensorRole::OutputNorm, 0);
  compare(TensorRole::Output, 0);
  for (int l = 0; l < c.n_layers; ++l)
    for (TensorRole role : layer_roles(c)) compare(role, l);
}

TEST(Llama2c, LoadsStories260K) {
  LLMNPU_REQUIRE_SHARED(kStories);
  const std::string path = test::shared_path(kStories);
  EXPECT_EQ(detect_model_format(path), ModelFormat::Llama2c);
  auto m = load_model(path);
  const ModelConfig& c = m->config;
  EXPECT_EQ(m->format, "llama2c");
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.ffn_dim, 172);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.max_seq_len, 512);
  EXPECT_TRUE(c.tied_output);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.rope_layout, RopeLayout::Interleaved);
  EXPECT_EQ(c.rope_base, 10000.0f);
  EXPECT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(m->weights.output, m->weights.token_embedding);

  // Weights point into the file at the offsets llama2.c's run.c computes.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto at = [&](size_t float_index) {
    return reinterpret_cast<const float*>(bytes.data() + 28) + float_index;
  };
  const size_t dim = 64, L = 5, kv = 32, hidden = 172, vocab = 512;
  EXPECT_EQ(std::memcmp(m->weights.token_embedding, at(0), vocab * dim * 4), 0);
  size_t wq1 = vocab * dim + L * dim + 1 * dim * dim;
  EXPECT_EQ(std::memcmp(m->weights.layers[1].wq, at(wq1), dim * dim * 4), 0);
  size_t wk4 = vocab * dim + L * dim + L * dim * dim + 4 * kv * dim;
  EXPECT_EQ(std::memcmp(m->weights.layers[4].wk, at(wk4), kv * dim * 4), 0);
  size_t w3_2 = vocab * dim + 2 * L * dim + 2 * L * dim * dim + 2 * L * kv * dim + 2 * L * hidden * dim +
                2 * hidden * dim;
  EXPECT_EQ(std::memcmp(m->weights.layers[2].w_up, at(w3_2), hidden * dim * 4), 0);
  size_t final_norm = vocab * dim + 2 * L * dim + 2 * L * dim * dim + 2 * L * kv * dim + 3 * L * hidden * dim;
  EXPECT_EQ(std::memcmp(m->weights.output_norm, at(final_norm), dim * 4), 0);

  auto tensors = list_stored_tensors(path);
  EXPECT_EQ(tensors.front().name, "token_embedding_table");
  EXPECT_EQ(tensors.back().name, "freq_cis_imag");
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;
  EXPECT_EQ(total + 28, bytes.size());
}

TEST(Llama2c, RejectsTruncatedAndImplausibleFiles) {
  LLMNPU_REQUIRE_SHARED(kStories);
  std::ifstream in(test::shared_path(kStories), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string path = tmp("cut.bin");
  for (size_t len : {size_t(0), size_t(20), size_t(28), bytes.size() - 4, bytes.size() + 4}) {
    std::string b =
        len <= bytes.size() ? bytes.substr(0, len) : bytes + std::string(len - bytes.size(), '\0');
    std::ofstream(path, std::ios::binary) << b;
    EXPECT_THROW(load_model(path), Error) << len;
  }
  // INT32_MIN as the vocab size (negative means an unshared classifier) has no positive twin.
  for (int32_t vocab : {INT32_MIN, 0, -1 << 23}) {
    std::string b = bytes;
    std::memcpy(b.data() + 20, &vocab, 4);
    std::ofstream(path, std::ios::binary) << b;
    EXPECT_THROW(load_model(path), Error) << vocab;
  }
  std::string bad = bytes;
  int32_t heads = 7;  // 64 % 7 != 0
  std::memcpy(bad.data() + 12, &heads, 4);
  std::ofstream(path, std::ios::binary) << bad;
  try {
    load_model(path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a llama2.c checkpoint"), std::string::npos) << e.what();
  }
}

TEST(Llama2c, GgufAndHfRoundTrip) {
  LLMNPU_REQUIRE_SHARED(kStories);
  auto orig = load_model(test::shared_path(kStories));
  write_model_gguf(*orig, tmp("stories.gguf"), GgmlType::F32);
  auto g = load_model(tmp("stories.gguf"));
  EXPECT_EQ(g->format, "gguf");
  EXPECT_EQ(g->config.rope_layout, RopeLayout::Interleaved);
  expect_same_config(orig->config, g->config);
  expect_same_weights(*orig, *g);

  write_model_hf(*g, tmp("stories-hf"));
  auto h = load_model(tmp("stories-hf"));
  EXPECT_EQ(h->format, "hf");
  EXPECT_EQ(h->config.rope_layout, RopeLayout::HalfSplit);
  expect_same_config(orig->config, h->config);
  expect_same_weights(*orig, *h);
  // The rows really moved: head 0 row 1 (interleaved) is half-split row head_dim/2.
  const int d = orig->config.head_dim, dim = orig->config.dim;
  EXPECT_EQ(
      std::memcmp(h->weights.layers[0].wq + (d / 2) * dim, orig->weights.layers[0].wq + 1 * dim, dim * 4), 0);

  // HF -> GGUF permutes back: identical to the original file's weights.
  write_model_gguf(*h, tmp("stories2.gguf"), GgmlType::F32);
  auto g2 = load_model(tmp("stories2.gguf"));
  expect_same_weights(*orig, *g2);
}

TEST(Permute, RowsMoveAsDocumentedAndInvert) {
  // 2 heads of 4 rows, 1 column: value = row index.
  std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7};
  auto inter = permute_rope_rows(x.data(), 2, 4, 1, RopeLayout::HalfSplit, RopeLayout::Interleaved);
  EXPECT_EQ(inter, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  auto back = permute_rope_rows(inter.data(), 2, 4, 1, RopeLayout::Interleaved, RopeLayout::HalfSplit);
  EXPECT_EQ(back, x);
  std::vector<float> wide = {0, 0, 1, 1, 2, 2, 3, 3};  // 1 head of 4 rows, 2 columns
  EXPECT_EQ(permute_rope_rows(wide.data(), 1, 4, 2, RopeLayout::Interleaved, RopeLayout::HalfSplit),
            (std::vector<float>{0, 0, 2, 2, 1, 1, 3, 3}));
}

TEST(RandomModel, RoundTripsEveryFormatAndArch) {
  for (const std::string arch : {"llama", "qwen2"}) {
    auto m = random_model(small_config(arch), 7);
    write_model_gguf(*m, tmp(arch + ".gguf"), GgmlType::F32);
    auto g = load_model(tmp(arch + ".gguf"));
    expect_same_config(m->config, g->config);
    EXPECT_EQ(g->config.rope_layout, arch == "llama" ? RopeLayout::Interleaved : RopeLayout::HalfSplit);
    expect_same_weights(*m, *g);
    EXPECT_EQ(g->config.tied_output, g->weights.output == g->weights.token_embedding);

    write_model_hf(*m, tmp(arch + "-hf"));
    auto h = load_model(tmp(arch + "-hf/config.json"));  // a file inside the folder also works
    expect_same_config(m->config, h->config);
    EXPECT_EQ(h->config.rope_layout, RopeLayout::HalfSplit);
    expect_same_weights(*m, *h);
  }
}

TEST(RandomModel, LowPrecisionGgufDecodesToTheEncodedValues) {
  auto m = random_model(small_config("llama"), 3);
  for (GgmlType type : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0}) {
    write_model_gguf(*m, tmp("low.gguf"), type);
    GgufFile f(tmp("low.gguf"));
    EXPECT_EQ(f.tensor("blk.0.ffn_up.weight").type, type);
    EXPECT_EQ(f.tensor("blk.0.ffn_norm.weight").type, GgmlType::F32);
    auto g = load_model(tmp("low.gguf"));
    const size_t n = count(m->config, TensorRole::Up);
    auto encoded = encode_floats(type, m->weights.layers[1].w_up, n);
    std::vector<float> expected(n);
    ggml_to_float(type, encoded.data(), expected.data(), n);
    EXPECT_EQ(std::memcmp(g->weights.layers[1].w_up, expected.data(), n * 4), 0) << ggml_type_name(type);
    EXPECT_EQ(std::memcmp(g->weights.layers[1].ffn_norm, m->weights.layers[1].ffn_norm, 64 * 4), 0);
  }
}

// Copies a GGUF, letting `edit` change metadata and tensors on the way.
struct GgufEdit {
  std::map<std::string, GgufValue> set;
  std::string drop_tensor;
  std::string retype_tensor;   // stored as I16 (a type the loader cannot read) with the same dims
  std::string q4_tensor;       // stored as Q4_0 blocks of a byte pattern (a quantized GGUF's tensor)
  std::string reshape_tensor;  // first dim halved
};

GgufEdit drop(const std::string& n) {
  GgufEdit e;
  e.drop_tensor = n;
  return e;
}
GgufEdit reshape(const std::string& n) {
  GgufEdit e;
  e.reshape_tensor = n;
  return e;
}
GgufEdit retype(const std::string& n) {
  GgufEdit e;
  e.retype_tensor = n;
  return e;
}
GgufEdit set_key(const std::string& key, GgufValue v) {
  GgufEdit e;
  e.set[key] = std::move(v);
  return e;
}

std::string edited(const std::string& src, const GgufEdit& e, const std::string& name) {
  GgufFile f(src);
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, e.set.count(k) ? e.set.at(k) : v);
  for (const auto& [k, v] : e.set) w.set(k, v);
  for (const auto& t : f.tensors()) {
    if (t.name == e.drop_tensor) continue;
    auto dims = t.dims;
    if (t.name == e.q4_tensor) {
      std::vector<uint8_t> blocks(t.elements() / 32 * 18);
      for (size_t i = 0; i < blocks.size(); ++i)
        blocks[i] = i % 18 == 1 ? 0x20 : uint8_t(i * 37 + 11);  // d = F16 0x20xx: a small positive scale
      w.add_tensor_owned(t.name, GgmlType::Q4_0, dims, std::move(blocks));
    } else if (t.name == e.retype_tensor) {
      w.add_tensor_owned(t.name, GgmlType::I16, dims, std::vector<uint8_t>(t.elements() * 2));
    } else if (t.name == e.reshape_tensor) {
      dims[0] /= 2;
      w.add_tensor(t.name, t.type, dims, t.data, t.nbytes / 2);
    } else {
      w.add_tensor(t.name, t.type, dims, t.data, t.nbytes);
    }
  }
  const std::string out = tmp(name);
  w.write(out);
  return out;
}

void expect_load_error(const std::string& path, const std::string& needle) {
  try {
    load_model(path);
    ADD_FAILURE() << "no error, expected: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(GgufModel, QuantizedTensorsAreDequantizedAtLoad) {
  auto m = random_model(small_config("qwen2"), 6);
  const std::string src = tmp("q4src.gguf");
  write_model_gguf(*m, src, GgmlType::F32);
  GgufEdit e;
  e.q4_tensor = "blk.1.ffn_gate.weight";
  auto g = load_model(edited(src, e, "q4.gguf"));
  GgufFile f(tmp("q4.gguf"));
  const GgufTensor* t = f.find_tensor("blk.1.ffn_gate.weight");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->type, GgmlType::Q4_0);
  std::vector<float> expect(t->elements());
  ggml_to_float(GgmlType::Q4_0, t->data, expect.data(), expect.size());
  EXPECT_EQ(std::memcmp(g->weights.layers[1].w_gate, expect.data(), expect.size() * 4), 0);
  EXPECT_NE(expect[0], 0.0f);
}

TEST(GgufModel, ErrorsNameTheProblem) {
  auto m = random_model(small_config("qwen2"), 5);
  const std::string src = tmp("err.gguf");
  write_model_gguf(*m, src, GgmlType::F32);
  expect_load_error(edited(src, drop("blk.1.attn_k.bias"), "e1.gguf"), "missing tensor 'blk.1.attn_k.bias'");
  expect_load_error(edited(src, reshape("blk.0.ffn_down.weight"), "e2.gguf"),
                    "tensor 'blk.0.ffn_down.weight' has shape [64, 48], expected [64, 96]");
  expect_load_error(edited(src, retype("blk.1.ffn_gate.weight"), "e3.gguf"),
                    "'blk.1.ffn_gate.weight' has type I16");
  expect_load_error(edited(src, set_key("general.architecture", GgufValue::of_string("gpt2")), "e4.gguf"),
                    "architecture 'gpt2' is not supported");
  expect_load_error(edited(src, set_key("qwen2.feed_forward_length", GgufValue::of_u32(100)), "e5.gguf"),
                    "has shape [96, 64], expected [100, 64]");
  expect_load_error(edited(src, set_key("qwen2.attention.head_count", GgufValue::of_u32(3)), "e6.gguf"),
                    "not a multiple");
  expect_load_error(edited(src, set_key("qwen2.rope.scaling.type", GgufValue::of_string("yarn")), "e7.gguf"),
                    "'yarn' is not supported");

  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(tmp("trunc.gguf"), std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  expect_load_error(tmp("trunc.gguf"), "truncated");
}

TEST(HfModel, ErrorsNameTheProblem) {
  auto m = random_model(small_config("llama"), 9);
  const std::string dir = tmp("hf-err");
  write_model_hf(*m, dir);
  std::ifstream cin(dir + "/config.json");
  std::string config((std::istreambuf_iterator<char>(cin)), {});

  std::string gpt = config;
  gpt.replace(gpt.find("LlamaForCausalLM"), 16, "GPTNeoXForCausalLM");
  std::ofstream(dir + "/config.json") << gpt;
  expect_load_error(dir, "architecture 'GPTNeoXForCausalLM' is not supported");

  std::string wide = config;
  wide.replace(wide.find("\"intermediate_size\": 96"), 23, "\"intermediate_size\": 97");
  std::ofstream(dir + "/config.json") << wide;
  expect_load_error(dir, "'model.layers.0.mlp.gate_proj.weight' has shape [96, 64], expected [97, 64]");

  std::ofstream(dir + "/config.json") << config;
  EXPECT_NO_THROW(load_model(dir));

  // A safetensors file that lacks lm_head (the model is untied).
  SafetensorsFile good(dir + "/model.safetensors");
  SafetensorsWriter w;
  for (const auto& t : good.tensors()) {
    if (t.name == "lm_head.weight") continue;
    w.add_tensor(t.name, t.type, t.shape, t.data, t.nbytes);
  }
  w.write(dir + "/model.safetensors");
  expect_load_error(dir, "missing tensor 'lm_head.weight'");
  std::filesystem::remove(dir + "/model.safetensors");
  expect_load_error(dir, "neither model.safetensors");
}

TEST(HfConfig, ParsesFamiliesAndRopeScaling) {
  ModelConfig llama3 = parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"hidden_size":2048,
    "num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,"intermediate_size":8192,
    "vocab_size":128256,"max_position_embeddings":131072,"rms_norm_eps":1e-05,"rope_theta":500000.0,
    "tie_word_embeddings":true,"head_dim":64,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,
    "low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}})",
                                       "c.json");
  EXPECT_EQ(llama3.arch, "llama");
  EXPECT_EQ(llama3.n_kv_heads, 8);
  EXPECT_EQ(llama3.head_dim, 64);
  EXPECT_TRUE(llama3.tied_output);
  EXPECT_EQ(llama3.rope_scaling, RopeScaling::Llama3);
  EXPECT_EQ(llama3.rope_scaling_factor, 32.0f);
  EXPECT_EQ(llama3.rope_original_context, 8192);
  EXPECT_EQ(llama3.rope_layout, RopeLayout::HalfSplit);
  EXPECT_EQ(llama3.rope_base, 500000.0f);
  EXPECT_EQ(llama3.max_seq_len, 131072);

  ModelConfig qwen = parse_hf_config(R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":896,
    "num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"intermediate_size":4864,
    "vocab_size":151936,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"tie_word_embeddings":true,
    "rope_scaling":null})",
                                     "q.json");
  EXPECT_EQ(qwen.arch, "qwen2");
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_EQ(qwen.head_dim, 64);
  EXPECT_EQ(qwen.rope_scaling, RopeScaling::None);
  EXPECT_NO_THROW(qwen.validate());

  ModelConfig mistral = parse_hf_config(R"({"architectures":["MistralForCausalLM"],"hidden_size":64,
    "num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":128,"vocab_size":32,
    "rope_scaling":{"type":"linear","factor":2.0}})",
                                        "m.json");
  EXPECT_EQ(mistral.n_kv_heads, 4);
  EXPECT_EQ(mistral.rope_scaling, RopeScaling::Linear);
  EXPECT_EQ(mistral.rope_scaling_factor, 2.0f);
  EXPECT_FALSE(mistral.tied_output);
  EXPECT_EQ(mistral.sliding_window, 0);
  const ModelConfig qwen3 = parse_hf_config(R"({"architectures":["Qwen3ForCausalLM"],"hidden_size":64,
    "num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,
    "intermediate_size":128,"vocab_size":32})",
                                            "q3.json");
  EXPECT_EQ(qwen3.arch, "qwen3");
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_FALSE(qwen3.qkv_bias);
  EXPECT_EQ(qwen3.head_dim, 32);
  // Mistral's sliding window is honoured; Qwen2's, switched off by use_sliding_window, is not.
  EXPECT_EQ(parse_hf_config(R"({"architectures":["MistralForCausalLM"],"hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":128,"vocab_size":32,"sliding_window":4096})",
                            "m.json")
                .sliding_window,
            4096);
  EXPECT_EQ(parse_hf_config(R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":128,"vocab_size":32,"sliding_window":32768,
    "use_sliding_window":false})",
                            "q.json")
                .sliding_window,
            0);

  ModelConfig back = parse_hf_config(hf_config_json(llama3), "back.json");
  EXPECT_EQ(back.rope_scaling_factor, 32.0f);
  EXPECT_EQ(back.rope_high_freq_factor, 4.0f);
  EXPECT_EQ(back.norm_eps, 1e-5f);

  EXPECT_THROW(parse_hf_config(R"({"architectures":["BertModel"]})", "x"), Error);
  EXPECT_THROW(parse_hf_config(R"({"hidden_size":1})", "x"), Error);
  EXPECT_THROW(parse_hf_config("not json", "x"), Error);
  EXPECT_THROW(parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"hidden_size":-5})", "x"), Error);
  EXPECT_THROW(
      parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":128,"vocab_size":32,"rope_scaling":{"type":"yarn"}})",
                      "x"),
      Error);
}

// The config.json fields of the published Gemma-2B, Gemma-2-2B, Phi-2 and Phi-3-mini checkpoints, and the
// options each family implies; features the engine lacks are one-line errors naming them.
TEST(HfConfig, ParsesThePaperFamiliesAndRefusesWhatItCannotRun) {
  const ModelConfig gemma = parse_hf_config(R"({"architectures":["GemmaForCausalLM"],"hidden_size":2048,
    "num_hidden_layers":18,"num_attention_heads":8,"num_key_value_heads":1,"head_dim":256,
    "intermediate_size":16384,"vocab_size":256000,"max_position_embeddings":8192,"rms_norm_eps":1e-06,
    "rope_theta":10000.0,"hidden_act":"gelu","hidden_activation":null,"model_type":"gemma"})",
                                            "gemma.json");
  EXPECT_EQ(gemma.arch, "gemma");
  EXPECT_TRUE(gemma.tied_output);  // Gemma ties unless told otherwise
  EXPECT_EQ(gemma.ffn_activation, FfnActivation::GeluTanh);
  EXPECT_FLOAT_EQ(gemma.embedding_scale, std::sqrt(2048.0f));
  EXPECT_EQ(gemma.norm_weight_offset, 1.0f);
  EXPECT_EQ(gemma.head_dim, 256);
  EXPECT_EQ(gemma.n_kv_heads, 1);

  const ModelConfig gemma2 = parse_hf_config(R"({"architectures":["Gemma2ForCausalLM"],"hidden_size":2304,
    "num_hidden_layers":26,"num_attention_heads":8,"num_key_value_heads":4,"head_dim":256,
    "intermediate_size":9216,"vocab_size":256000,"attn_logit_softcapping":50.0,"final_logit_softcapping":30.0,
    "query_pre_attn_scalar":256,"sliding_window":4096,"hidden_activation":"gelu_pytorch_tanh"})",
                                             "gemma2.json");
  EXPECT_EQ(gemma2.arch, "gemma2");
  EXPECT_TRUE(gemma2.post_norms);
  EXPECT_EQ(gemma2.attn_logit_softcap, 50.0f);
  EXPECT_EQ(gemma2.final_logit_softcap, 30.0f);
  EXPECT_EQ(gemma2.attention_scale, 0.0f);  // query_pre_attn_scalar == head_dim: the default scale
  EXPECT_EQ(gemma2.window_of(0), 4096);
  EXPECT_EQ(gemma2.window_of(1), 0);
  const ModelConfig gemma2_27b = parse_hf_config(R"({"architectures":["Gemma2ForCausalLM"],"hidden_size":4608,
    "num_hidden_layers":46,"num_attention_heads":32,"num_key_value_heads":16,"head_dim":128,
    "intermediate_size":36864,"vocab_size":256000,"query_pre_attn_scalar":144,"final_logit_softcapping":null})",
                                                 "g27.json");
  EXPECT_FLOAT_EQ(gemma2_27b.attention_scale, 1.0f / 12.0f);
  EXPECT_EQ(gemma2_27b.final_logit_softcap, 0.0f);

  const ModelConfig phi2 = parse_hf_config(R"({"architectures":["PhiForCausalLM"],"hidden_size":2560,
    "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"intermediate_size":10240,
    "vocab_size":51200,"max_position_embeddings":2048,"layer_norm_eps":1e-05,"partial_rotary_factor":0.4,
    "hidden_act":"gelu_new","rope_theta":10000.0,"qk_layernorm":false,"tie_word_embeddings":false})",
                                           "phi2.json");
  EXPECT_EQ(phi2.arch, "phi2");
  EXPECT_EQ(phi2.head_dim, 80);
  EXPECT_EQ(phi2.rotary_dims, 32);
  EXPECT_EQ(phi2.norm_kind, NormKind::Layer);
  EXPECT_TRUE(phi2.parallel_block && phi2.linear_biases && phi2.qkv_bias && !phi2.ffn_gated);
  EXPECT_EQ(phi2.ffn_activation, FfnActivation::GeluTanh);
  EXPECT_EQ(phi2.norm_eps, 1e-5f);

  const ModelConfig phi3 = parse_hf_config(R"({"architectures":["Phi3ForCausalLM"],"hidden_size":3072,
    "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"intermediate_size":8192,
    "vocab_size":32064,"max_position_embeddings":4096,"rms_norm_eps":1e-05,"sliding_window":2047,
    "hidden_act":"silu","rope_scaling":null,"tie_word_embeddings":false})",
                                           "phi3.json");
  EXPECT_EQ(phi3.arch, "phi3");
  EXPECT_EQ(phi3.sliding_window, 2047);
  EXPECT_EQ(phi3.head_dim, 96);

  // Written back, each family reads to the same options.
  for (const ModelConfig* c : {&gemma, &gemma2, &gemma2_27b, &phi2, &phi3}) {
    const ModelConfig back = parse_hf_config(hf_config_json(*c), "back.json");
    EXPECT_EQ(back.arch, c->arch);
    EXPECT_EQ(back.rotary_dims, c->rotary_dims);
    EXPECT_EQ(back.attention_scale, c->attention_scale);
    EXPECT_EQ(back.sliding_window, c->sliding_window);
  }
  ModelConfig odd = phi3;
  odd.post_norms = true;  // no Phi-3 config says this
  EXPECT_THROW(hf_config_json(odd), Error);

  auto error_of = [](const std::string& text) {
    try {
      parse_hf_config(text, "c.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string base = R"("hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,
    "intermediate_size":128,"vocab_size":32)";
  EXPECT_NE(error_of(R"({"architectures":["Phi3ForCausalLM"],)" + base +
                     R"(,"rope_scaling":{"type":"longrope","long_factor":[1],"short_factor":[1]}})")
                .find("longrope"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"architectures":["LlamaForCausalLM"],)" + base + R"(,"hidden_act":"relu"})").find("relu"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["PhiForCausalLM"],)" + base + R"(,"qk_layernorm":true})")
                .find("qk_layernorm"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["PhiForCausalLM"],)" + base + R"(,"partial_rotary_factor":0.2})")
                .find("partial_rotary_factor"),
            std::string::npos);
}

TEST(Loader, DetectsFormatsAndRejectsUnknownFiles) {
  std::ofstream(tmp("notes.txt")) << "hello";
  EXPECT_THROW(detect_model_format(tmp("notes.txt")), Error);
  EXPECT_THROW(detect_model_format(tmp("missing.gguf")), Error);
  std::filesystem::create_directories(tmp("empty-dir"));
  EXPECT_THROW(load_model(tmp("empty-dir")), Error);
}

}  // namespace
}  // namespace llmnpu

namespace llmnpu {
namespace {

// llama.cpp's converter stores Llama 3 RoPE scaling as rope_freqs.weight (per-pair divisors of the
// frequencies) with no rope.scaling.type: such a file loads, and runs as the same scaling given as
// parameters does.
TEST(GgufLoader, RopeFreqsTensorActsAsLlama3Scaling) {
  SynthOptions o;
  o.shape = "tiny";
  o.seed = 4;
  auto model = synthesize_model(o, builtin_byte_vocab());
  const std::string plain = tmp("rope-plain.gguf");
  write_model_gguf(*model, plain, GgmlType::F32);

  kernels::RopeScalingParams llama3;
  llama3.kind = kernels::RopeScalingKind::Llama3;
  llama3.factor = 8;
  llama3.low_freq_factor = 1;
  llama3.high_freq_factor = 4;
  llama3.original_context = 16;
  const int hd = model->config.head_dim;
  const auto base = kernels::rope_inv_freq(hd, model->config.rope_base);
  const auto scaled = kernels::rope_inv_freq(hd, model->config.rope_base, llama3);
  std::vector<float> factors;
  for (size_t i = 0; i < base.size(); ++i) factors.push_back(float(base[i] / scaled[i]));

  GgufFile f(plain);
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.dims, t.data, t.nbytes);
  w.add_tensor("rope_freqs.weight", GgmlType::F32, {uint64_t(factors.size())}, factors.data(),
               factors.size() * sizeof(float));
  const std::string with_freqs = tmp("rope-freqs.gguf");
  w.write(with_freqs);

  auto loaded = load_model(with_freqs);
  ASSERT_EQ(loaded->config.rope_freq_factors, factors);
  EXPECT_GT(factors.back(), 1.0f);  // the low frequencies are scaled
  auto params = load_model(plain);
  params->config.rope_scaling = RopeScaling::Llama3;
  params->config.rope_scaling_factor = 8;
  params->config.rope_low_freq_factor = 1;
  params->config.rope_high_freq_factor = 4;
  params->config.rope_original_context = 16;
  ModelGraph a = build_float_graph(*loaded), b = build_float_graph(*params), none = build_float_graph(*model);
  std::vector<int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(int32_t((i * 29 + 3) % model->config.vocab_size));
  Engine ea(*loaded, a, {1, 64, nullptr}), eb(*params, b, {1, 64, nullptr}),
      en(*model, none, {1, 64, nullptr});
  const auto la = ea.prefill(ids, 16), lb = eb.prefill(ids, 16), ln = en.prefill(ids, 16);
  EXPECT_LT(test::max_abs_diff(la, lb), 1e-4f);
  EXPECT_GT(test::max_abs_diff(la, ln), 1e-3f);  // and it does change the logits

  // Written back (convert), the divisors stay in rope_freqs.weight.
  const std::string again = tmp("rope-again.gguf");
  write_model_gguf(*loaded, again, GgmlType::F16);
  EXPECT_EQ(load_model(again)->config.rope_freq_factors, factors);

  // A factor table of the wrong length, or a non-positive factor, is a clear error.
  GgufWriter bad;
  for (const auto& [k, v] : f.metadata()) bad.set(k, v);
  for (const auto& t : f.tensors()) bad.add_tensor(t.name, t.type, t.dims, t.data, t.nbytes);
  std::vector<float> zero(factors.size(), 0.0f);
  bad.add_tensor("rope_freqs.weight", GgmlType::F32, {uint64_t(zero.size())}, zero.data(), zero.size() * 4);
  const std::string bad_path = tmp("rope-bad.gguf");
  bad.write(bad_path);
  EXPECT_THROW(load_model(bad_path), Error);
}

}  // namespace
}  // namespace llmnpu
