// The C API (include/llmnpu/llmnpu.h) over the library: handles wrap shared weights and sessions, and
// every C++ exception becomes a status code with a per-thread message.
#include <cstring>
#include <new>
#include <string>

#include "core/error.h"
#include "llmnpu/llmnpu.h"
#include "prepare/prepare_pipeline.h"
#include "runtime/loaded_model.h"
#include "runtime/session.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

struct llmnpu_model {
  llmnpu::SharedModel weights;
  std::string description;
};

struct llmnpu_session {
  std::unique_ptr<llmnpu::Session> session;
};

namespace {

thread_local std::string last_error;

llmnpu_status fail_with(llmnpu_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs fn, turning exceptions into statuses (no exception crosses the C ABI).
template <typename Fn>
llmnpu_status guarded(Fn&& fn) {
  try {
    last_error.clear();
    return fn();
  } catch (const llmnpu::Error& e) {
    return fail_with(LLMNPU_ERROR_REFUSED, e.what());
  } catch (const std::bad_alloc&) {
    return fail_with(LLMNPU_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail_with(LLMNPU_ERROR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail_with(LLMNPU_ERROR_INTERNAL, "internal error");
  }
}

llmnpu_status invalid(const char* what) { return fail_with(LLMNPU_ERROR_INVALID_ARGUMENT, what); }

// Copies text into a caller's buffer with a NUL; reports the length either way.
llmnpu_status write_text(const std::string& text, char* out, size_t capacity, size_t* out_len) {
  if (out_len) *out_len = text.size();
  if (!out || capacity < text.size() + 1)
    return fail_with(LLMNPU_ERROR_BUFFER_TOO_SMALL,
                     "the text needs " + std::to_string(text.size() + 1) + " bytes with its NUL");
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return LLMNPU_OK;
}

const llmnpu::Tokenizer& tokenizer_of(const llmnpu_model* model) {
  llmnpu::check(model->weights.model->tokenizer != nullptr, "the model has no tokenizer");
  return *model->weights.model->tokenizer;
}

llmnpu_stop_reason stop_reason(const std::string& stopped_by) {
  if (stopped_by == "end of text") return LLMNPU_STOP_END_OF_TEXT;
  if (stopped_by == "stop string") return LLMNPU_STOP_STRING;
  if (stopped_by == "context") return LLMNPU_STOP_CONTEXT;
  if (stopped_by == "cancelled") return LLMNPU_STOP_CANCELLED;
  return LLMNPU_STOP_LENGTH;
}

void fill_stats(const llmnpu::GenerationResult& r, llmnpu_stats* s) {
  if (!s) return;
  *s = llmnpu_stats{};
  s->stop_reason = stop_reason(r.stopped_by);
  s->prompt_tokens = r.prompt_tokens;
  s->reused_tokens = r.reused_tokens;
  s->generated_tokens = int32_t(r.generated.size());
  s->prefill_seconds = r.prefill_seconds;
  s->first_token_seconds = r.first_token_seconds;
  s->generation_seconds = r.generation_seconds;
  s->prompt_tokens_per_second = r.prompt_tokens_per_second();
  s->generation_tokens_per_second = r.generation_tokens_per_second();
  s->shadow_outlier_entries = r.shadow.entries;
  s->shadow_hot_hits = r.shadow.hot;
  s->shadow_cold_hits = r.shadow.cold;
  s->shadow_rows_over_budget = r.shadow.fallback_rows;
  for (const auto& lane : r.lanes) {
    if (s->n_processors >= LLMNPU_MAX_PROCESSORS) break;
    std::strncpy(s->processor_names[s->n_processors], lane.name.c_str(), sizeof s->processor_names[0] - 1);
    s->processor_busy_share[s->n_processors] = lane.busy_share;
    ++s->n_processors;
  }
}

llmnpu_status generate_ids(llmnpu_session* session, const std::vector<int32_t>& ids,
                           const llmnpu_generate_params* params, llmnpu_text_callback callback,
                           void* user_data, llmnpu_stats* stats) {
  llmnpu_generate_params defaults;
  llmnpu_generate_params_init(&defaults);
  const llmnpu_generate_params& p = params ? *params : defaults;
  if (p.max_tokens < -1) return invalid("max_tokens must be -1 or more");
  if (!(p.temperature >= 0) || !(p.top_p > 0 && p.top_p <= 1) || p.top_k < 0)
    return invalid("temperature must be >= 0, top_p in (0, 1], top_k >= 0");
  if (p.n_stop > 0 && !p.stop) return invalid("stop is NULL but n_stop > 0");
  llmnpu::GenerateOptions go;
  go.max_tokens = p.max_tokens;
  go.sampling.temperature = p.temperature;
  go.sampling.top_k = p.top_k;
  go.sampling.top_p = p.top_p;
  go.sampling.seed = p.seed;
  for (size_t i = 0; i < p.n_stop; ++i) {
    if (!p.stop[i] || !*p.stop[i]) return invalid("a stop string is NULL or empty");
    go.stop.emplace_back(p.stop[i]);
  }
  const llmnpu::GenerationResult r = session->session->generate(ids, go, [&](const std::string& piece) {
    return callback ? callback(piece.data(), piece.size(), user_data) != 0 : true;
  });
  fill_stats(r, stats);
  return LLMNPU_OK;
}

}  // namespace

extern "C" {

const char* llmnpu_last_error(void) { return last_error.c_str(); }

const char* llmnpu_version(void) { return LLMNPU_VERSION; }

llmnpu_status llmnpu_model_load(const char* path, const char* tokenizer_path, llmnpu_model** out) {
  if (!path || !out) return invalid("path and out must not be NULL");
  *out = nullptr;
  return guarded([&] {
    auto model = std::make_unique<llmnpu_model>();
    model->weights = llmnpu::load_weights(path, tokenizer_path ? tokenizer_path : "");
    model->description = model->weights.model->config.arch + ": " + model->weights.graph->describe;
    *out = model.release();
    return LLMNPU_OK;
  });
}

void llmnpu_model_free(llmnpu_model* model) { delete model; }

int32_t llmnpu_model_context_length(const llmnpu_model* model) {
  return model ? model->weights.model->config.max_seq_len : 0;
}

int32_t llmnpu_model_vocab_size(const llmnpu_model* model) {
  return model ? model->weights.model->config.vocab_size : 0;
}

int llmnpu_model_is_prepared(const llmnpu_model* model) {
  return model && model->weights.model->format == "prepared" ? 1 : 0;
}

const char* llmnpu_model_describe(const llmnpu_model* model) {
  return model ? model->description.c_str() : "";
}

llmnpu_status llmnpu_tokenize(const llmnpu_model* model, const char* text, size_t text_len, int add_special,
                              int32_t* ids, size_t capacity, size_t* n_ids) {
  if (!model || (!text && text_len > 0) || !n_ids) return invalid("model, text and n_ids must not be NULL");
  return guarded([&] {
    const llmnpu::Tokenizer& tok = tokenizer_of(model);
    const std::vector<int32_t> out =
        tok.encode(std::string_view(text ? text : "", text_len), add_special != 0 && tok.adds_bos());
    *n_ids = out.size();
    if (!ids || capacity < out.size())
      return fail_with(LLMNPU_ERROR_BUFFER_TOO_SMALL, "the ids need room for " + std::to_string(out.size()));
    std::copy(out.begin(), out.end(), ids);
    return LLMNPU_OK;
  });
}

llmnpu_status llmnpu_detokenize(const llmnpu_model* model, const int32_t* ids, size_t n_ids, char* text,
                                size_t capacity, size_t* text_len) {
  if (!model || (!ids && n_ids > 0) || !text_len) return invalid("model, ids and text_len must not be NULL");
  return guarded([&] {
    const llmnpu::Tokenizer& tok = tokenizer_of(model);
    std::vector<int32_t> v(ids, ids + n_ids);
    for (int32_t id : v)
      llmnpu::check(id >= 0 && size_t(id) < tok.vocab_size(), "token id ", id,
                    " is outside the vocabulary of ", tok.vocab_size());
    return write_text(tok.decode(v), text, capacity, text_len);
  });
}

llmnpu_status llmnpu_chat_render(const llmnpu_model* model, const llmnpu_chat_message* messages,
                                 size_t n_messages, int add_generation_prompt, const char* template_source,
                                 char* text, size_t capacity, size_t* text_len) {
  if (!model || (!messages && n_messages > 0) || !text_len)
    return invalid("model, messages and text_len must not be NULL");
  return guarded([&] {
    const llmnpu::Vocab& vocab = tokenizer_of(model).vocab();
    llmnpu::ChatRequest request;
    request.add_generation_prompt = add_generation_prompt != 0;
    for (size_t i = 0; i < n_messages; ++i) {
      if (!messages[i].role || !messages[i].content) return invalid("a message's role or content is NULL");
      request.messages.push_back({{"role", messages[i].role}, {"content", messages[i].content}});
    }
    const llmnpu::ChatTemplate chat(vocab, template_source ? template_source : "");
    return write_text(chat.render(request), text, capacity, text_len);
  });
}

void llmnpu_prepare_params_init(llmnpu_prepare_params* params) {
  if (!params) return;
  const llmnpu::PrepareOptions d;
  *params = llmnpu_prepare_params{};
  params->calibration_tokens = d.calib_tokens;
  params->window = d.window;
  params->resident_budget = d.resident_budget;
  params->auto_recipe = d.auto_recipe ? 1 : 0;
  params->prune = d.prune;
}

llmnpu_status llmnpu_prepare(const char* model_path, const char* output_path,
                             const llmnpu_prepare_params* params) {
  if (!model_path || !output_path || !params || !params->calibration_text)
    return invalid("model_path, output_path, params and params->calibration_text must not be NULL");
  if (params->calibration_tokens < 1 || params->window < 2 || params->threads < 0 ||
      params->resident_budget < 0 || params->prune > 1)
    return invalid("calibration_tokens >= 1, window >= 2, threads >= 0, resident_budget >= 0, prune <= 1");
  return guarded([&] {
    llmnpu::PrepareOptions o;
    o.model_path = model_path;
    o.output_path = output_path;
    o.tokenizer_path = params->tokenizer_path ? params->tokenizer_path : "";
    o.calibration_text = params->calibration_text;
    o.calibration_name = "(C API)";
    o.calib_tokens = params->calibration_tokens;
    o.window = params->window;
    o.threads = params->threads;
    o.resident_budget = params->resident_budget;
    o.auto_recipe = params->auto_recipe != 0;
    o.prune = params->prune;
    llmnpu::PrepareCallbacks callbacks;
    if (params->progress)
      callbacks.progress = [params](const std::string& stage, size_t done, size_t total) {
        params->progress(stage.c_str(), done, total, params->user_data);
      };
    llmnpu::prepare_model(o, callbacks);
    return LLMNPU_OK;
  });
}

void llmnpu_session_params_init(llmnpu_session_params* params) {
  if (!params) return;
  const llmnpu::PrefillSettings d;
  *params = llmnpu_session_params{};
  params->chunk = d.chunk;
  params->schedule = "ooo";
  params->topology = "auto";
}

llmnpu_status llmnpu_session_create(llmnpu_model* model, const llmnpu_session_params* params,
                                    llmnpu_session** out) {
  if (!model || !out) return invalid("model and out must not be NULL");
  *out = nullptr;
  llmnpu_session_params defaults;
  llmnpu_session_params_init(&defaults);
  const llmnpu_session_params& p = params ? *params : defaults;
  if (p.threads < 0 || p.context < 0 || p.chunk < 0)
    return invalid("threads, context and chunk must be >= 0");
  const std::string schedule = p.schedule ? p.schedule : "ooo", topology = p.topology ? p.topology : "auto";
  if (schedule != "ooo" && schedule != "pipeline" && schedule != "sequential")
    return invalid("schedule must be ooo, pipeline or sequential");
  if (topology != "auto" && topology != "homo" && topology != "hetero")
    return invalid("topology must be auto, homo or hetero");
  return guarded([&] {
    llmnpu::SessionOptions so;
    so.prefill.chunk = p.chunk;
    so.prefill.schedule = schedule;
    so.prefill.topology = topology;
    auto session = std::make_unique<llmnpu_session>();
    session->session =
        std::make_unique<llmnpu::Session>(llmnpu::attach_engine(model->weights, p.threads, p.context), so);
    *out = session.release();
    return LLMNPU_OK;
  });
}

void llmnpu_session_free(llmnpu_session* session) { delete session; }

void llmnpu_session_reset(llmnpu_session* session) {
  if (session) session->session->reset();
}

void llmnpu_session_cancel(llmnpu_session* session) {
  if (session) session->session->cancel();
}

void llmnpu_generate_params_init(llmnpu_generate_params* params) {
  if (!params) return;
  const llmnpu::SamplerParams d;
  *params = llmnpu_generate_params{};
  params->max_tokens = -1;
  params->temperature = d.temperature;
  params->top_k = d.top_k;
  params->top_p = d.top_p;
  params->add_special = 1;
}

llmnpu_status llmnpu_generate(llmnpu_session* session, const char* prompt, size_t prompt_len,
                              const llmnpu_generate_params* params, llmnpu_text_callback callback,
                              void* user_data, llmnpu_stats* stats) {
  if (!session || (!prompt && prompt_len > 0)) return invalid("session and prompt must not be NULL");
  return guarded([&] {
    const std::vector<int32_t> ids = session->session->tokenize(std::string(prompt ? prompt : "", prompt_len),
                                                                params ? params->add_special != 0 : true);
    return generate_ids(session, ids, params, callback, user_data, stats);
  });
}

llmnpu_status llmnpu_generate_tokens(llmnpu_session* session, const int32_t* ids, size_t n_ids,
                                     const llmnpu_generate_params* params, llmnpu_text_callback callback,
                                     void* user_data, llmnpu_stats* stats) {
  if (!session || (!ids && n_ids > 0)) return invalid("session and ids must not be NULL");
  return guarded([&] {
    return generate_ids(session, std::vector<int32_t>(ids, ids + n_ids), params, callback, user_data, stats);
  });
}

}  // extern "C"
