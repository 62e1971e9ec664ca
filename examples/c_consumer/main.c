/* A C program using llmnpu through its installed package: loads a float model, renders a chat with
 * its template, generates with a streaming callback, prepares a W8A8 copy on a calibration text and
 * generates with that too. Usage: c_consumer MODEL CALIBRATION_TEXT OUTPUT_PREPARED */
#include <llmnpu/llmnpu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_text(const char* piece, size_t len, void* user_data) {
  size_t* total = (size_t*)user_data;
  *total += len;
  fwrite(piece, 1, len, stdout);
  return 1;
}

static void on_progress(const char* stage, size_t done, size_t total, void* user_data) {
  (void)user_data;
  if (done == total && strcmp(stage, "quantize") == 0) fprintf(stderr, "prepare: quantized %zu linears\n", total);
}

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (text) text[n] = '\0';
  fclose(f);
  return text;
}

#define CHECK(call)                                                                        \
  do {                                                                                     \
    llmnpu_status s_ = (call);                                                             \
    if (s_ != LLMNPU_OK) {                                                                 \
      fprintf(stderr, "%s failed: status %d: %s\n", #call, (int)s_, llmnpu_last_error()); \
      return 1;                                                                            \
    }                                                                                      \
  } while (0)

static int generate(llmnpu_model* model, const char* prompt) {
  llmnpu_session_params sp;
  llmnpu_session_params_init(&sp);
  sp.context = 256;
  llmnpu_session* session = NULL;
  CHECK(llmnpu_session_create(model, &sp, &session));
  llmnpu_generate_params gp;
  llmnpu_generate_params_init(&gp);
  gp.max_tokens = 8;
  gp.temperature = 0;
  llmnpu_stats stats;
  size_t streamed = 0;
  CHECK(llmnpu_generate(session, prompt, strlen(prompt), &gp, on_text, &streamed, &stats));
  printf("\n[%d prompt tokens, %d generated, stop reason %d, %zu bytes streamed, %d processors]\n",
         stats.prompt_tokens, stats.generated_tokens, (int)stats.stop_reason, streamed, stats.n_processors);
  llmnpu_session_free(session);
  return stats.generated_tokens > 0 && stats.n_processors > 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL CALIBRATION_TEXT OUTPUT_PREPARED\n", argv[0]);
    return 2;
  }
  printf("llmnpu %s\n", llmnpu_version());
  llmnpu_model* missing = NULL;
  if (llmnpu_model_load("/nonexistent/model.gguf", NULL, &missing) != LLMNPU_ERROR_REFUSED || missing != NULL ||
      strlen(llmnpu_last_error()) == 0) {
    fprintf(stderr, "a missing model must be refused with a message\n");
    return 1;
  }
  printf("missing model refused: %s\n", llmnpu_last_error());

  llmnpu_model* model = NULL;
  CHECK(llmnpu_model_load(argv[1], NULL, &model));
  printf("model: %s, context %d, vocab %d\n", llmnpu_model_describe(model), llmnpu_model_context_length(model),
         llmnpu_model_vocab_size(model));
  llmnpu_chat_message chat[2] = {{"system", "Be brief."}, {"user", "Hello!"}};
  char rendered[1024];
  size_t rendered_len = 0;
  CHECK(llmnpu_chat_render(model, chat, 2, 1, NULL, rendered, sizeof rendered, &rendered_len));
  printf("chat prompt (%zu bytes): %s\n", rendered_len, rendered);
  if (generate(model, rendered) != 0) return 1;

  char* calibration = read_file(argv[2]);
  if (!calibration) {
    fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  llmnpu_prepare_params pp;
  llmnpu_prepare_params_init(&pp);
  pp.calibration_text = calibration;
  pp.calibration_tokens = 256;
  pp.window = 64;
  pp.progress = on_progress;
  CHECK(llmnpu_prepare(argv[1], argv[3], &pp));
  free(calibration);
  llmnpu_model* prepared = NULL;
  CHECK(llmnpu_model_load(argv[3], NULL, &prepared));
  printf("prepared: %s (prepared=%d)\n", llmnpu_model_describe(prepared), llmnpu_model_is_prepared(prepared));
  if (!llmnpu_model_is_prepared(prepared) || generate(prepared, "Once upon a time") != 0) return 1;
  llmnpu_model_free(prepared);
  llmnpu_model_free(model);
  printf("ok\n");
  return 0;
}
