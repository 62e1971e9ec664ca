#pragma once
// Memory a command will need, estimated from a model file's header before anything is loaded, and the
// memory the machine has for it: a model too large for the machine is refused with both numbers instead
// of being killed halfway. The factors come from measured peaks (docs/memory.md).
#include <cstdint>
#include <string>

namespace llmnpu {

struct SynthOptions;  // model/synth.h

struct MemoryEstimate {
  uint64_t bytes = 0;  // 0: no estimate (a format the estimate does not read)
  std::string what;    // how it was reached, for the error message
};

// Running a model: its weights as the engine holds them plus the KV cache of `context` tokens (0: the
// model's context length). GGUF files only (float or prepared); other formats get no estimate.
MemoryEstimate estimate_run_memory(const std::string& model_path, int context);
// `llmnpu prepare` of a float model with its matrices streamed (PrepareOptions::stream_weights): the
// prepared weights it builds, the held-out measurement's head and logits over `window` tokens, buffers;
// not streamed, the model converted to fp32 as well.
MemoryEstimate estimate_prepare_memory(const std::string& model_path, int window = 512, bool streamed = true);

// A synthetic shape built whole in memory (synth --format hf, sim --validate --shape): its fp32 weights
// and buffers.
MemoryEstimate estimate_synth_memory(const SynthOptions& options);

// MemAvailable + SwapFree from /proc/meminfo, capped by a cgroup v2 memory.max; 0 when unknown.
// LLMNPU_MEMORY_AVAILABLE (bytes, or with a K/M/G suffix) overrides it (tests, containers).
uint64_t available_memory_bytes();

// Throws Error when the estimate exceeds the available memory, naming both and the flag that skips it.
void check_memory(const MemoryEstimate& need, const std::string& action);

}  // namespace llmnpu
