#pragma once
// The OpenAI-compatible HTTP server: /v1/chat/completions and /v1/completions (streamed as server-sent
// events or whole), /v1/models, /health. Requests are queued on the one session (its KV cache serves
// the longest prefix a request shares with the previous one, so a continuing conversation prefills only
// its new turn); a streaming client that disconnects cancels its generation at the next token. Every
// error is a JSON body with a 4xx status, and the server keeps serving.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/session.h"
#include "tokenizer/chat_template.h"

namespace httplib {
class Server;
}

namespace llmnpu::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;       // 0: any free port (port() says which)
  std::string model_id;  // the name /v1/models lists and responses carry
  size_t max_body_bytes = size_t(8) << 20;
  int http_threads = 16;  // connections served at once (generation itself is one at a time)
};

struct ServerStats {
  uint64_t requests = 0, completed = 0, cancelled = 0, rejected = 0;
  uint64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
};

class HttpServer {
 public:
  HttpServer(Session& session, ChatTemplate chat_template, ServerOptions options);
  ~HttpServer();

  // Binds the socket (throws Error when it cannot); returns the port.
  int bind();
  // Serves until stop(); bind() first.
  void serve();
  // Stops serving and cancels the generation in progress (safe from any thread or a signal handler's
  // helper thread).
  void stop();
  int port() const { return port_; }
  ServerStats stats() const;

 private:
  void install_routes();

  Session& session_;
  ChatTemplate chat_template_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::mutex session_mutex_;  // one generation at a time
  mutable std::mutex stats_mutex_;
  ServerStats stats_;
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> next_id_{1};
  int port_ = 0;
};

}  // namespace llmnpu::server
