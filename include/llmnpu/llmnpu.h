/* llmnpu: LLM inference with prefill on an integer accelerator (the mllm-NPU design). The C API.
 *
 * Handles are opaque; every call that can fail returns an llmnpu_status, and llmnpu_last_error() gives
 * a one-line message for the last failure on the calling thread. No C++ exception crosses this API.
 *
 * Thread safety:
 *  - A model may back several sessions. Each session is used by one thread at a time (generate, reset,
 *    tokenize through it), except llmnpu_session_cancel, which any thread may call at any time.
 *  - Sessions of one model may generate on different threads at once; each has its own KV cache and
 *    worker threads, and they share the read-only weights.
 *  - Free sessions before the model they were created from.
 *  - llmnpu_last_error is per thread; llmnpu_version is constant.
 *
 * Which processor does the work: on these builds the "accelerator" is CPU cores running integer-only
 * kernels (AMX-INT8, AVX-512 VNNI or AVX2 chosen at run time); llmnpu_model_describe says so.
 */
#ifndef LLMNPU_LLMNPU_H
#define LLMNPU_LLMNPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLMNPU_API __attribute__((visibility("default")))

typedef enum llmnpu_status {
  LLMNPU_OK = 0,
  LLMNPU_ERROR_INVALID_ARGUMENT = 1, /* a null handle or pointer, a value out of range */
  LLMNPU_ERROR_REFUSED = 2,          /* the engine refused the input: unreadable or corrupt file,
                                        prompt too long, template error, ... (see llmnpu_last_error) */
  LLMNPU_ERROR_BUFFER_TOO_SMALL = 3, /* the output did not fit; the needed size was stored */
  LLMNPU_ERROR_OUT_OF_MEMORY = 4,
  LLMNPU_ERROR_INTERNAL = 5
} llmnpu_status;

/* The message of the calling thread's last failed call ("" when none). Valid until its next call. */
LLMNPU_API const char* llmnpu_last_error(void);
/* "MAJOR.MINOR.PATCH" */
LLMNPU_API const char* llmnpu_version(void);

/* ---- models ---- */
typedef struct llmnpu_model llmnpu_model;

/* Loads a GGUF file, a Hugging Face folder, a llama2.c checkpoint, or a prepared (W8A8) GGUF.
 * tokenizer_path may be NULL (use the model's). */
LLMNPU_API llmnpu_status llmnpu_model_load(const char* path, const char* tokenizer_path, llmnpu_model** out);
LLMNPU_API void llmnpu_model_free(llmnpu_model* model);
LLMNPU_API int32_t llmnpu_model_context_length(const llmnpu_model* model);
LLMNPU_API int32_t llmnpu_model_vocab_size(const llmnpu_model* model);
/* 1 for a prepared W8A8 model, 0 for a float one. */
LLMNPU_API int llmnpu_model_is_prepared(const llmnpu_model* model);
/* Architecture and the processors its weights run on, e.g. "llama: int8 linears (accelerator role: CPU
 * cores, avx512-vnni) + fp32 (host)". Valid while the model lives. */
LLMNPU_API const char* llmnpu_model_describe(const llmnpu_model* model);

/* ---- tokens ---- */
/* Encodes UTF-8 text (special-token text becomes those tokens). add_special: add BOS when the model does.
 * Writes at most capacity ids; *n_ids receives the count (also when the buffer was too small). */
LLMNPU_API llmnpu_status llmnpu_tokenize(const llmnpu_model* model, const char* text, size_t text_len,
                                         int add_special, int32_t* ids, size_t capacity, size_t* n_ids);
/* Decodes ids to UTF-8 text, NUL-terminated; *text_len receives the length without the NUL (also when
 * the buffer of `capacity` bytes was too small). */
LLMNPU_API llmnpu_status llmnpu_detokenize(const llmnpu_model* model, const int32_t* ids, size_t n_ids,
                                           char* text, size_t capacity, size_t* text_len);

/* ---- chat templates ---- */
typedef struct llmnpu_chat_message {
  const char* role;    /* "system", "user", "assistant", "tool" */
  const char* content; /* UTF-8 */
} llmnpu_chat_message;

/* Renders a conversation with the model's chat template (ChatML when it has none), or with
 * template_source when not NULL, as Hugging Face's apply_chat_template renders it. Output as
 * llmnpu_detokenize. A template's raise_exception is LLMNPU_ERROR_REFUSED with its message. */
LLMNPU_API llmnpu_status llmnpu_chat_render(const llmnpu_model* model, const llmnpu_chat_message* messages,
                                            size_t n_messages, int add_generation_prompt,
                                            const char* template_source, char* text, size_t capacity,
                                            size_t* text_len);

/* ---- prepare (float model -> prepared W8A8 GGUF) ---- */
typedef void (*llmnpu_progress_callback)(const char* stage, size_t done, size_t total, void* user_data);

typedef struct llmnpu_prepare_params {
  const char* tokenizer_path;   /* NULL: the model's */
  const char* calibration_text; /* UTF-8 text to calibrate on (required) */
  int32_t calibration_tokens;   /* default 4096; text after them is held out for the recipe choice */
  int32_t window;               /* tokens per calibration window, default 512 */
  int32_t threads;              /* 0: all cores */
  double resident_budget;       /* resident shadow memory as a share of int8 weight bytes, default 0.01 */
  int auto_recipe;              /* 1 (default): search recipes against the per-block-32 baseline */
  double prune;                 /* shadow paths to drop, 0..1; < 0 (default): measured */
  llmnpu_progress_callback progress; /* may be NULL; called from the calling thread */
  void* user_data;
} llmnpu_prepare_params;

LLMNPU_API void llmnpu_prepare_params_init(llmnpu_prepare_params* params);
LLMNPU_API llmnpu_status llmnpu_prepare(const char* model_path, const char* output_path,
                                        const llmnpu_prepare_params* params);

/* ---- sessions ---- */
typedef struct llmnpu_session llmnpu_session;

typedef struct llmnpu_session_params {
  int32_t threads;      /* 0: all cores */
  int32_t context;      /* KV cache length in tokens; 0: the model's */
  int32_t chunk;        /* prefill chunk length, default 256; 0: one chunk */
  const char* schedule; /* "ooo" (default), "pipeline", "sequential" */
  const char* topology; /* "auto" (default), "homo", "hetero" */
} llmnpu_session_params;

LLMNPU_API void llmnpu_session_params_init(llmnpu_session_params* params);
LLMNPU_API llmnpu_status llmnpu_session_create(llmnpu_model* model, const llmnpu_session_params* params,
                                               llmnpu_session** out);
LLMNPU_API void llmnpu_session_free(llmnpu_session* session);
/* Forgets the KV cache. */
LLMNPU_API void llmnpu_session_reset(llmnpu_session* session);
/* Stops the generation in progress at its next token; safe from any thread. */
LLMNPU_API void llmnpu_session_cancel(llmnpu_session* session);

typedef struct llmnpu_generate_params {
  int32_t max_tokens;      /* -1 (default): until end of text or a full context */
  float temperature;       /* 0: greedy; default 0.8 */
  int32_t top_k;           /* 0: off; default 40 */
  float top_p;             /* 1: off; default 0.95 */
  uint64_t seed;           /* default 0 */
  const char* const* stop; /* stop strings (not emitted), may be NULL */
  size_t n_stop;
  int add_special; /* text prompts: add BOS when the model does (default 1) */
} llmnpu_generate_params;

LLMNPU_API void llmnpu_generate_params_init(llmnpu_generate_params* params);

typedef enum llmnpu_stop_reason {
  LLMNPU_STOP_END_OF_TEXT = 0,
  LLMNPU_STOP_STRING = 1,
  LLMNPU_STOP_LENGTH = 2,
  LLMNPU_STOP_CONTEXT = 3,
  LLMNPU_STOP_CANCELLED = 4
} llmnpu_stop_reason;

#define LLMNPU_MAX_PROCESSORS 4

typedef struct llmnpu_stats {
  llmnpu_stop_reason stop_reason;
  int32_t prompt_tokens;
  int32_t reused_tokens; /* prompt tokens whose KV came from the session's cache */
  int32_t generated_tokens;
  double prefill_seconds, first_token_seconds, generation_seconds;
  double prompt_tokens_per_second, generation_tokens_per_second;
  /* Shadow execution during the prefill: outlier entries, distinct channels served by resident (hot)
   * and mapped (cold) weight rows, rows over the per-row budget (dynamic-scale fallback). */
  uint64_t shadow_outlier_entries, shadow_hot_hits, shadow_cold_hits, shadow_rows_over_budget;
  /* Each processor's busy share of the prefill ("all cores", "accelerator (CPU int8)", "host (CPU)"). */
  int32_t n_processors;
  char processor_names[LLMNPU_MAX_PROCESSORS][48];
  double processor_busy_share[LLMNPU_MAX_PROCESSORS];
} llmnpu_stats;

/* Called with each piece of UTF-8 text as it is generated (not NUL-terminated); return 0 to stop
 * (stop_reason CANCELLED). Runs on the calling thread. */
typedef int (*llmnpu_text_callback)(const char* piece, size_t len, void* user_data);

/* Generates after a text prompt (or token ids), reusing the KV cache for the prefix this prompt
 * shares with what the session already holds. callback and stats may be NULL. */
LLMNPU_API llmnpu_status llmnpu_generate(llmnpu_session* session, const char* prompt, size_t prompt_len,
                                         const llmnpu_generate_params* params, llmnpu_text_callback callback,
                                         void* user_data, llmnpu_stats* stats);
LLMNPU_API llmnpu_status llmnpu_generate_tokens(llmnpu_session* session, const int32_t* ids, size_t n_ids,
                                                const llmnpu_generate_params* params,
                                                llmnpu_text_callback callback, void* user_data,
                                                llmnpu_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* LLMNPU_LLMNPU_H */
