// Memory estimates from a model file's header, and the available memory they are checked against.
#include "runtime/memory_estimate.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/testdata.h"
#include "core/error.h"
#include "format/gguf.h"
#include "model/model_writer.h"
#include "model/synth.h"
#include "runtime/loaded_model.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

const std::string& tiny_file() {
  static const std::string path = [] {
    SynthOptions o;
    o.shape = "tiny";
    const auto model = synthesize_model(o, builtin_byte_vocab());
    const std::string p = test::temp_dir() + "/memory-tiny.gguf";
    write_model_gguf(*model, p, GgmlType::F32);
    return p;
  }();
  return path;
}

// Restores the variable when the test ends.
struct ScopedEnv {
  explicit ScopedEnv(const char* value) { setenv("LLMNPU_MEMORY_AVAILABLE", value, 1); }
  ~ScopedEnv() { unsetenv("LLMNPU_MEMORY_AVAILABLE"); }
};

TEST(MemoryEstimate, FloatRunIsFp32WeightsPlusTheKvCacheOfTheContext) {
  const GgufFile f(tiny_file());
  uint64_t elements = 0;
  for (const auto& t : f.tensors()) elements += t.elements();
  const std::string p = f.get_string("general.architecture", "") + ".";
  const uint64_t per_token =
      2 * uint64_t(f.get_int(p + "block_count", 0)) * uint64_t(f.get_int(p + "attention.head_count_kv", 0)) *
      uint64_t(f.get_int(p + "embedding_length", 0) / f.get_int(p + "attention.head_count", 1)) *
      sizeof(float);
  ASSERT_GT(per_token, 0u);
  const MemoryEstimate at_100 = estimate_run_memory(tiny_file(), 100);
  const MemoryEstimate at_300 = estimate_run_memory(tiny_file(), 300);
  const uint64_t weights = uint64_t(1.1 * double(elements * sizeof(float)));  // fp32 and 10% more
  EXPECT_EQ(at_100.bytes, weights + 100 * per_token);
  EXPECT_EQ(at_300.bytes - at_100.bytes, 200 * per_token);
  EXPECT_NE(at_100.what.find("KV cache of 100 tokens"), std::string::npos) << at_100.what;
  // Context 0: the model's own context length.
  EXPECT_EQ(estimate_run_memory(tiny_file(), 0).bytes,
            weights + uint64_t(f.get_int(p + "context_length", 0)) * per_token);
  // prepare: the prepared weights, the held-out head and logits, the three held-out engines' KV caches
  // of a window, buffers (the float model is streamed).
  const GgufTensor* embd = f.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  const uint64_t vocab = embd->dims[1];
  EXPECT_EQ(estimate_prepare_memory(tiny_file(), 64).bytes,
            uint64_t(1.1 * double(elements)) + uint64_t(3.0 * double(embd->elements())) +
                uint64_t(1.25 * 64 * double(vocab) * 4) + 3 * 64 * per_token + (uint64_t(400) << 20));
  EXPECT_GT(estimate_prepare_memory(tiny_file(), 512).bytes, estimate_prepare_memory(tiny_file(), 64).bytes);
}

TEST(MemoryEstimate, WhatTheHeaderReaderCannotReadGetsNoEstimate) {
  const std::string junk = test::temp_dir() + "/memory-junk.gguf";
  std::ofstream(junk) << "GGUF but not really";
  EXPECT_EQ(estimate_run_memory(junk, 0).bytes, 0u);  // the loader reports the broken file
  EXPECT_EQ(estimate_run_memory(test::temp_dir() + "/missing.gguf", 0).bytes, 0u);
  EXPECT_EQ(estimate_prepare_memory(test::temp_dir()).bytes, 0u);  // a folder (Hugging Face)
}

TEST(MemoryEstimate, AvailableMemoryComesFromTheMachineOrTheOverride) {
  EXPECT_GT(available_memory_bytes(), uint64_t(64) << 20);  // this machine has more than 64 MiB free
  {
    ScopedEnv env("3G");
    EXPECT_EQ(available_memory_bytes(), uint64_t(3) << 30);
  }
  {
    ScopedEnv env("1536K");
    EXPECT_EQ(available_memory_bytes(), uint64_t(1536) << 10);
  }
  ScopedEnv env("lots");
  EXPECT_THROW(available_memory_bytes(), Error);
}

TEST(MemoryEstimate, TooLargeIsRefusedBeforeLoadingUnlessTheCheckIsOff) {
  ScopedEnv env("1M");
  ModelLoadOptions o;
  o.model_path = tiny_file();
  o.context = 64;
  try {
    load_for_inference(o);
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("needs about"), std::string::npos) << message;
    EXPECT_NE(message.find("1.0 MiB is available"), std::string::npos) << message;
    EXPECT_NE(message.find("--no-memory-check"), std::string::npos) << message;
  }
  o.check_memory = false;
  EXPECT_NO_THROW(load_for_inference(o));
}

}  // namespace
}  // namespace llmnpu
