// The reference interpreter is the float oracle: the CPU backend's compiled programs must agree with it
// on every synthetic shape and on every program option the CPU backend compiles (parallel block, GELU,
// embedding scale, norm weight offset, partial rotary, sliding window, softcaps). What the CPU backend
// cannot compile, or a weight of the wrong shape, is a one-line error at load naming the op and the weight.
#include "backend/reference_interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "backend/float_graph.h"
#include "common/compare.h"
#include "core/error.h"
#include "graph/model_program.h"
#include "model/synth.h"
#include "runtime/engine.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

using test::max_abs_diff;

float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float v : a) m = std::max(m, std::fabs(v));
  return m;
}

// Chunked prefill of `n` tokens (the last position's logits, and every position's) and two decode steps on
// the CPU backend against the reference token by token; returns the largest logit difference relative to
// the largest logit.
float compare_with_reference(const Model& model, int n, int chunk) {
  ModelGraph graph = build_float_graph(model);
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(int32_t((i * 131 + 7) % model.config.vocab_size));
  Engine engine(model, graph, {2, n + 4, nullptr});
  ReferenceInterpreter reference(model, n + 4);
  std::vector<std::vector<float>> every;  // the reference's logits at every prompt position
  for (int32_t id : ids) every.push_back(reference.forward(id));
  std::vector<float> want = every.back();
  float worst = max_abs_diff(engine.prefill(ids, chunk), want) / max_abs(want);
  // Every position's logits too (perplexity's path: the head on all rows of every chunk).
  Engine all_rows(model, graph, {2, n + 4, nullptr});
  all_rows.prefill(ids, chunk, [&](int pos, const float* logits) {
    const std::vector<float> got(logits, logits + model.config.vocab_size);
    worst = std::max(worst, max_abs_diff(got, every[size_t(pos)]) / max_abs(every[size_t(pos)]));
  });
  for (int32_t next : {3, 11}) {
    want = reference.forward(next);
    worst = std::max(worst, max_abs_diff(engine.decode(next), want) / max_abs(want));
  }
  return worst;
}

// vocab_size: 0 keeps the shape's.
std::unique_ptr<Model> synth(const std::string& shape, int layers, bool outliers = true, int vocab_size = 0) {
  SynthOptions o;
  o.shape = shape;
  o.outliers = outliers;
  o.seed = 3;
  o.layers = layers;
  ModelConfig config = find_synth_shape(shape).config;
  if (vocab_size > 0) {
    config.vocab_size = vocab_size;
    o.config = &config;
  }
  return synthesize_model(o, builtin_byte_vocab());
}

TEST(ReferenceInterpreter, AgreesWithTheCpuBackendOnEverySynthShape) {
  for (const SynthShape& shape : synth_shapes()) {
    // Real widths; the large shapes with one layer and 4096 vocabulary rows (the plain-loop reference is
    // slow by design, and a 150k-row head would be most of its work without changing the program; the
    // tiny shapes chain all their layers), and of those only a few: every family has a tiny variant with
    // the same program options.
    const bool large = shape.config.dim >= 512;
    if (large && shape.name != "qwen2.5-0.5b" && shape.name != "llama-3.2-1b" && shape.name != "phi-2")
      continue;
    auto model = synth(shape.name, large ? 1 : 0, true, large ? 4096 : 0);
    const float diff = compare_with_reference(*model, large ? 12 : 40, large ? 8 : 16);
    std::printf("%-14s reference vs CPU backend: max |logit diff| / max |logit| = %.3g\n", shape.name.c_str(),
                diff);
    EXPECT_LT(diff, 2e-4f) << shape.name;
  }
}

TEST(ReferenceInterpreter, AgreesOnProgramOptionsTheLoadersWillUse) {
  struct Variant {
    const char* name;
    void (*apply)(ModelConfig&);
  };
  const Variant variants[] = {
      {"parallel block + gelu_tanh",
       [](ModelConfig& c) {
         c.parallel_block = true;
         c.ffn_activation = FfnActivation::GeluTanh;
       }},
      {"gelu (erf)", [](ModelConfig& c) { c.ffn_activation = FfnActivation::Gelu; }},
      {"embedding scale + norm offset",
       [](ModelConfig& c) {
         c.embedding_scale = std::sqrt(float(c.dim));
         c.norm_weight_offset = 1.0f;
       }},
      {"partial rotary, half-split",
       [](ModelConfig& c) {
         c.rotary_dims = c.head_dim / 2;
         c.rope_layout = RopeLayout::HalfSplit;
       }},
      {"final softcap + attention scale",
       [](ModelConfig& c) {
         c.final_logit_softcap = 3.0f;
         c.attention_scale = 0.1f;
       }},
      {"sliding window 5 + attention softcap",
       [](ModelConfig& c) {
         c.sliding_window = 5;
         c.attn_logit_softcap = 2.0f;
       }},
      {"llama3 rope scaling",
       [](ModelConfig& c) {
         c.rope_scaling = RopeScaling::Llama3;
         c.rope_scaling_factor = 8;
         c.rope_original_context = 16;
       }},
  };
  for (const Variant& v : variants) {
    auto model = synth("tiny", 0);
    v.apply(model->config);
    const float diff = compare_with_reference(*model, 30, 8);
    std::printf("tiny, %-30s max |logit diff| / max |logit| = %.3g\n", v.name, diff);
    EXPECT_LT(diff, 2e-4f) << v.name;
  }
}

TEST(ReferenceInterpreter, AgreesOnQwen3sPerHeadQkNorm) {
  auto model = synth("tiny", 0);
  model->config.qk_norm = true;
  const int hd = model->config.head_dim;
  for (LayerWeights& L : model->weights.layers) {
    std::vector<float> q(static_cast<size_t>(hd)), k(static_cast<size_t>(hd));
    for (int i = 0; i < hd; ++i)
      q[size_t(i)] = 1.0f + 0.3f * std::sin(float(i)), k[size_t(i)] = 0.8f + 0.2f * std::cos(float(i));
    L.q_norm = model->own(q);
    L.k_norm = model->own(k);
  }
  const float diff = compare_with_reference(*model, 30, 8);
  std::printf("tiny, per-head q/k RMSNorm (Qwen3)   max |logit diff| / max |logit| = %.3g\n", diff);
  EXPECT_LT(diff, 2e-4f);
  // The norms run before RoPE, in the static subgraph with the Q/K/V projection.
  const auto subs = build_chunk_subgraphs(model->config, false);
  int norms = 0;
  for (const Op& op : subs[0].ops) norms += op.kind == OpKind::RmsNorm;
  EXPECT_EQ(norms, 1 + model->config.n_heads + model->config.n_kv_heads);
}

TEST(ReferenceInterpreter, SlidingWindowChangesLogitsExactlyPastTheWindow) {
  auto model = synth("tiny", 0);
  auto windowed = synth("tiny", 0);
  windowed->config.sliding_window = 6;
  ReferenceInterpreter full(*model, 32), window(*windowed, 32);
  for (int t = 0; t < 12; ++t) {
    const int32_t id = int32_t((t * 17 + 2) % model->config.vocab_size);
    const float diff = max_abs_diff(full.forward(id), window.forward(id));
    if (t < 6)
      EXPECT_EQ(diff, 0.0f) << "position " << t << " sees no more keys than the window";
    else
      EXPECT_GT(diff, 0.0f) << "position " << t << " must not see keys outside the window";
  }
  // The engine likewise, prefill in chunks of 4 then decode: logits of a prompt no longer than the window
  // are bit-identical to the unwindowed model's, one token more and they differ.
  ModelGraph full_graph = build_float_graph(*model), window_graph = build_float_graph(*windowed);
  for (int n : {6, 7}) {
    std::vector<int32_t> ids;
    for (int t = 0; t < n; ++t) ids.push_back(int32_t((t * 17 + 2) % model->config.vocab_size));
    Engine a(*model, full_graph, {1, 32, nullptr}), b(*windowed, window_graph, {1, 32, nullptr});
    const std::vector<float> la = a.prefill(ids, 4), lb = b.prefill(ids, 4);
    if (n == 6)
      EXPECT_EQ(max_abs_diff(la, lb), 0.0f);
    else
      EXPECT_GT(max_abs_diff(la, lb), 0.0f);
    EXPECT_GT(max_abs_diff(a.decode(3), b.decode(3)), 0.0f);  // position n >= 6 lost key 0
  }
}

TEST(ReferenceInterpreter, WhatTheCpuBackendCannotCompileIsAnErrorAtLoad) {
  auto model = synth("tiny", 0);
  ModelGraph graph = build_float_graph(*model);
  // An op the CPU backend runs only outside subgraphs, planted in the first one.
  graph.chunk_subgraphs[0].ops.insert(graph.chunk_subgraphs[0].ops.begin(), graph.program.embed);
  try {
    Engine engine(*model, graph, {1, 16, nullptr});
    ADD_FAILURE() << "an embedding inside a subgraph was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("L0.qkv"), std::string::npos) << what;
    EXPECT_NE(what.find("x = embed(token_embd"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(ReferenceInterpreter, AWeightOfTheWrongShapeIsAnErrorNamingOpAndWeight) {
  auto model = synth("tiny", 0);
  ModelGraph graph = build_float_graph(*model);
  graph.vectors["blk.1.ffn_norm"].size = 3;
  try {
    check_program_weights(graph);
    ADD_FAILURE() << "a 3-value norm weight was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("rms_norm(x, blk.1.ffn_norm"), std::string::npos) << what;
    EXPECT_NE(what.find("has 3 values"), std::string::npos) << what;
  }
  graph.vectors.erase("output_norm");
  EXPECT_THROW(check_program_weights(graph), Error);
}

TEST(LayerProgram, SubgraphsAreDerivedFromTheProgram) {
  ModelConfig c = find_synth_shape("tiny").config;
  auto subs = build_chunk_subgraphs(c, true);
  ASSERT_EQ(int(subs.size()), 3 * c.n_layers + 1);
  EXPECT_EQ(subs[0].name(), "L0.qkv");
  EXPECT_EQ(subs[1].name(), "L0.attn");
  EXPECT_FALSE(subs[1].is_static);
  EXPECT_TRUE(subs[1].chains_chunks);
  EXPECT_EQ(subs[2].name(), "L0.omlp");
  EXPECT_EQ(subs[2].role, Role::Accelerator);
  EXPECT_TRUE(subs.back().head);
  EXPECT_EQ(subs.back().role, Role::Host);
  // A parallel block computes the MLP before attention: the first static subgraph holds both linears'
  // inputs' consumers (qkv, gate_up, down) and the second only the output projection and the adds.
  c.parallel_block = true;
  auto parallel = build_chunk_subgraphs(c, true);
  int linears_before = 0, linears_after = 0;
  for (const Op& op : parallel[0].ops) linears_before += op.kind == OpKind::Linear;
  for (const Op& op : parallel[2].ops) linears_after += op.kind == OpKind::Linear;
  EXPECT_EQ(linears_before, 3);
  EXPECT_EQ(linears_after, 1);
  const ModelProgram p = build_model_program(c);
  EXPECT_NE(format_program(p).find("gate_up = linear(xb, blk.0.gate_up)"), std::string::npos)
      << format_program(p);
}

}  // namespace
}  // namespace llmnpu
