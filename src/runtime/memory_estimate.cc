#include "runtime/memory_estimate.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "format/gguf.h"
#include "model/synth.h"

namespace llmnpu {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Measured peaks (docs/memory.md): `run` of a prepared file 1.2x its size (the mapped int8 weights, the
// int8 decode head quantized at load, about 1/4 of the F16 head's bytes, and buffers; the F16 head's
// pages are let go once it is built).
constexpr double kPreparedRunPerFileByte = 1.35;
// `run` of a float model: 1.02x its fp32 bytes (the weights, packed GEMM panels for a chunk, buffers).
constexpr double kFloatRunPerFloatByte = 1.1;
// `prepare` streams the float matrices from the file (a block of rows at a time), so what it holds is
// what it makes: the prepared linears (the packed int8 weights, plus warm and hot F16 rows; 1.1 bytes per
// weight fits the measured peaks with the rest of the calibration state), the in-memory prepared head of
// the held-out measurement (its F16 copy and the int8 head, 3 bytes per embedding weight; an F16 source's
// head is read from the map instead, so this is margin there), the held-out reference's
// log-probabilities over a window and one chunk's logits (1.25 x window x vocab floats), the KV caches of
// its three engines, and the process with its buffers.
constexpr double kPreparePerWeight = 1.1, kPreparePerHeadWeight = 3.0, kPrepareLogitRows = 1.25;
constexpr uint64_t kPrepareProcessBytes = uint64_t(400) << 20;
constexpr uint64_t kPrepareEngines = 3;
// A synthetic model built in memory: its fp32 weights, the float graph and the process.
constexpr uint64_t kSynthBufferBytes = uint64_t(512) << 20;

struct Header {
  bool prepared = false;
  uint64_t elements = 0;  // every tensor's element count
  uint64_t vocab = 0, embedding_elements = 0;
  uint64_t file_bytes = 0;
  uint64_t kv_bytes_per_token = 0;
  int context = 0;
};

bool read_header(const std::string& path, Header& h) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  try {
    const GgufFile f(path);
    h.file_bytes = f.file_size();
    for (const auto& t : f.tensors()) h.elements += t.elements();
    if (const GgufTensor* e = f.find_tensor("token_embd.weight"); e && e->dims.size() == 2) {
      h.embedding_elements = e->elements();
      h.vocab = e->dims[1];
    }
    for (const auto& [key, value] : f.metadata())
      if (key.rfind("llmnpu.prepared.", 0) == 0) h.prepared = true;
    const std::string p = f.get_string("general.architecture", "llama") + ".";
    const int64_t layers = f.get_int(p + "block_count", 0), dim = f.get_int(p + "embedding_length", 0);
    const int64_t heads = std::max<int64_t>(1, f.get_int(p + "attention.head_count", 1));
    const int64_t kv_heads = f.get_int(p + "attention.head_count_kv", heads);
    const int64_t head_dim = f.get_int(p + "attention.key_length", dim / heads);
    if (layers > 0 && kv_heads > 0 && head_dim > 0)
      h.kv_bytes_per_token = uint64_t(2 * layers * kv_heads * head_dim) * sizeof(float);
    h.context = int(std::clamp<int64_t>(f.get_int(p + "context_length", 2048), 1, int64_t(1) << 24));
    return true;
  } catch (const Error&) {
    return false;  // the loader reports what is wrong with the file
  }
}

uint64_t parse_bytes(const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  check(end != text && value >= 0, "LLMNPU_MEMORY_AVAILABLE: '", text, "' is not a size in bytes");
  double scale = 1;
  if (*end == 'K' || *end == 'k') scale = 1024.0, ++end;
  if (*end == 'M' || *end == 'm') scale = 1024.0 * 1024.0, ++end;
  if (*end == 'G' || *end == 'g') scale = kGiB, ++end;
  check(*end == '\0', "LLMNPU_MEMORY_AVAILABLE: '", text, "' is not a size (a number, K, M or G)");
  return uint64_t(value * scale);
}

// A "Key:   123 kB" field of /proc/meminfo, in bytes; 0 when absent.
uint64_t meminfo_field(const std::string& text, const std::string& key) {
  const size_t at = text.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  std::istringstream in(text.substr(at + key.size() + 2));
  uint64_t kb = 0;
  in >> kb;
  return kb * 1024;
}

uint64_t read_number_file(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return 0;
  return std::strtoull(word.c_str(), nullptr, 10);
}

std::string gib(uint64_t bytes) {
  std::ostringstream s;
  s.precision(1);
  if (double(bytes) >= 0.1 * kGiB)
    s << std::fixed << double(bytes) / kGiB << " GiB";
  else
    s << std::fixed << double(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

}  // namespace

MemoryEstimate estimate_run_memory(const std::string& model_path, int context) {
  Header h;
  if (!read_header(model_path, h)) return {};
  const int tokens = context > 0 ? context : h.context;
  const uint64_t kv = h.kv_bytes_per_token * uint64_t(tokens);
  MemoryEstimate e;
  if (h.prepared) {
    e.bytes = uint64_t(kPreparedRunPerFileByte * double(h.file_bytes)) + kv;
    e.what = str("prepared weights ", gib(uint64_t(kPreparedRunPerFileByte * double(h.file_bytes))),
                 " + KV cache of ", tokens, " tokens ", gib(kv));
  } else {
    const uint64_t weights = uint64_t(kFloatRunPerFloatByte * double(h.elements * sizeof(float)));
    e.bytes = weights + kv;
    e.what = str("weights in fp32 ", gib(weights), " + KV cache of ", tokens, " tokens ", gib(kv));
  }
  return e;
}

MemoryEstimate estimate_prepare_memory(const std::string& model_path, int window, bool streamed) {
  Header h;
  if (!read_header(model_path, h) || h.prepared) return {};
  const uint64_t linears = uint64_t(kPreparePerWeight * double(h.elements));
  const uint64_t head = uint64_t(kPreparePerHeadWeight * double(h.embedding_elements));
  const uint64_t logits = uint64_t(kPrepareLogitRows * double(std::max(window, 1)) * double(h.vocab) * 4);
  // The held-out measurement's engines (float reference, prepared, per-block-32 baseline), each with the
  // KV cache of a window.
  const uint64_t caches = kPrepareEngines * h.kv_bytes_per_token * uint64_t(std::max(window, 1));
  MemoryEstimate e;
  const uint64_t converted = streamed ? 0 : h.elements * sizeof(float);
  e.bytes = linears + head + logits + caches + kPrepareProcessBytes + converted;
  e.what = str("prepared weights ", gib(linears), " + held-out head ", gib(head), " and logits ", gib(logits),
               " + KV caches ", gib(caches), " + buffers ", gib(kPrepareProcessBytes),
               streamed ? std::string() : str(" + the model converted to fp32 ", gib(converted)));
  return e;
}

MemoryEstimate estimate_synth_memory(const SynthOptions& options) {
  const uint64_t weights = synth_float_bytes(options);
  return {weights + kSynthBufferBytes,
          str("the fp32 model ", gib(weights), " + buffers ", gib(kSynthBufferBytes))};
}

uint64_t available_memory_bytes() {
  if (const char* forced = std::getenv("LLMNPU_MEMORY_AVAILABLE")) return parse_bytes(forced);
  std::ifstream in("/proc/meminfo");
  if (!in) return 0;
  std::ostringstream s;
  s << "\n" << in.rdbuf();
  uint64_t available = meminfo_field(s.str(), "MemAvailable");
  if (available == 0) return 0;
  available += meminfo_field(s.str(), "SwapFree");
  // A container's own limit (cgroup v2), when it has one.
  const uint64_t limit = read_number_file("/sys/fs/cgroup/memory.max");
  if (limit > 0) {
    const uint64_t used = read_number_file("/sys/fs/cgroup/memory.current");
    available = std::min(available, limit > used ? limit - used : 0);
  }
  return available;
}

void check_memory(const MemoryEstimate& need, const std::string& action) {
  if (need.bytes == 0) return;
  const uint64_t available = available_memory_bytes();
  if (available == 0) return;
  check(need.bytes <= available, action, " needs about ", gib(need.bytes), " of memory (", need.what,
        ") and ", gib(available), " is available; --no-memory-check tries anyway");
}

}  // namespace llmnpu
