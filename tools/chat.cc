// llmnpu chat: an interactive conversation in the model's own chat template. The KV cache is kept
// between turns, so each turn prefills only the tokens the conversation did not already have.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "flags.h"
#include "model_options.h"
#include "prefill_options.h"
#include "runtime/session.h"
#include "sampling_options.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::cli {
namespace {

// One user message from standard input: lines ending in '\' continue it. False at end of input.
bool read_user_message(std::string& message, bool interactive) {
  message.clear();
  std::string line;
  if (interactive) std::fputs("> ", stderr);
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      message += line + "\n";
      if (interactive) std::fputs(". ", stderr);
      continue;
    }
    message += line;
    return true;
  }
  return !message.empty();
}

int chat_command(int argc, char** argv) {
  CLI::App app{
      "Chat with a model in its own chat template (read from the model; ChatML when it has none). Type a "
      "message and press Enter; end a line with '\\' to continue the message on the next line. /reset starts "
      "a new conversation, /exit (or end of input) quits. The KV cache is kept between turns: each turn "
      "prefills only its new tokens."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  PrefillOptions po;
  po.add_to(app, /*with_trace=*/false);
  SamplingOptions sp;
  int n_predict = -1;
  std::string system_prompt, template_file;
  app.add_option("--system", system_prompt, "system message at the start of every conversation");
  app.add_option("--chat-template-file", template_file,
                 "a Jinja chat template to use instead of the model's");
  app.add_option("-n,--n-predict", n_predict,
                 "most tokens per reply (default -1: until end of turn or context)")
      ->check(integer_in(-1, kMaxTokensFlag, str("an integer from 0 to ", kMaxTokensFlag, ", or -1")));
  sp.add_to(app);
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  sp.choose_seed();

  SessionOptions so;
  so.prefill = po;
  Session session(load_for_inference(mo), so);
  const Tokenizer& tok = session.tokenizer();
  const Vocab& vocab = tok.vocab();
  auto chat_template = std::make_unique<ChatTemplate>(
      vocab, template_file.empty() ? std::string() : read_text_file(template_file));

  const Model& model = session.model();
  std::fprintf(stderr, "model: %s (%s, %d layers, dim %d) | %s | %d threads | seed %llu\n",
               mo.model_path.c_str(), model.config.arch.c_str(), model.config.n_layers, model.config.dim,
               session.graph().describe.c_str(), session.threads(), static_cast<unsigned long long>(sp.seed));
  std::fprintf(stderr, "chat template: %s\n",
               chat_template->uses_fallback()
                   ? "ChatML (the model carries none)"
                   : (template_file.empty() ? "the model's" : template_file.c_str()));
  if (model.config.name.rfind("synth-", 0) == 0)
    std::fprintf(stderr, "note: %s has random weights (llmnpu synth): its replies are expected to be noise\n",
                 model.config.name.c_str());
  std::fprintf(stderr, "prefill: %s\n", session.prefill_description().c_str());

  const bool interactive = isatty(STDIN_FILENO);
  ChatRequest conversation;
  auto start_conversation = [&] {
    conversation.messages = nlohmann::ordered_json::array();
    if (!system_prompt.empty())
      conversation.messages.push_back({{"role", "system"}, {"content", system_prompt}});
  };
  start_conversation();
  GenerateOptions go;
  go.max_tokens = n_predict;
  go.sampling = sp;
  go.stop = chat_template->stop_strings();
  long total_prompt = 0, total_reused = 0;
  std::string message;
  while (read_user_message(message, interactive)) {
    if (message == "/exit" || message == "/quit") break;
    if (message == "/reset") {
      start_conversation();
      session.reset();
      std::fprintf(stderr, "(new conversation)\n");
      continue;
    }
    if (message.empty()) continue;
    conversation.messages.push_back({{"role", "user"}, {"content", message}});
    std::vector<int32_t> ids;
    try {
      // As Hugging Face's apply_chat_template: the template writes every special token itself.
      ids = chat_template->tokenize(tok, conversation);
      check(int(ids.size()) < session.context(), "the conversation (", ids.size(),
            " tokens) no longer fits in the context of ", session.context(), " tokens: /reset to start over");
    } catch (const Error& e) {
      conversation.messages.erase(conversation.messages.end() - 1);
      std::fprintf(stderr, "error: %s\n", e.what());
      continue;
    }
    const GenerationResult r = session.generate(ids, go, [](const std::string& piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::printf("\n");
    std::fflush(stdout);
    conversation.messages.push_back({{"role", "assistant"}, {"content", r.text}});
    total_prompt += r.prompt_tokens;
    total_reused += r.reused_tokens;
    std::fprintf(
        stderr,
        "[prompt %d tokens: %d from the KV cache, %d prefilled in %.3f s (%.1f tokens/s) | first token after "
        "%.3f s | reply %zu tokens, %.1f tokens/s | %s]\n",
        r.prompt_tokens, r.reused_tokens, r.prefilled_tokens, r.prefill_seconds, r.prompt_tokens_per_second(),
        r.first_token_seconds, r.generated.size(), r.generation_tokens_per_second(), r.stopped_by.c_str());
  }
  if (total_prompt > 0)
    std::fprintf(stderr, "KV cache reuse: %ld of %ld prompt tokens were not prefilled again (%.1f%%)\n",
                 total_reused, total_prompt, 100.0 * double(total_reused) / double(total_prompt));
  return 0;
}

Register reg("chat", "chat with a model in its chat template (-m MODEL [--system TEXT])", chat_command);

}  // namespace
}  // namespace llmnpu::cli
