// The C API: statuses and messages instead of exceptions, buffer-size negotiation, tokenize/detokenize,
// chat rendering, generation with callbacks, cancellation from another thread, KV reuse in the stats.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "common/testdata.h"
#include "llmnpu/llmnpu.h"

namespace {

const std::string& tiny_path() {
  static const std::string path = [] {
    const std::string p = llmnpu::test::temp_dir() + "/capi-tiny.gguf";
    std::string out;
    EXPECT_EQ(llmnpu::test::run_command(
                  llmnpu::test::llmnpu_binary() + " synth --shape tiny --layers 2 -o " + p, &out),
              0)
        << out;
    return p;
  }();
  return path;
}

struct Model {
  llmnpu_model* m = nullptr;
  Model() {
    EXPECT_EQ(llmnpu_model_load(tiny_path().c_str(), nullptr, &m), LLMNPU_OK) << llmnpu_last_error();
  }
  ~Model() { llmnpu_model_free(m); }
};

TEST(CApi, ErrorsAreStatusesWithMessages) {
  EXPECT_STRNE(llmnpu_version(), "");
  llmnpu_model* m = reinterpret_cast<llmnpu_model*>(0x1);
  EXPECT_EQ(llmnpu_model_load("/nonexistent.gguf", nullptr, &m), LLMNPU_ERROR_REFUSED);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(llmnpu_last_error()).find("/nonexistent.gguf"), std::string::npos)
      << llmnpu_last_error();
  const std::string corrupt = llmnpu::test::temp_dir() + "/corrupt.gguf";
  std::ofstream(corrupt) << "GGUF\x03\x00\x00\x00 truncated";
  EXPECT_EQ(llmnpu_model_load(corrupt.c_str(), nullptr, &m), LLMNPU_ERROR_REFUSED);
  EXPECT_STRNE(llmnpu_last_error(), "");
  EXPECT_EQ(llmnpu_model_load(nullptr, nullptr, &m), LLMNPU_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(llmnpu_session_create(nullptr, nullptr, nullptr), LLMNPU_ERROR_INVALID_ARGUMENT);
  llmnpu_prepare_params pp;
  llmnpu_prepare_params_init(&pp);
  EXPECT_EQ(llmnpu_prepare(tiny_path().c_str(), "/tmp/x.gguf", &pp),
            LLMNPU_ERROR_INVALID_ARGUMENT);  // no text
  // Null handles are harmless where nothing can be reported.
  llmnpu_model_free(nullptr);
  llmnpu_session_free(nullptr);
  llmnpu_session_cancel(nullptr);
  EXPECT_EQ(llmnpu_model_vocab_size(nullptr), 0);
}

TEST(CApi, TokenizeDetokenizeWithBufferNegotiation) {
  Model model;
  const char* text = "Hello world, héllo";
  size_t n = 0;
  EXPECT_EQ(llmnpu_tokenize(model.m, text, std::strlen(text), 0, nullptr, 0, &n),
            LLMNPU_ERROR_BUFFER_TOO_SMALL);
  ASSERT_GT(n, 0u);
  std::vector<int32_t> ids(n);
  size_t got = 0;
  ASSERT_EQ(llmnpu_tokenize(model.m, text, std::strlen(text), 0, ids.data(), ids.size(), &got), LLMNPU_OK);
  EXPECT_EQ(got, n);
  size_t len = 0;
  char small[4];
  EXPECT_EQ(llmnpu_detokenize(model.m, ids.data(), ids.size(), small, sizeof small, &len),
            LLMNPU_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, std::strlen(text));
  std::string back(len + 1, '\0');
  ASSERT_EQ(llmnpu_detokenize(model.m, ids.data(), ids.size(), back.data(), back.size(), &len), LLMNPU_OK);
  EXPECT_STREQ(back.c_str(), text);
  const int32_t bad = 1 << 30;
  EXPECT_EQ(llmnpu_detokenize(model.m, &bad, 1, back.data(), back.size(), &len), LLMNPU_ERROR_REFUSED);
  EXPECT_EQ(llmnpu_tokenize(model.m, "\xff\xfe", 2, 0, ids.data(), ids.size(), &got), LLMNPU_ERROR_REFUSED);
  EXPECT_NE(std::string(llmnpu_last_error()).find("UTF-8"), std::string::npos);
}

TEST(CApi, ChatRendering) {
  Model model;
  llmnpu_chat_message chat[] = {{"user", "Hi"}};
  char out[256];
  size_t len = 0;
  ASSERT_EQ(llmnpu_chat_render(model.m, chat, 1, 1, nullptr, out, sizeof out, &len), LLMNPU_OK);
  EXPECT_STREQ(out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  const char* strict =
      "{% if messages[0].role != 'system' %}{{ raise_exception('needs a system turn') }}{% endif %}";
  EXPECT_EQ(llmnpu_chat_render(model.m, chat, 1, 1, strict, out, sizeof out, &len), LLMNPU_ERROR_REFUSED);
  EXPECT_NE(std::string(llmnpu_last_error()).find("needs a system turn"), std::string::npos);
}

int count_pieces(const char*, size_t, void* user) {
  ++*static_cast<int*>(user);
  return 1;
}

TEST(CApi, GenerateStatsReuseAndCancel) {
  Model model;
  llmnpu_session_params sp;
  llmnpu_session_params_init(&sp);
  sp.context = 512;
  llmnpu_session* s = nullptr;
  ASSERT_EQ(llmnpu_session_create(model.m, &sp, &s), LLMNPU_OK) << llmnpu_last_error();
  llmnpu_generate_params gp;
  llmnpu_generate_params_init(&gp);
  gp.max_tokens = 6;
  gp.temperature = 0;
  llmnpu_stats st;
  int pieces = 0;
  const std::string prompt = "A prompt shared by two requests";
  ASSERT_EQ(llmnpu_generate(s, prompt.data(), prompt.size(), &gp, count_pieces, &pieces, &st), LLMNPU_OK);
  EXPECT_LE(st.generated_tokens, 6);
  EXPECT_GE(st.n_processors, 1);
  EXPECT_EQ(st.reused_tokens, 0);
  const std::string longer = prompt + " and more";
  ASSERT_EQ(llmnpu_generate(s, longer.data(), longer.size(), &gp, nullptr, nullptr, &st), LLMNPU_OK);
  EXPECT_GT(st.reused_tokens, 0);

  gp.temperature = -1;
  EXPECT_EQ(llmnpu_generate(s, prompt.data(), prompt.size(), &gp, nullptr, nullptr, &st),
            LLMNPU_ERROR_INVALID_ARGUMENT);
  gp.temperature = 0;
  const std::string too_long(5000, 'x');
  EXPECT_EQ(llmnpu_generate(s, too_long.data(), too_long.size(), &gp, nullptr, nullptr, &st),
            LLMNPU_ERROR_REFUSED);

  // A callback returning 0 stops; cancel from another thread stops.
  gp.max_tokens = 400;
  auto stop_at_once = [](const char*, size_t, void*) { return 0; };
  ASSERT_EQ(llmnpu_generate(s, prompt.data(), prompt.size(), &gp, stop_at_once, nullptr, &st), LLMNPU_OK);
  EXPECT_EQ(st.stop_reason, LLMNPU_STOP_CANCELLED);
  std::atomic<int> seen{0};
  std::thread canceller([&] {
    while (seen.load() < 2) std::this_thread::yield();
    llmnpu_session_cancel(s);
  });
  auto count = [](const char*, size_t, void* user) {
    ++*static_cast<std::atomic<int>*>(user);
    return 1;
  };
  ASSERT_EQ(llmnpu_generate(s, "Go", 2, &gp, count, &seen, &st), LLMNPU_OK);
  canceller.join();
  EXPECT_TRUE(st.stop_reason == LLMNPU_STOP_CANCELLED || st.stop_reason == LLMNPU_STOP_END_OF_TEXT)
      << st.stop_reason;
  llmnpu_session_free(s);
}

}  // namespace

namespace {

int append_text(const char* piece, size_t len, void* user) {
  static_cast<std::string*>(user)->append(piece, len);
  return 1;
}

// The header's promise: sessions of one model may generate on different threads at once.
TEST(CApi, TwoSessionsOfOneModelGenerateConcurrently) {
  Model model;
  llmnpu_session_params sp;
  llmnpu_session_params_init(&sp);
  sp.context = 256;
  sp.threads = 1;
  llmnpu_generate_params gp;
  llmnpu_generate_params_init(&gp);
  gp.max_tokens = 24;
  gp.temperature = 0;
  const std::string prompts[2] = {"The first session talks about ships", "A second session, about trains"};
  std::string sequential[2], concurrent[2];
  llmnpu_session* sessions[2] = {nullptr, nullptr};
  for (int i = 0; i < 2; ++i) ASSERT_EQ(llmnpu_session_create(model.m, &sp, &sessions[i]), LLMNPU_OK);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(llmnpu_generate(sessions[i], prompts[i].data(), prompts[i].size(), &gp, append_text,
                              &sequential[i], nullptr),
              LLMNPU_OK);
  EXPECT_FALSE(sequential[0].empty() && sequential[1].empty());
  for (int i = 0; i < 2; ++i) llmnpu_session_reset(sessions[i]);
  std::thread threads[2];
  llmnpu_status status[2] = {LLMNPU_ERROR_INTERNAL, LLMNPU_ERROR_INTERNAL};
  for (int i = 0; i < 2; ++i)
    threads[i] = std::thread([&, i] {
      status[i] = llmnpu_generate(sessions[i], prompts[i].data(), prompts[i].size(), &gp, append_text,
                                  &concurrent[i], nullptr);
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(status[i], LLMNPU_OK);
    EXPECT_EQ(concurrent[i], sequential[i]) << "session " << i;
    llmnpu_session_free(sessions[i]);
  }
}

}  // namespace
