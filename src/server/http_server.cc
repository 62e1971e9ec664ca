#include "server/http_server.h"

#include <httplib.h>

#include <ctime>

#include "core/error.h"
#include "server/openai_api.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::server {
namespace {

using Json = nlohmann::ordered_json;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

}  // namespace

HttpServer::HttpServer(Session& session, ChatTemplate chat_template, ServerOptions options)
    : session_(session),
      chat_template_(std::move(chat_template)),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  const int threads = std::max(2, options_.http_threads);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  install_routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  check(options_.port >= 0 && options_.port <= 65535, "port ", options_.port, " is outside 0..65535");
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    check(port_ > 0, "cannot bind to ", options_.host, " on any port");
  } else {
    check(http_->bind_to_port(options_.host, options_.port), "cannot bind to ", options_.host, ":",
          options_.port, " (in use, or not an address of this machine)");
    port_ = options_.port;
  }
  return port_;
}

void HttpServer::serve() { http_->listen_after_bind(); }

void HttpServer::stop() {
  session_.cancel();
  if (http_) http_->stop();
}

ServerStats HttpServer::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void HttpServer::install_routes() {
  // Errors httplib produces itself (404 unknown route, 413 body too large, 400 bad request line) get
  // OpenAI's error body too.
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message = res.status == 404   ? str("no route ", req.method, " ", req.path)
                                : res.status == 413 ? std::string("the request body is too large")
                                                    : str("HTTP status ", res.status);
    res.set_content(dump(error_body(res.status, message)), "application/json");
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    send_json(res, 500, error_body(500, message));
  });

  http_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const ServerStats s = stats();
    send_json(res, 200,
              Json{{"status", "ok"},
                   {"model", options_.model_id},
                   {"busy", busy_.load()},
                   {"requests", s.requests},
                   {"completed", s.completed},
                   {"cancelled", s.cancelled},
                   {"rejected", s.rejected},
                   {"prompt_tokens", s.prompt_tokens},
                   {"cached_tokens", s.cached_tokens},
                   {"generated_tokens", s.generated_tokens}});
  });
  const auto models = [this](const httplib::Request&, httplib::Response& res) {
    const Model& m = session_.model();
    send_json(res, 200,
              Json{{"object", "list"},
                   {"data", Json::array({Json{{"id", options_.model_id},
                                              {"object", "model"},
                                              {"created", int64_t(std::time(nullptr))},
                                              {"owned_by", "llmnpu"},
                                              {"meta",
                                               {{"arch", m.config.arch},
                                                {"n_ctx", session_.context()},
                                                {"n_vocab", m.config.vocab_size},
                                                {"processors", session_.graph().describe}}}}})}});
  };
  http_->Get("/v1/models", models);
  http_->Get("/models", models);

  const auto completion = [this](Endpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++stats_.requests;
      }
      CompletionRequest request;
      std::vector<int32_t> ids;
      try {
        request = parse_completion_request(endpoint, req.body, session_.context());
        const Tokenizer& tok = session_.tokenizer();
        if (endpoint == Endpoint::ChatCompletions) {
          ids = chat_template_.tokenize(tok, request.chat);
          for (const std::string& stop : chat_template_.stop_strings()) request.generate.stop.push_back(stop);
        } else if (!request.prompt_ids.empty()) {
          ids = request.prompt_ids;
          for (int32_t id : ids)
            if (size_t(id) >= tok.vocab_size())
              throw ApiError(400, str("token id ", id, " is outside the vocabulary of ", tok.vocab_size()),
                             "prompt");
        } else {
          ids = session_.tokenize(request.prompt, true);
        }
        if (ids.empty()) throw ApiError(400, "the prompt is empty");
        if (int(ids.size()) >= session_.context())
          throw ApiError(400, str("the prompt (", ids.size(), " tokens) does not fit in the context of ",
                                  session_.context(), " tokens"));
      } catch (const ApiError& e) {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++stats_.rejected;
        send_json(res, e.status, error_body(e.status, e.what(), e.param));
        return;
      } catch (const Error& e) {  // template errors (raise_exception), invalid UTF-8
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++stats_.rejected;
        send_json(res, 400, error_body(400, e.what()));
        return;
      }
      ResponseInfo info;
      info.id = str(endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-", next_id_++);
      info.created = int64_t(std::time(nullptr));
      info.model = options_.model_id;
      const auto record = [this](const GenerationResult& r) {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++(r.stopped_by == "cancelled" ? stats_.cancelled : stats_.completed);
        stats_.prompt_tokens += uint64_t(r.prompt_tokens);
        stats_.cached_tokens += uint64_t(r.reused_tokens);
        stats_.generated_tokens += r.generated.size();
      };

      if (!request.stream) {
        std::lock_guard<std::mutex> lock(session_mutex_);
        busy_ = true;
        GenerationResult r;
        try {
          r = session_.generate(ids, request.generate);
        } catch (const Error& e) {
          busy_ = false;
          send_json(res, 400, error_body(400, e.what()));
          return;
        }
        busy_ = false;
        record(r);
        send_json(res, 200, completion_response(endpoint, info, r));
        return;
      }

      res.set_header("Cache-Control", "no-cache");
      res.set_chunked_content_provider(
          "text/event-stream", [this, endpoint, ids, request, info, record](size_t, httplib::DataSink& sink) {
            std::lock_guard<std::mutex> lock(session_mutex_);
            busy_ = true;
            bool connected = true;
            const auto send = [&](const std::string& event) {
              connected = connected && sink.write(event.data(), event.size());
              return connected;
            };
            const auto send_json_event = [&](const Json& j) { return send("data: " + dump(j) + "\n\n"); };
            GenerationResult r;
            try {
              if (send_json_event(stream_chunk(endpoint, info, "", nullptr, true)))
                r = session_.generate(ids, request.generate, [&](const std::string& piece) {
                  return send_json_event(stream_chunk(endpoint, info, piece, nullptr, false));
                });
              else
                r.stopped_by = "cancelled";
            } catch (const Error& e) {
              send_json_event(error_body(400, e.what()));
              r.stopped_by = "cancelled";
            }
            busy_ = false;
            record(r);
            if (connected && r.stopped_by != "cancelled") {
              send_json_event(stream_chunk(endpoint, info, "", finish_reason(r), false));
              if (request.include_usage) {
                Json usage = stream_chunk(endpoint, info, "", nullptr, false);
                usage["choices"] = Json::array();
                usage["usage"] = usage_json(r);
                usage["timings"] = timings_json(r);
                send_json_event(usage);
              }
              send("data: [DONE]\n\n");
            }
            sink.done();
            return connected;
          });
    };
  };
  http_->Post("/v1/chat/completions", completion(Endpoint::ChatCompletions));
  http_->Post("/chat/completions", completion(Endpoint::ChatCompletions));
  http_->Post("/v1/completions", completion(Endpoint::Completions));
  http_->Post("/completions", completion(Endpoint::Completions));
}

}  // namespace llmnpu::server
