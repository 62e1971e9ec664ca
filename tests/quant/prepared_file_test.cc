// The prepared GGUF: write -> load gives the same outputs as the in-memory graph; hostile files
// (a missing tensor, a wrong shape, a bad shadow list) give Error.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "backend/prepared_graph.h"
#include "backend/prepared_writer.h"
#include "common/testdata.h"
#include "core/error.h"
#include "format/gguf_writer.h"
#include "model/loader.h"
#include "model/model_writer.h"
#include "model/synth.h"
#include "runtime/engine.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

using namespace quant;

std::unique_ptr<Model> tiny_model() {
  SynthOptions o;
  o.shape = "tiny";
  o.outliers = true;
  o.layers = 2;
  return synthesize_model(o, builtin_byte_vocab());
}

// Prepared linears from stand-in statistics: random activations with one loud channel.
std::vector<PreparedLinear> fake_prepare(const Model& m) {
  std::vector<PreparedLinear> out;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 1);
  for (int l = 0; l < m.config.n_layers; ++l)
    for (int s = 0; s < kSlotsPerLayer; ++s) {
      std::vector<float> bias;
      std::vector<float> w;
      fused_weights(m, l, LinearSlot(s), w, &bias);
      const int in = s == 1 ? m.config.q_dim() : s == 3 ? m.config.ffn_dim : m.config.dim;
      const int outf = int(w.size() / size_t(in));
      std::vector<float> x(size_t(in) * 16);
      for (auto& v : x) v = nd(rng);
      for (int t = 0; t < 16; ++t) x[size_t(t) * size_t(in) + 3] = 40.0f;
      ActivationStats st(in);
      st.record(x.data(), 16, size_t(in));
      ScaleChoice c = choose_scale(st, ScalePolicy{});
      st.set_outlier_clip(c.clip);
      st.record_outliers(x.data(), 16, size_t(in));
      LinearPrepareOptions o;
      out.push_back(prepare_linear(l, LinearSlot(s), w.data(), outf, in, bias, st, c, o,
                                   hot_channel_request(st, outf, o).channels));
      // Only the packed int8 copy stays: a second one would double a 7B model's prepare memory.
      EXPECT_EQ(out.back().weights.q.capacity(), 0u);
      EXPECT_GE(out.back().packed.data.size(), size_t(outf) * size_t(in));
    }
  apply_pruning(out, 0.5);
  return out;
}

std::vector<float> run_logits(const Model& m, const ModelGraph& g) {
  EngineOptions eo;
  eo.threads = 1;
  eo.context = 64;
  Engine e(m, g, eo);
  std::vector<int32_t> tokens{1, 5, 9, 33, 2, 100, 7, 12};
  std::vector<float> all;
  e.prefill(tokens, 0, [&](int, const float* l) { all.insert(all.end(), l, l + m.config.vocab_size); });
  return all;
}

// Copies a GGUF file, letting `edit` drop or replace tensors and metadata.
void rewrite(const std::string& from, const std::string& to, const std::string& drop_tensor,
             const std::string& reshape_tensor, const std::string& drop_key) {
  GgufFile f(from);
  GgufWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != drop_key) w.set(k, v);
  for (const auto& t : f.tensors()) {
    if (t.name == drop_tensor) continue;
    std::vector<uint64_t> dims = t.dims;
    if (t.name == reshape_tensor) {
      if (dims.size() == 1)
        dims = {dims[0] / 2, 2};
      else
        std::swap(dims[0], dims[1]);
    }
    w.add_tensor(t.name, t.type, dims, t.data, t.nbytes);
  }
  w.write(to);
}

TEST(PreparedFile, RoundTripGivesIdenticalLogits) {
  auto model = tiny_model();
  auto linears = fake_prepare(*model);
  const std::string path = test::temp_dir() + "/tiny.prepared.gguf";
  PreparedSettings s;
  write_prepared_gguf(*model, linears, s, path);
  ASSERT_TRUE(is_prepared_model(path));

  std::vector<Int8Linear*> mem_ops;
  ModelGraph mem = build_prepared_graph(*model, linears, &mem_ops);
  PreparedGraph loaded = load_prepared_model(path);
  ASSERT_EQ(loaded.linears.size(), mem_ops.size());
  for (size_t i = 0; i < mem_ops.size(); ++i) {
    EXPECT_EQ(loaded.linears[i]->shadow(), linears[i].shadow);
    EXPECT_EQ(loaded.linears[i]->resident_shadow_bytes(), linears[i].hot_bytes());
    EXPECT_EQ(loaded.linears[i]->weight_outlier_count(), linears[i].weights.outlier_index.size());
    EXPECT_GT(loaded.linears[i]->weight_outlier_count(), 0u);  // default share 0.01
  }
  EXPECT_EQ(loaded.model->config.dim, model->config.dim);
  ASSERT_NE(loaded.model->tokenizer, nullptr);
  EXPECT_EQ(run_logits(*loaded.model, *loaded.graph), run_logits(*model, mem));
  EXPECT_TRUE(loaded.graph->quantized);
}

// prepare's held-out graph reads the head and embedding of an F16 source from the map, a block of rows at
// a time, and computes every position's logits exactly as the held F16 table does.
TEST(PreparedFile, StreamedHeadGivesTheHeldHeadsLogits) {
  auto model = tiny_model();
  const std::string source = test::temp_dir() + "/tiny-f16-source.gguf";
  write_model_gguf(*model, source, GgmlType::F16);
  LoadOptions lo;
  lo.stream_matrices = true;
  auto streamed = load_model(source, lo);
  ASSERT_EQ(streamed->weights.token_embedding, nullptr);  // nothing converted at load
  auto linears = fake_prepare(*streamed);
  std::vector<Int8Linear*> held_ops, streamed_ops;
  ModelGraph held = build_prepared_graph(*streamed, linears, &held_ops);
  ModelGraph from_map = build_prepared_graph(*streamed, linears, &streamed_ops, /*stream_head=*/true);
  EXPECT_NE(from_map.head->describe().find("streamed"), std::string::npos) << from_map.head->describe();
  EXPECT_EQ(held.head->describe().find("streamed"), std::string::npos);
  const auto a = run_logits(*streamed, held), b = run_logits(*streamed, from_map);
  ASSERT_EQ(a.size(), size_t(8 * model->config.vocab_size));
  EXPECT_EQ(a, b);
  // An fp32 model has no F16 rows to stream: the held head is built as before.
  std::vector<Int8Linear*> f32_ops;
  auto f32_linears = fake_prepare(*model);
  ModelGraph f32 = build_prepared_graph(*model, f32_linears, &f32_ops, true);
  EXPECT_EQ(f32.head->describe().find("streamed"), std::string::npos);
}

// Copies a prepared file with `edit` applied after its metadata (before its tensors) and expects loading
// the copy to fail with a message containing `fragment`.
void expect_refused_copy(const std::string& from, const std::string& to, const std::string& fragment,
                         const std::function<void(GgufWriter&)>& edit) {
  {
    GgufFile f(from);
    GgufWriter w;
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    edit(w);
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.dims, t.data, t.nbytes);
    w.write(to);
  }
  try {
    load_prepared_model(to);
    ADD_FAILURE() << "loaded a file that should be refused with '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(PreparedFile, HostileFilesGiveErrors) {
  auto model = tiny_model();
  auto linears = fake_prepare(*model);
  const std::string dir = test::temp_dir();
  const std::string good = dir + "/good.gguf";
  write_prepared_gguf(*model, linears, PreparedSettings{}, good);
  const std::string bad = dir + "/bad.gguf";
  rewrite(good, bad, "blk.1.o.act_scale", "", "");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "", "blk.0.qkv.hot_rows", "");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "token_embd.weight", "", "");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "", "blk.0.qkv.weight", "");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "blk.1.gate_up.weight_outlier_value", "", "");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "", "", "llmnpu.prepared.shadow");
  EXPECT_THROW(load_prepared_model(bad), Error);
  rewrite(good, bad, "", "", "llmnpu.prepared.rope_layout");
  EXPECT_THROW(load_prepared_model(bad), Error);
  // A file of the previous format (row-major int8, F16 W^T per linear) asks to be prepared again.
  expect_refused_copy(good, bad, "run llmnpu prepare",
                      [](GgufWriter& w) { w.set("llmnpu.prepared.version", GgufValue::of_u32(1)); });
  // general.alignment 1 may put floats at odd addresses: refused by name, not loaded misaligned.
  expect_refused_copy(good, bad, "not aligned", [](GgufWriter& w) {
    w.set("general.alignment", GgufValue::of_u32(1));
    std::vector<uint8_t> odd = {1, 2, 3};  // an I8 tensor of 3 bytes shifts every later offset
    w.add_tensor_owned("aaa.pad", GgmlType::I8, {3}, odd);
  });
  // A float model is not a prepared one.
  const std::string plain = dir + "/plain.gguf";
  rewrite(good, plain, "", "", "llmnpu.prepared.version");
  EXPECT_FALSE(is_prepared_model(plain));
  EXPECT_THROW(load_prepared_model(plain), Error);
}

}  // namespace
}  // namespace llmnpu
