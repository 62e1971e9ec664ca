#pragma once
// A generation session: one loaded model, its prefill runner and sampler state, and the token ids
// whose keys and values are in the KV cache. generate() prefills only what a new prompt does not share
// with the cache (a chat turn, a continued conversation), then decodes with sampling, stop strings and
// a text callback. Any thread may cancel() the generation in progress. One generate() at a time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/reference_interpreter.h"
#include "runtime/loaded_model.h"
#include "runtime/prefiller.h"
#include "runtime/sampler.h"
#include "runtime/shadow_queue.h"
#include "runtime/trace.h"

namespace llmnpu {

// The int8 linears' shadow counters summed over a graph (zeros for a float model).
struct ShadowTotals {
  uint64_t entries = 0, hot = 0, cold = 0, fallback_rows = 0;
  int shadowed_linears = 0;  // linears that keep a shadow path
};
ShadowTotals shadow_totals(const ModelGraph& graph);

struct SessionOptions {
  PrefillSettings prefill;
  // Run the float reference interpreter (plain loops, token by token) instead of the engine: the oracle
  // to check results against. Float models only; no KV reuse between calls.
  bool reference = false;
};

struct GenerateOptions {
  int max_tokens = -1;  // -1: until end of text or a full context
  SamplerParams sampling;
  std::vector<std::string> stop;  // generation ends where the text shows one of these (not emitted)
  bool reuse_cache = true;        // false: prefill the whole prompt even if the cache holds a prefix
  Trace* trace = nullptr;         // receives the prefill's subgraph slices when given
};

struct GenerationResult {
  std::vector<int32_t> generated;
  std::string text;
  // "end of text", "stop string", "length" (max_tokens), "context" (the context is full), "cancelled"
  std::string stopped_by;
  int prompt_tokens = 0;
  int reused_tokens = 0;     // prompt tokens whose KV came from the cache instead of prefill
  int prefilled_tokens = 0;  // prompt_tokens - reused_tokens
  double prefill_seconds = 0, first_token_seconds = 0, generation_seconds = 0;
  int decode_steps = 0;  // generated tokens after the first, each one decode step
  double prompt_tokens_per_second() const {
    return prefill_seconds > 0 ? prefilled_tokens / prefill_seconds : 0;
  }
  double generation_tokens_per_second() const {
    return generation_seconds > 0 && decode_steps > 0 ? decode_steps / generation_seconds : 0;
  }
  std::vector<LaneSummary> lanes;  // per processor busy/bubble shares of the prefill
  ShadowQueue::Stats shadow_jobs;  // where the prefill's shadow work ran
  ShadowTotals shadow;             // the prefill's outlier entries, hot/cold hits, rows over budget
};

// Called with each piece of text as soon as it is printable (complete UTF-8, clear of stop strings);
// returning false stops generation (stopped_by "cancelled").
using TextCallback = std::function<bool(const std::string& piece)>;

class Session {
 public:
  Session(LoadedModel model, const SessionOptions& options = {});

  const Model& model() const { return *model_.model; }
  const ModelGraph& graph() const { return *model_.graph; }
  const Tokenizer& tokenizer() const;  // throws Error when the model has none
  int context() const { return model_.engine->context(); }
  int threads() { return model_.engine->pool().size(); }
  std::string prefill_description() const;
  // The ids whose KV is in the cache (what the next prompt can share).
  const std::vector<int32_t>& cached_tokens() const { return cached_; }

  // Tokenizes text (with the model's BOS when add_special and the model adds one; special-token text
  // becomes those tokens).
  std::vector<int32_t> tokenize(const std::string& text, bool add_special) const;

  // Generates after `prompt`. Throws Error for an empty prompt or one that does not leave room for one
  // token in the context.
  GenerationResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                            const TextCallback& on_text = nullptr);

  // Stops the generation in progress at its next decode step (safe from any thread).
  void cancel() { cancel_.store(true); }
  // Forgets the KV cache.
  void reset();

 private:
  std::vector<float> prefill(const std::vector<int32_t>& tokens, Trace* trace);
  const std::vector<float>& decode(int32_t id);

  LoadedModel model_;
  SessionOptions options_;
  std::unique_ptr<Prefiller> prefiller_;
  std::unique_ptr<ReferenceInterpreter> reference_;
  std::vector<int32_t> cached_;
  std::vector<float> reference_logits_;
  std::atomic<bool> cancel_{false};
};

}  // namespace llmnpu
