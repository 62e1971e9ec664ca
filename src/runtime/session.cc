#include "runtime/session.h"

#include <algorithm>

#include "backend/int8_linear.h"
#include "core/error.h"
#include "core/timer.h"
#include "runtime/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

ShadowTotals shadow_totals(const ModelGraph& graph) {
  ShadowTotals t;
  for (const LayerLinears& L : graph.layers)
    for (const LinearOp* op : {L.qkv.get(), L.o.get(), L.gate_up.get(), L.down.get()})
      if (const auto* q = dynamic_cast<const Int8Linear*>(op)) {
        const Int8Linear::Counters c = q->counters();
        t.entries += c.outliers;
        t.hot += c.hot_rows;
        t.cold += c.cold_rows;
        t.fallback_rows += c.fallback_rows;
        t.shadowed_linears += q->shadow() ? 1 : 0;
      }
  return t;
}

Session::Session(LoadedModel model, const SessionOptions& options)
    : model_(std::move(model)), options_(options) {
  if (options_.reference) {
    check(model_.model->format != "prepared",
          "the reference interpreter runs float models; give the model this one was prepared from");
    reference_ = std::make_unique<ReferenceInterpreter>(*model_.model, context());
  } else {
    prefiller_ = std::make_unique<Prefiller>(*model_.engine, options_.prefill, threads());
  }
}

const Tokenizer& Session::tokenizer() const {
  check(model_.model->tokenizer != nullptr, "the model has no tokenizer: give one with --tokenizer");
  return *model_.model->tokenizer;
}

std::string Session::prefill_description() const {
  return reference_ ? "reference interpreter (plain loops on one CPU core, token by token)"
                    : prefiller_->describe();
}

std::vector<int32_t> Session::tokenize(const std::string& text, bool add_special) const {
  const Tokenizer& tok = tokenizer();
  return tok.encode(text, add_special && tok.adds_bos());
}

void Session::reset() {
  cached_.clear();
  if (reference_) reference_->reset();
  model_.engine->reset();
}

std::vector<float> Session::prefill(const std::vector<int32_t>& tokens, Trace* trace) {
  std::vector<float> logits;
  if (reference_) {
    for (int32_t id : tokens) logits = reference_->forward(id);
  } else {
    logits = prefiller_->run(tokens, trace);
  }
  cached_.insert(cached_.end(), tokens.begin(), tokens.end());
  return logits;
}

const std::vector<float>& Session::decode(int32_t id) {
  cached_.push_back(id);
  if (reference_) {
    reference_logits_ = reference_->forward(id);
    return reference_logits_;
  }
  return model_.engine->decode(id);
}

GenerationResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                   const TextCallback& on_text) {
  cancel_.store(false);
  check(!prompt.empty(), "the prompt is empty");
  check(int(prompt.size()) < context(), "prompt of ", prompt.size(),
        " tokens does not fit in the context of ", context(), " tokens");
  const int vocab = model_.model->config.vocab_size;
  for (int32_t id : prompt)
    check(id >= 0 && id < vocab, "token id ", id, " is outside the vocabulary of ", vocab);
  const Tokenizer& tok = tokenizer();

  GenerationResult r;
  r.prompt_tokens = int(prompt.size());
  // The cache keeps the longest prefix this prompt shares with it; at least the last prompt token is
  // prefilled, for its logits.
  size_t shared = 0;
  if (options.reuse_cache && !reference_) {
    while (shared < cached_.size() && shared < prompt.size() && cached_[shared] == prompt[shared]) ++shared;
    shared = std::min(shared, prompt.size() - 1);
  }
  if (reference_) reference_->reset();
  cached_.resize(shared);
  model_.engine->rewind(int(shared));
  r.reused_tokens = int(shared);
  const std::vector<int32_t> suffix(prompt.begin() + long(shared), prompt.end());
  r.prefilled_tokens = int(suffix.size());

  Trace local_trace;
  Trace* trace = options.trace ? options.trace : &local_trace;
  const ShadowTotals before = shadow_totals(*model_.graph);
  const double t0 = now_seconds();
  std::vector<float> logits = prefill(suffix, trace);
  const double t1 = now_seconds();
  const ShadowTotals after = shadow_totals(*model_.graph);
  r.prefill_seconds = t1 - t0;
  r.lanes = trace->summarize();
  r.shadow_jobs = prefiller_ ? prefiller_->shadow_stats() : ShadowQueue::Stats{};
  r.shadow.entries = after.entries - before.entries;
  r.shadow.hot = after.hot - before.hot;
  r.shadow.cold = after.cold - before.cold;
  r.shadow.fallback_rows = after.fallback_rows - before.fallback_rows;
  r.shadow.shadowed_linears = after.shadowed_linears;

  const int room = context() - int(prompt.size());
  const int budget = options.max_tokens < 0 ? room : std::min(options.max_tokens, room);
  Sampler sampler(options.sampling);
  StreamingDecoder stream(tok);
  StopStrings stops(options.stop);
  bool keep_going = true;
  auto emit = [&](const std::string& piece) {
    if (piece.empty() || !keep_going) return;
    r.text += piece;
    if (on_text && !on_text(piece)) keep_going = false;
  };
  r.stopped_by = budget < room || options.max_tokens == 0 ? "length" : "context";
  for (int i = 0; i < budget; ++i) {
    if (cancel_.load() || !keep_going) {
      r.stopped_by = "cancelled";
      break;
    }
    const int32_t next = sampler.sample(logits.data(), vocab);
    r.generated.push_back(next);
    if (i == 0) r.first_token_seconds = now_seconds() - t0;
    if (tok.is_end_of_generation(next)) {
      r.stopped_by = "end of text";
      break;
    }
    emit(stops.push(stream.push(next)));
    if (stops.stopped()) {
      r.stopped_by = "stop string";
      break;
    }
    if (!keep_going) {
      r.stopped_by = "cancelled";
      break;
    }
    if (i + 1 < budget) logits = decode(next);
  }
  if (!stops.stopped() && r.stopped_by != "cancelled") {
    emit(stops.push(stream.flush()));
    if (!stops.stopped()) emit(stops.flush());
  }
  r.generation_seconds = now_seconds() - t1;
  r.decode_steps = std::max(0, int(r.generated.size()) - 1);
  return r;
}

}  // namespace llmnpu
