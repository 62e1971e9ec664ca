// llmnpu server: an OpenAI-compatible HTTP server on one model (server/http_server.h).
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "command.h"
#include "core/error.h"
#include "flags.h"
#include "model_options.h"
#include "prefill_options.h"
#include "server/http_server.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::cli {
namespace {

int server_command(int argc, char** argv) {
  CLI::App app{
      "Serve the model over HTTP with the OpenAI API: POST /v1/chat/completions and /v1/completions "
      "(\"stream\": true for server-sent events), GET /v1/models and /health. Requests are served one at a "
      "time on one KV cache; a request that continues the previous conversation prefills only its new "
      "tokens."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  PrefillOptions po;
  po.add_to(app, /*with_trace=*/false);
  server::ServerOptions so;
  std::string template_file;
  app.add_option("--host", so.host, "address to listen on (default 127.0.0.1: this machine only)");
  app.add_option("--port", so.port, "port (default 8080; 0 = any free port, printed)")
      ->check(integer_in(0, 65535));
  app.add_option("-a,--alias", so.model_id,
                 "model name in /v1/models and responses (default: the file name)");
  app.add_option("--chat-template-file", template_file,
                 "a Jinja chat template to use instead of the model's");
  app.add_option("--max-body", so.max_body_bytes, "largest request body in bytes (default 8 MiB)")
      ->check(integer_in(1024, int64_t(1) << 30));
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  if (so.model_id.empty()) so.model_id = std::filesystem::path(mo.model_path).filename().string();

  // SIGINT/SIGTERM stop the server from a thread of their own (blocked here, inherited by every thread).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  SessionOptions session_options;
  session_options.prefill = po;
  Session session(load_for_inference(mo), session_options);
  const Tokenizer& tok = session.tokenizer();
  const Vocab& vocab = tok.vocab();
  ChatTemplate chat_template(vocab, template_file.empty() ? std::string() : read_text_file(template_file));
  const bool fallback = chat_template.uses_fallback();
  server::HttpServer server(session, std::move(chat_template), so);
  const int port = server.bind();
  const Model& model = session.model();
  std::fprintf(stderr, "model: %s (%s, %d layers, dim %d, context %d) | %s | %d threads\n",
               mo.model_path.c_str(), model.config.arch.c_str(), model.config.n_layers, model.config.dim,
               session.context(), session.graph().describe.c_str(), session.threads());
  std::fprintf(stderr, "chat template: %s\n", fallback ? "ChatML (the model carries none)" : "the model's");
  std::fprintf(stderr, "prefill: %s\n", session.prefill_description().c_str());
  std::fprintf(stderr, "listening on http://%s:%d (OpenAI API at /v1)\n", so.host.c_str(), port);
  std::fflush(stderr);

  std::atomic<bool> serving{true};
  std::thread signal_waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (serving) std::fprintf(stderr, "stopping (%s)\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  server.serve();
  serving = false;
  pthread_kill(signal_waiter.native_handle(), SIGTERM);  // wakes the signal thread when serve() ended itself
  signal_waiter.join();
  const server::ServerStats s = server.stats();
  std::fprintf(stderr, "served %llu requests (%llu completed, %llu cancelled, %llu refused)\n",
               static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.completed),
               static_cast<unsigned long long>(s.cancelled), static_cast<unsigned long long>(s.rejected));
  return 0;
}

Register reg("server", "serve the OpenAI API over HTTP (-m MODEL [--host 127.0.0.1] [--port 8080])",
             server_command);

}  // namespace
}  // namespace llmnpu::cli
