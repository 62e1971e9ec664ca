#include "server/openai_api.h"

#include <cmath>
#include <random>

#include "core/error.h"

namespace llmnpu::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxStopStrings = 16;
constexpr int kMaxMessages = 100000;

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, param);
}

double number_field(const Json& body, const char* name, double lo, double hi, bool lo_open, double fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const Json& v = body[name];
  if (!v.is_number()) bad(name, str("'", name, "' must be a number"));
  const double d = v.get<double>();
  if (!std::isfinite(d) || (lo_open ? d <= lo : d < lo) || d > hi)
    bad(name,
        str("'", name, "' must be ", lo_open ? "above " : "from ", lo, lo_open ? " up to " : " to ", hi));
  return d;
}

int64_t integer_field(const Json& body, const char* name, int64_t lo, int64_t hi, int64_t fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const Json& v = body[name];
  if (!v.is_number_integer() && !v.is_number_unsigned()) bad(name, str("'", name, "' must be an integer"));
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi))
    bad(name, str("'", name, "' must be from ", lo, " to ", hi));
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) bad(name, str("'", name, "' must be from ", lo, " to ", hi));
  return i;
}

bool bool_field(const Json& body, const char* name, bool fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_boolean()) bad(name, str("'", name, "' must be true or false"));
  return body[name].get<bool>();
}

std::vector<std::string> stop_field(const Json& body) {
  std::vector<std::string> stops;
  if (!body.contains("stop") || body["stop"].is_null()) return stops;
  const Json& v = body["stop"];
  if (v.is_string()) {
    stops.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > size_t(kMaxStopStrings))
      bad("stop", str("'stop' takes at most ", kMaxStopStrings, " strings"));
    for (const Json& s : v) {
      if (!s.is_string()) bad("stop", "'stop' must be a string or a list of strings");
      stops.push_back(s.get<std::string>());
    }
  } else {
    bad("stop", "'stop' must be a string or a list of strings");
  }
  for (const auto& s : stops)
    if (s.empty()) bad("stop", "a stop string must not be empty");
  return stops;
}

void check_messages(const Json& messages) {
  if (!messages.is_array()) bad("messages", "'messages' must be a list of messages");
  if (messages.empty()) bad("messages", "'messages' must not be empty");
  if (messages.size() > size_t(kMaxMessages)) bad("messages", "too many messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = str("messages[", i, "]");
    if (!m.is_object()) bad(where, where + " must be an object");
    if (!m.contains("role") || !m["role"].is_string()) bad(where + ".role", where + ".role must be a string");
    if (m.contains("content")) {
      const Json& c = m["content"];
      if (c.is_array()) {
        for (const Json& part : c)
          if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
            bad(where + ".content", where + ".content parts must be objects with a 'type'");
      } else if (!c.is_string() && !c.is_null()) {
        bad(where + ".content", where + ".content must be a string, a list of parts or null");
      }
    }
  }
}

}  // namespace

CompletionRequest parse_completion_request(Endpoint endpoint, const std::string& body, int context) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(400, str("the body is not valid JSON: ", e.what()));
  }
  if (!j.is_object()) bad("", "the body must be a JSON object");
  CompletionRequest r;
  r.endpoint = endpoint;
  if (endpoint == Endpoint::ChatCompletions) {
    if (!j.contains("messages")) bad("messages", "'messages' is required");
    check_messages(j["messages"]);
    r.chat.messages = j["messages"];
    if (j.contains("tools") && !j["tools"].is_null()) {
      if (!j["tools"].is_array()) bad("tools", "'tools' must be a list");
      r.chat.tools = j["tools"];
    }
    // Template variables beyond the standard ones (as llama-server's chat_template_kwargs).
    if (j.contains("chat_template_kwargs") && !j["chat_template_kwargs"].is_null()) {
      if (!j["chat_template_kwargs"].is_object())
        bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
      r.chat.extras = j["chat_template_kwargs"];
    }
    r.chat.add_generation_prompt = true;
  } else {
    if (!j.contains("prompt")) bad("prompt", "'prompt' is required");
    const Json& p = j["prompt"];
    if (p.is_string()) {
      r.prompt = p.get<std::string>();
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
      r.prompt = p[0].get<std::string>();
    } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
      for (const Json& id : p) {
        if (!id.is_number_integer()) bad("prompt", "a token-id prompt must hold only integers");
        const int64_t v = id.get<int64_t>();
        if (v < 0 || v > INT32_MAX) bad("prompt", "token ids must be non-negative 32-bit integers");
        r.prompt_ids.push_back(int32_t(v));
      }
    } else {
      bad("prompt", "'prompt' must be a string or a list of token ids (one prompt per request)");
    }
    if (r.prompt.empty() && r.prompt_ids.empty()) bad("prompt", "'prompt' must not be empty");
    if (bool_field(j, "echo", false)) bad("echo", "'echo' is not supported");
  }
  if (integer_field(j, "n", 1, 1, 1) != 1) bad("n", "'n' must be 1");
  // max_tokens (max_completion_tokens is the newer chat name). -1 is not OpenAI's; refuse negatives.
  const char* max_name = j.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  r.generate.max_tokens = int(integer_field(j, max_name, 0, context, -1));
  r.generate.sampling.temperature = float(number_field(j, "temperature", 0, 100, false, 1.0));
  r.generate.sampling.top_p = float(number_field(j, "top_p", 0, 1, true, 1.0));
  r.generate.sampling.top_k = int(integer_field(j, "top_k", 0, int64_t(1) << 24, 0));
  if (j.contains("seed") && !j["seed"].is_null()) {
    const Json& s = j["seed"];
    if (!s.is_number_integer() && !s.is_number_unsigned()) bad("seed", "'seed' must be an integer");
    r.generate.sampling.seed = s.is_number_unsigned() ? s.get<uint64_t>() : uint64_t(s.get<int64_t>());
    r.seed_given = true;
  } else {
    r.generate.sampling.seed = std::random_device{}();
  }
  r.generate.stop = stop_field(j);
  r.stream = bool_field(j, "stream", false);
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    if (!j["stream_options"].is_object()) bad("stream_options", "'stream_options' must be an object");
    r.include_usage = bool_field(j["stream_options"], "include_usage", false);
  }
  return r;
}

const char* finish_reason(const GenerationResult& r) {
  if (r.stopped_by == "end of text" || r.stopped_by == "stop string") return "stop";
  return "length";
}

int completion_tokens(const GenerationResult& r, bool ended_by_end_of_text) {
  const int n = int(r.generated.size());
  return ended_by_end_of_text && n > 0 ? n - 1 : n;
}

Json usage_json(const GenerationResult& r) {
  const int completion = completion_tokens(r, r.stopped_by == "end of text");
  return Json{{"prompt_tokens", r.prompt_tokens},
              {"completion_tokens", completion},
              {"total_tokens", r.prompt_tokens + completion},
              {"prompt_tokens_details", {{"cached_tokens", r.reused_tokens}}}};
}

// llama-server's timings object, with the processors the prefill ran on.
Json timings_json(const GenerationResult& r) {
  Json lanes = Json::array();
  for (const auto& lane : r.lanes)
    lanes.push_back({{"processor", lane.name}, {"busy_share", lane.busy_share}});
  return Json{{"cache_n", r.reused_tokens},
              {"prompt_n", r.prefilled_tokens},
              {"prompt_ms", r.prefill_seconds * 1e3},
              {"prompt_per_second", r.prompt_tokens_per_second()},
              {"predicted_n", int(r.generated.size())},
              {"predicted_ms", r.generation_seconds * 1e3},
              {"predicted_per_second", r.generation_tokens_per_second()},
              {"time_to_first_token_ms", r.first_token_seconds * 1e3},
              {"lanes", lanes}};
}

Json completion_response(Endpoint endpoint, const ResponseInfo& info, const GenerationResult& r) {
  Json choice{{"index", 0}};
  if (endpoint == Endpoint::ChatCompletions)
    choice["message"] = {{"role", "assistant"}, {"content", r.text}};
  else
    choice["text"] = r.text;
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason(r);
  return Json{{"id", info.id},
              {"object", endpoint == Endpoint::ChatCompletions ? "chat.completion" : "text_completion"},
              {"created", info.created},
              {"model", info.model},
              {"choices", Json::array({choice})},
              {"usage", usage_json(r)},
              {"timings", timings_json(r)}};
}

Json stream_chunk(Endpoint endpoint, const ResponseInfo& info, const std::string& piece, const char* finish,
                  bool first) {
  Json choice{{"index", 0}};
  if (endpoint == Endpoint::ChatCompletions) {
    Json delta = Json::object();
    if (first) delta["role"] = "assistant";
    if (!finish) delta["content"] = piece;
    choice["delta"] = delta;
  } else {
    choice["text"] = piece;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish ? Json(finish) : Json(nullptr);
  return Json{{"id", info.id},
              {"object", endpoint == Endpoint::ChatCompletions ? "chat.completion.chunk" : "text_completion"},
              {"created", info.created},
              {"model", info.model},
              {"choices", Json::array({choice})}};
}

Json error_body(int status, const std::string& message, const std::string& param) {
  const char* type = status == 404   ? "not_found_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  return Json{{"error",
               {{"message", message},
                {"type", type},
                {"param", param.empty() ? Json(nullptr) : Json(param)},
                {"code", status}}}};
}

}  // namespace llmnpu::server
