#pragma once
// The OpenAI API's request and response bodies for /v1/chat/completions and /v1/completions: parsing
// with every field's type and range checked (an ApiError with the HTTP status and the field's name),
// and the JSON of completions, stream chunks and errors. No HTTP here (server/http_server.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/session.h"
#include "tokenizer/chat_template.h"

namespace llmnpu::server {

// A request the API refuses: the HTTP status (4xx) and OpenAI's error body.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string param = "")
      : std::runtime_error(message), status(status), param(std::move(param)) {}
  int status;
  std::string param;  // the offending field, or empty
};

enum class Endpoint { ChatCompletions, Completions };

struct CompletionRequest {
  Endpoint endpoint = Endpoint::ChatCompletions;
  ChatRequest chat;                 // chat: messages, tools, template extras
  std::string prompt;               // completions: the prompt text
  std::vector<int32_t> prompt_ids;  // completions: a prompt given as token ids
  GenerateOptions generate;         // max_tokens, sampling, stop
  bool seed_given = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Parses a request body. context: the model's context (max_tokens beyond it is refused). Throws ApiError.
CompletionRequest parse_completion_request(Endpoint endpoint, const std::string& body, int context);

// OpenAI's finish_reason for a session's stopped_by.
const char* finish_reason(const GenerationResult& r);
// Completion tokens as OpenAI counts them (the end-of-text token is not one).
int completion_tokens(const GenerationResult& r, bool ended_by_end_of_text);

struct ResponseInfo {
  std::string id;  // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;
  std::string model;
};

// The whole (non-streamed) response body.
nlohmann::ordered_json completion_response(Endpoint endpoint, const ResponseInfo& info,
                                           const GenerationResult& r);
// One stream chunk: the first (role), a text piece, the last (finish_reason), or the usage chunk.
nlohmann::ordered_json stream_chunk(Endpoint endpoint, const ResponseInfo& info, const std::string& piece,
                                    const char* finish, bool first);
nlohmann::ordered_json usage_json(const GenerationResult& r);
nlohmann::ordered_json timings_json(const GenerationResult& r);
// {"error": {"message", "type", "param", "code"}}
nlohmann::ordered_json error_body(int status, const std::string& message, const std::string& param = "");

}  // namespace llmnpu::server
