// `llmnpu server` end to end on 127.0.0.1 with a free port: greedy text equals `llmnpu run`, streamed
// chunks concatenate to the whole text, concurrent clients all get complete answers, a client that drops
// mid-stream frees the server within a few tokens, and hostile requests get 4xx JSON errors while the
// server keeps serving. The official `openai` npm client, when installed, completes chat requests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/testdata.h"

namespace llmnpu {
namespace {

using Json = nlohmann::json;

// The server as a child process: started on a free port, stopped with SIGTERM.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& args) {
    log_ = test::temp_dir() + "/server-" + std::to_string(counter_++) + ".log";
    pid_ = fork();
    if (pid_ == 0) {
      const std::string cmd = "exec " + test::llmnpu_binary() + " server --port 0 " + args + " 2> " + log_;
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string log = read_log();
      const size_t at = log.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port_ = std::atoi(log.c_str() + at + 30);
    }
    EXPECT_GT(port_, 0) << read_log();
  }
  ~ServerProcess() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_log();
  }
  int port() const { return port_; }
  std::string read_log() const {
    std::ifstream in(log_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c;
  }

 private:
  static inline int counter_ = 0;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

const std::string& tiny_model() {
  static const std::string path = [] {
    const std::string p = test::temp_dir() + "/server-tiny.gguf";
    std::string out;
    EXPECT_EQ(
        test::run_command(test::llmnpu_binary() + " synth --shape tiny --layers 2 --seed 9 -o " + p, &out), 0)
        << out;
    return p;
  }();
  return path;
}

Json post(const httplib::Client& c_in, const std::string& path, const Json& body, int* status = nullptr) {
  httplib::Client& c = const_cast<httplib::Client&>(c_in);
  auto res = c.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(res) << path;
  if (!res) return Json();
  if (status) *status = res->status;
  return Json::parse(res->body);
}

// The text of a stream: every data event's delta content (chat) or text (completions), in order.
std::string stream_text(const std::string& events, bool* done = nullptr) {
  std::string text;
  std::istringstream in(events);
  std::string line;
  if (done) *done = false;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      if (done) *done = true;
      continue;
    }
    const Json j = Json::parse(data);
    for (const auto& choice : j["choices"]) {
      if (choice.contains("delta") && choice["delta"].contains("content")) text += choice["delta"]["content"];
      if (choice.contains("text")) text += choice["text"];
    }
  }
  return text;
}

std::string run_json_text(const std::string& prompt, int n) {
  std::string out;
  const std::string cmd = "( " + test::llmnpu_binary() + " run -m " + tiny_model() + " -p '" + prompt +
                          "' -n " + std::to_string(n) + " --temp 0 --json 2>/dev/null )";
  EXPECT_EQ(test::run_command(cmd, &out), 0) << out;
  return Json::parse(out)["text"];
}

TEST(Server, GreedyTextEqualsRunAndStreamsConcatenate) {
  ServerProcess server("-m " + tiny_model());
  auto c = server.client();
  const std::string prompt = "Once upon a time";
  const Json whole = post(c, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}});
  EXPECT_EQ(whole["object"], "text_completion");
  const std::string text = whole["choices"][0]["text"];
  EXPECT_EQ(text, run_json_text(prompt, 24));
  EXPECT_EQ(whole["usage"]["prompt_tokens"].get<int>() + whole["usage"]["completion_tokens"].get<int>(),
            whole["usage"]["total_tokens"].get<int>());

  // Chat: the ChatML prompt the server renders, given to `run`, continues the same way.
  const Json chat = post(
      c, "/v1/chat/completions",
      {{"messages", {{{"role", "user"}, {"content", "Hello"}}}}, {"max_tokens", 12}, {"temperature", 0}});
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["choices"][0]["message"]["role"], "assistant");
  const std::string chat_text = chat["choices"][0]["message"]["content"];
  EXPECT_EQ(chat_text, run_json_text("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", 12));

  for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
    const bool is_chat = std::string(path) == "/v1/chat/completions";
    Json body = {{"max_tokens", is_chat ? 12 : 24}, {"temperature", 0}, {"stream", true}};
    if (is_chat)
      body["messages"] = {{{"role", "user"}, {"content", "Hello"}}};
    else
      body["prompt"] = prompt;
    auto res = c.Post(path, body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
    bool done = false;
    EXPECT_EQ(stream_text(res->body, &done), is_chat ? chat_text : text) << res->body;
    EXPECT_TRUE(done);
  }
  // A continued conversation reuses the cached prefix.
  const Json again =
      post(c, "/v1/completions", {{"prompt", prompt + text}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_GT(again["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

TEST(Server, ConcurrentClientsAllGetCompleteAnswers) {
  ServerProcess server("-m " + tiny_model());
  std::vector<std::string> prompts, expected;
  for (int i = 0; i < 8; ++i) prompts.push_back("Client number " + std::to_string(i) + " asks");
  {
    auto c = server.client();
    for (const auto& p : prompts)
      expected.push_back(post(c, "/v1/completions",
                              {{"prompt", p}, {"max_tokens", 16}, {"temperature", 0}})["choices"][0]["text"]);
  }
  std::vector<std::string> got(8);
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&, i] {
      auto c = server.client();
      Json body = {
          {"prompt", prompts[size_t(i)]}, {"max_tokens", 16}, {"temperature", 0}, {"stream", i % 2 == 1}};
      auto res = c.Post("/v1/completions", body.dump(), "application/json");
      if (!res || res->status != 200) return;
      got[size_t(i)] = i % 2 == 1 ? stream_text(res->body)
                                  : Json::parse(res->body)["choices"][0]["text"].get<std::string>();
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[size_t(i)], expected[size_t(i)]) << "client " << i;
}

TEST(Server, ADroppedStreamFreesTheServer) {
  ServerProcess server("-m " + tiny_model() + " -c 4096");
  // A raw socket: ask for a long stream, read its first event, then hang up.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(server.port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string body = Json{
      {"prompt", "Tell a very long story"},
      {"max_tokens", 4000},
      {"stream", true},
      {"temperature", 0}}.dump();
  const std::string request =
      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(write(fd, request.data(), request.size()), ssize_t(request.size()));
  char buf[4096];
  std::string received;
  while (received.find("data: ") == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    received.append(buf, size_t(n));
  }
  close(fd);
  // The generation stops at its next writes instead of running to 4000 tokens; the server goes on.
  auto c = server.client();
  Json health;
  for (int i = 0; i < 200; ++i) {
    auto res = c.Get("/health");
    ASSERT_TRUE(res);
    health = Json::parse(res->body);
    if (health["cancelled"] == 1 && !health["busy"].get<bool>()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(health["cancelled"], 1) << health.dump();
  EXPECT_LT(health["generated_tokens"].get<int>(), 400) << health.dump();
  const Json after =
      post(c, "/v1/completions", {{"prompt", "Still there?"}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_EQ(after["choices"][0]["finish_reason"], "length");
}

TEST(Server, HostileRequestsGet4xxJsonAndTheServerGoesOn) {
  ServerProcess server("-m " + tiny_model() + " -c 256 --max-body 65536");
  auto c = server.client();
  const auto expect_error = [&](const std::string& method, const std::string& path, const std::string& body,
                                int status, const std::string& needle) {
    auto res = method == "GET" ? c.Get(path) : c.Post(path, body, "application/json");
    ASSERT_TRUE(res) << path << " " << body.substr(0, 80);
    EXPECT_EQ(res->status, status) << body.substr(0, 80) << " -> " << res->body;
    const Json j = Json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << res->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << res->body;
  };
  const std::string chat = "/v1/chat/completions";
  expect_error("POST", chat, "{not json", 400, "not valid JSON");
  expect_error("POST", chat, "[1, 2]", 400, "JSON object");
  expect_error("POST", chat, "{}", 400, "'messages' is required");
  expect_error("POST", chat, R"({"messages": "hi"})", 400, "'messages' must be a list");
  expect_error("POST", chat, R"({"messages": []})", 400, "must not be empty");
  expect_error("POST", chat, R"({"messages": [{"role": 1, "content": "x"}]})", 400, "role must be a string");
  expect_error("POST", chat, R"({"messages": [{"role": "user", "content": 5}]})", 400, "content must be");
  const std::string ok = R"("messages": [{"role": "user", "content": "x"}])";
  expect_error("POST", chat, "{" + ok + R"(, "max_tokens": -1})", 400, "'max_tokens' must be from 0");
  expect_error("POST", chat, "{" + ok + R"(, "max_tokens": 99999999999999})", 400,
               "'max_tokens' must be from 0");
  expect_error("POST", chat, "{" + ok + R"(, "max_tokens": "ten"})", 400, "'max_tokens' must be an integer");
  expect_error("POST", chat, "{" + ok + R"(, "temperature": "hot"})", 400, "'temperature' must be a number");
  expect_error("POST", chat, "{" + ok + R"(, "top_p": 0})", 400, "'top_p' must be above 0");
  expect_error("POST", chat, "{" + ok + R"(, "stream": "yes"})", 400, "'stream' must be true or false");
  expect_error("POST", chat, "{" + ok + R"(, "stop": [1]})", 400, "'stop' must be a string");
  expect_error("POST", chat, "{" + ok + R"(, "stop": ""})", 400, "stop string must not be empty");
  expect_error("POST", chat, "{" + ok + R"(, "n": 3})", 400, "'n' must be");
  expect_error("POST", chat, "{" + ok + R"(, "seed": 1.5})", 400, "'seed' must be an integer");
  expect_error("POST", "/v1/completions", R"({"prompt": 7})", 400, "'prompt' must be");
  expect_error("POST", "/v1/completions", R"({"prompt": [1, 99999]})", 400, "outside the vocabulary");
  expect_error("POST", "/v1/completions", R"({"prompt": ")" + std::string(3000, 'a') + R"("})", 400,
               "does not fit in the context");
  expect_error("POST", "/v1/completions", R"({"prompt": "\ud800"})", 400, "");
  expect_error("GET", "/v1/nothing", "", 404, "no route");
  expect_error("POST", "/v1/models", "{}", 404, "no route");
  expect_error("POST", chat, "{" + ok + R"(, "pad": ")" + std::string(100000, 'x') + "\"}", 413, "too large");
  // Still serving.
  const Json fine = post(c, chat, Json::parse("{" + ok + R"(, "max_tokens": 3, "temperature": 0})"));
  EXPECT_EQ(fine["choices"][0]["finish_reason"], "length");
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(Json::parse(health->body)["status"], "ok");
}

// The official openai npm client (installed by scripts/test.sh into build/npm) against the server.
TEST(Server, OfficialOpenAiNodeClient) {
  const std::string module = std::string(LLMNPU_SOURCE_DIR) + "/build/npm/node_modules/openai/package.json";
  if (!std::ifstream(module)) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true")
      FAIL() << "CI=true but the openai npm package is missing: " << module;
    GTEST_SKIP() << "openai npm package not installed (scripts/test.sh installs it into build/npm)";
  }
  ServerProcess server("-m " + tiny_model());
  std::string out;
  const int rc = test::run_command(
      "NODE_PATH=" + std::string(LLMNPU_SOURCE_DIR) + "/build/npm/node_modules node " +
          std::string(LLMNPU_SOURCE_DIR) +
          "/tests/server/openai_client.cjs http://127.0.0.1:" + std::to_string(server.port()) + "/v1",
      &out);
  EXPECT_EQ(rc, 0) << out;
  const size_t at = out.find('{');
  ASSERT_NE(at, std::string::npos) << out;
  const Json result = Json::parse(out.substr(at));
  EXPECT_EQ(result["streamed"], result["whole"]) << out;
  EXPECT_GT(result["whole"].get<std::string>().size(), 0u);
  EXPECT_EQ(result["finish_reason"], "length");
  EXPECT_EQ(result["model"], "server-tiny.gguf");
}

}  // namespace
}  // namespace llmnpu
