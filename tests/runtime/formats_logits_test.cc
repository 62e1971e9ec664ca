// One model, three files: the float path must compute the same function from GGUF (F32, and close to it
// from F16/BF16/Q8_0 storage) and from a Hugging Face safetensors folder (whose Q/K rows use the other
// RoPE layout).
#include <gtest/gtest.h>

#include <cmath>

#include "backend/float_graph.h"
#include "common/testdata.h"
#include "model/loader.h"
#include "model/model_writer.h"
#include "model/synth.h"
#include "runtime/engine.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

std::vector<float> logits_of(const Model& m, const std::vector<int32_t>& ids) {
  ModelGraph g = build_float_graph(m);
  Engine e(m, g, {1, 64, nullptr});
  return e.prefill(ids);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

TEST(FormatsLogits, GgufAndHfFolderGiveTheSameLogits) {
  for (const SynthShape& synth_shape : synth_shapes()) {
    if (!synth_shape.name.starts_with("tiny")) continue;  // every family has a tiny variant
    const char* shape = synth_shape.name.c_str();
    SynthOptions o;
    o.shape = shape;
    o.outliers = true;
    o.seed = 11;
    auto model = synthesize_model(o, builtin_byte_vocab());
    std::vector<int32_t> ids{1, 50, 300, 7, 99, 250, 13, 13, 400, 2, 77, 123};
    std::vector<float> ref = logits_of(*model, ids);

    std::string gguf = test::temp_dir() + "/" + shape + ".gguf";
    std::string hf = test::temp_dir() + "/" + shape + "-hf";
    write_model_gguf(*model, gguf, GgmlType::F32);
    write_model_hf(*model, hf);
    auto from_gguf = load_model(gguf);
    auto from_hf = load_model(hf);  // with the tokenizer.json the HF writer wrote
    ASSERT_NE(from_hf->tokenizer, nullptr);
    const std::string text = "Hello, world! 123 caf\xC3\xA9";
    EXPECT_EQ(from_hf->tokenizer->encode(text, true), model->tokenizer->encode(text, true)) << shape;
    EXPECT_EQ(from_gguf->config.rope_layout == RopeLayout::Interleaved, model->config.arch == "llama");
    EXPECT_EQ(from_hf->config.rope_layout, RopeLayout::HalfSplit);
    EXPECT_EQ(from_gguf->config.arch, model->config.arch);
    EXPECT_EQ(from_hf->config.arch, model->config.arch);
    float d_gguf = max_abs_diff(ref, logits_of(*from_gguf, ids));
    float d_hf = max_abs_diff(ref, logits_of(*from_hf, ids));
    EXPECT_EQ(d_gguf, 0.0f) << shape;  // same weights, same layout: bit for bit
    // Permuted Q/K rows or norms stored without Gemma's +1: same function, other rounding.
    EXPECT_LT(d_hf, 1e-4f) << shape;
    std::printf("%s: max |logit diff| GGUF vs in-memory %.3g, HF folder vs in-memory %.3g\n", shape, d_gguf,
                d_hf);

    for (GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0}) {
      std::string path = test::temp_dir() + "/" + shape + "-" + ggml_type_name(t) + ".gguf";
      write_model_gguf(*model, path, t);
      float d = max_abs_diff(ref, logits_of(*load_model(path), ids));
      std::printf("  %s: max |logit diff| %.3g\n", ggml_type_name(t), d);
      // Q8_0 blocks holding a planted outlier channel keep ~2 bits for their other weights: errors of
      // order one logit (Gemma 2's post-norms and softcaps make it the most sensitive family).
      EXPECT_LT(d, t == GgmlType::F16    ? 0.05f
                   : t == GgmlType::BF16 ? 0.1f
                                         : 2.0f)
          << shape << " " << ggml_type_name(t);
    }
  }
}

}  // namespace
}  // namespace llmnpu
