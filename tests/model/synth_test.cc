// synth writes large shapes one matrix at a time: the file must be the one the whole in-memory model
// gives, in every family (fused Phi-3 tensors, ungated Phi-2, untied heads, Gemma's scaled embedding).
#include "model/synth.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "common/testdata.h"
#include "core/error.h"
#include "model/model_writer.h"
#include "model/tensor_names.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Synth, WrittenMatrixByMatrixIsTheInMemoryModel) {
  for (const std::string shape :
       {"tiny", "tiny-qwen2", "tiny-phi2", "tiny-phi3", "tiny-gemma2", "tiny-qwen3", "tiny-mistral"}) {
    for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
      SCOPED_TRACE(shape + " " + ggml_type_name(type));
      SynthOptions o;
      o.shape = shape;
      o.outliers = true;
      o.seed = 7;
      SynthInfo whole_info, lazy_info;
      auto whole = synthesize_model(o, builtin_byte_vocab(), &whole_info);
      SynthModel lazy = synthesize_lazily(o, builtin_byte_vocab(), &lazy_info);
      EXPECT_EQ(lazy.model->weights.token_embedding, nullptr);  // nothing large is held
      EXPECT_EQ(lazy.model->weights.layers[0].wq, nullptr);
      EXPECT_EQ(whole_info.ffn_outlier_channels, lazy_info.ffn_outlier_channels);
      const std::string a = test::temp_dir() + "/synth-whole.gguf", b = test::temp_dir() + "/synth-lazy.gguf";
      write_model_gguf(*whole, a, type);
      write_model_gguf(*lazy.model, b, type, lazy.matrices);
      const std::string bytes = read_bytes(a);
      EXPECT_GT(bytes.size(), 100000u);
      EXPECT_TRUE(bytes == read_bytes(b));
      // Without a source, the missing matrices are an error naming the tensor.
      try {
        write_model_gguf(*lazy.model, b, type);
        ADD_FAILURE() << "wrote a model without its matrices";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("token_embd.weight"), std::string::npos) << e.what();
      }
    }
  }
}

// The seed picks the weights; the planted channels are the same whichever way the model is made.
TEST(Synth, SeedsGiveDifferentMatricesAndFloatBytesCountEveryWeight) {
  SynthOptions o;
  o.shape = "tiny-mistral";
  SynthModel one = synthesize_lazily(o, builtin_byte_vocab());
  o.seed = 2;
  SynthModel two = synthesize_lazily(o, builtin_byte_vocab());
  EXPECT_NE(one.matrices(TensorRole::Down, 1), two.matrices(TensorRole::Down, 1));
  EXPECT_EQ(one.matrices(TensorRole::Down, 1), one.matrices(TensorRole::Down, 1));
  EXPECT_THROW(one.matrices(TensorRole::AttnNorm, 0), Error);

  const ModelConfig& c = one.model->config;
  uint64_t expected =
      uint64_t(c.vocab_size) * uint64_t(c.dim) * 2 + uint64_t(c.dim);  // embedding, head, norm
  const uint64_t attention =
      uint64_t(c.dim) * uint64_t(c.q_dim() + 2 * c.kv_dim()) + uint64_t(c.q_dim() * c.dim);
  const uint64_t ffn = 3 * uint64_t(c.dim) * uint64_t(c.ffn_dim);
  expected += uint64_t(c.n_layers) * (attention + ffn + 2 * uint64_t(c.dim));
  EXPECT_EQ(synth_float_bytes(o), expected * 4);
}

}  // namespace
}  // namespace llmnpu
