// Sessions: the KV cache kept between calls gives the same tokens as prefilling everything again;
// generation stops on cancel (from another thread), on a callback's refusal, on stop strings and length.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "backend/float_graph.h"
#include "core/error.h"
#include "model/synth.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

std::unique_ptr<Session> tiny_session(int context = 256) {
  SynthOptions o;
  o.shape = "tiny";
  o.seed = 11;
  LoadedModel lm;
  lm.model = synthesize_model(o, builtin_byte_vocab());
  lm.graph = std::make_shared<ModelGraph>(build_float_graph(*lm.model));
  lm.engine = std::make_unique<Engine>(*lm.model, *lm.graph, EngineOptions{2, context, nullptr});
  SessionOptions so;
  so.prefill.chunk = 32;  // several chunks, so a suffix prefill starts mid-chunk
  return std::make_unique<Session>(std::move(lm), so);
}

GenerateOptions greedy(int n) {
  GenerateOptions g;
  g.max_tokens = n;
  g.sampling.temperature = 0;
  return g;
}

TEST(Session, ReusedCacheGivesTheSameTokensAsAFullPrefill) {
  auto s = tiny_session();
  const std::vector<int32_t> turn1 = s->tokenize("The first turn of a conversation about the sea", true);
  const GenerationResult r1 = s->generate(turn1, greedy(12));
  ASSERT_EQ(r1.generated.size(), 12u);
  EXPECT_EQ(r1.reused_tokens, 0);
  // The next prompt continues the conversation: the first turn, the reply, and new text.
  std::vector<int32_t> turn2 = turn1;
  turn2.insert(turn2.end(), r1.generated.begin(), r1.generated.end());
  const std::vector<int32_t> more = s->tokenize(" and then a second question about ships", false);
  turn2.insert(turn2.end(), more.begin(), more.end());
  const GenerationResult cached = s->generate(turn2, greedy(12));
  // The last reply token was sampled but never decoded: everything before it is in the cache.
  EXPECT_EQ(cached.reused_tokens, int(turn1.size() + r1.generated.size() - 1));
  EXPECT_EQ(cached.prefilled_tokens, int(turn2.size()) - cached.reused_tokens);

  auto fresh = tiny_session();
  const GenerationResult full = fresh->generate(turn2, greedy(12));
  EXPECT_EQ(full.reused_tokens, 0);
  EXPECT_EQ(cached.generated, full.generated);

  // A prompt that is all cache still prefills its last token (for its logits).
  const GenerationResult again = s->generate(turn2, greedy(12));
  EXPECT_EQ(again.reused_tokens, int(turn2.size()) - 1);
  EXPECT_EQ(again.generated, full.generated);
  // reuse_cache=false prefills everything.
  GenerateOptions no_reuse = greedy(12);
  no_reuse.reuse_cache = false;
  const GenerationResult uncached = s->generate(turn2, no_reuse);
  EXPECT_EQ(uncached.reused_tokens, 0);
  EXPECT_EQ(uncached.generated, full.generated);
}

TEST(Session, CancelFromAnotherThreadStopsWithinADecodeStep) {
  auto s = tiny_session(512);
  std::atomic<int> pieces{0};
  std::atomic<bool> issued{false};
  std::thread canceller([&] {
    while (pieces.load() < 3) std::this_thread::yield();
    s->cancel();
    issued = true;
  });
  // The third piece waits until the other thread has cancelled: otherwise a loaded machine may let the
  // greedy text reach its end before the canceller runs.
  const GenerationResult r =
      s->generate(s->tokenize("Tell me a long story", true), greedy(400), [&](const std::string&) {
        if (++pieces == 3)
          while (!issued.load()) std::this_thread::yield();
        return true;
      });
  canceller.join();
  EXPECT_EQ(r.stopped_by, "cancelled");
  EXPECT_EQ(pieces.load(), 3);  // stopped at the next step
  // The session stays usable.
  EXPECT_EQ(s->generate(s->tokenize("Again", true), greedy(4)).generated.size(), 4u);
}

TEST(Session, CallbackRefusalLengthAndStopStrings) {
  auto s = tiny_session();
  // A prompt whose greedy continuation runs 20 tokens without end of text (random weights: search).
  std::vector<int32_t> prompt;
  for (const char* text : {"Once upon a time", "The sea", "In the morning", "A ship", "Hello there", "Why"}) {
    prompt = s->tokenize(text, true);
    if (s->generate(prompt, greedy(20)).stopped_by == "length") break;
  }
  int calls = 0;
  const GenerationResult refused =
      s->generate(prompt, greedy(50), [&](const std::string&) { return ++calls < 2; });
  EXPECT_EQ(refused.stopped_by, "cancelled");
  EXPECT_EQ(calls, 2);

  const GenerationResult plain = s->generate(prompt, greedy(20));
  EXPECT_EQ(plain.stopped_by, "length");
  ASSERT_GE(plain.text.size(), 4u);
  GenerateOptions with_stop = greedy(20);
  with_stop.stop = {plain.text.substr(2, 2)};
  const GenerationResult stopped = s->generate(prompt, with_stop);
  EXPECT_EQ(stopped.stopped_by, "stop string");
  EXPECT_EQ(stopped.text, plain.text.substr(0, plain.text.find(with_stop.stop[0])));

  // -1: until the context is full.
  auto small = tiny_session(40);
  const GenerationResult filled = small->generate(small->tokenize("Fill", true), greedy(-1));
  EXPECT_TRUE(filled.stopped_by == "context" || filled.stopped_by == "end of text") << filled.stopped_by;
  if (filled.stopped_by == "context") {
    EXPECT_EQ(int(filled.generated.size()), 40 - filled.prompt_tokens);
  }
}

TEST(Session, RefusesBadPrompts) {
  auto s = tiny_session(32);
  EXPECT_THROW(s->generate({}, greedy(4)), Error);
  EXPECT_THROW(s->generate(std::vector<int32_t>(32, 65), greedy(4)), Error);
  EXPECT_THROW(s->generate({1, 100000}, greedy(4)), Error);
  EXPECT_THROW(s->generate({1, -3}, greedy(4)), Error);
  EXPECT_EQ(s->generate({1, 65}, greedy(2)).generated.size(), 2u);
}

}  // namespace
}  // namespace llmnpu
