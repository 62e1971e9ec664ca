#pragma once
// Chunked prefill on processors: the prompt is cut into fixed-length chunks (the last one padded),
// every chunk becomes the model's per-chunk subgraphs, and a scheduling policy hands ready subgraphs
// to free processors. The result (logits, KV cache) is the same for every policy, bit for bit.
#include <memory>
#include <vector>

#include "runtime/engine.h"
#include "runtime/processor.h"
#include "runtime/schedule_policy.h"
#include "runtime/shadow_queue.h"
#include "runtime/trace.h"

namespace llmnpu {

struct PrefillPlan {
  int chunk_len = 256;
  SchedulePolicy policy = SchedulePolicy::OutOfOrder;
  // Heterogeneous topology: int8 linears hand their shadow work to the host role (runtime/shadow_queue.h)
  // instead of doing it on the accelerator's threads. Logits are the same either way.
  bool shadow_on_host = true;
  size_t shadow_min_work = 64 * 1024;  // smaller calls keep their shadow work inline (ShadowSink::min_work)
};

class ChunkedPrefill {
 public:
  ChunkedPrefill(Engine& engine, const Topology& topology);

  // Appends tokens to the engine's cache; returns the last token's logits. on_logits as Engine::prefill.
  std::vector<float> run(const std::vector<int32_t>& tokens, const PrefillPlan& plan, Trace* trace = nullptr,
                         const LogitsCallback& on_logits = nullptr);

  // Load-time profile: a throwaway prefill of up to two chunks of synthetic tokens (then forgotten: the
  // cache position is restored) that touches the weights once and seeds the latency model the ooo policy
  // ranks subgraphs with. Returns its wall time in seconds (0 when the context has no room).
  double profile(int chunk_len, SchedulePolicy policy);

  // The buffers kept from earlier chunks, handed to another ChunkedPrefill on the same engine (the
  // load-time probes pass them on rather than each holding its own).
  std::vector<AlignedArray<float>> take_buffers() { return std::move(spare_buffers_); }
  void adopt_buffers(std::vector<AlignedArray<float>> buffers) { spare_buffers_ = std::move(buffers); }

  const Topology& topology() const { return topology_; }
  // Where the last run's shadow work ran (zeros when it stayed inline).
  const ShadowQueue::Stats& shadow_stats() const { return shadow_stats_; }
  LatencyModel& latency() { return latency_; }

 private:
  Engine& engine_;
  Topology topology_;
  std::vector<std::unique_ptr<Processor>> processors_;
  LatencyModel latency_;
  ShadowQueue::Stats shadow_stats_;
  // Buffers of finished chunks, kept for the next chunks and the next prefill: allocated (and their pages
  // faulted in) once, at the same addresses every run, however long the process lives.
  std::vector<AlignedArray<float>> spare_buffers_;
};

}  // namespace llmnpu
