#pragma once
// The dependency graph of a chunked prefill, as in the paper: task (i, j) is subgraph j of chunk i.
//   (i, j) needs (i, j-1)                      (the chunk's own data flow)
//   Attention(i, l) needs Attention(i-1, l)    (the KV of every earlier chunk is in the cache)
// Head runs only for chunks whose logits are wanted. The graph tracks which tasks are ready and what
// each completion unlocks; schedulers (real or simulated) pick among the ready ones.
#include <cstdint>
#include <vector>

#include "graph/subgraph.h"

namespace llmnpu {

struct TaskId {
  int chunk = 0;
  int sub = 0;  // index into the per-chunk subgraph list
  bool operator==(const TaskId&) const = default;
};

// Bounds the activation memory of a prefill (every chunk in flight holds its buffers: ~13 MiB per chunk of
// 256 rows for qwen2.5-0.5b) without costing ooo its freedom: attention serialises chunks layer by
// layer, so work further ahead than a few chunks cannot run anyway (measured: see docs/backend.md).
constexpr int kDefaultMaxChunksInFlight = 4;

class TaskGraph {
 public:
  // head_for_chunk[i]: whether chunk i runs its Head subgraph.
  TaskGraph(const std::vector<Subgraph>& per_chunk, int chunks, std::vector<bool> head_for_chunk);

  int chunks() const { return chunks_; }
  int subgraphs_per_chunk() const { return int(subs_.size()); }
  const Subgraph& subgraph(TaskId t) const { return subs_[size_t(t.sub)]; }
  bool needed(TaskId t) const;  // false for a Head that is skipped
  int total_tasks() const { return total_; }
  int done_tasks() const { return done_count_; }
  bool finished() const { return done_count_ == total_; }
  bool chunk_finished(int chunk) const;
  bool completed(TaskId t) const { return done_[index(t)]; }
  // A chunk is in flight from its first task's start until its last task completes; its activation
  // buffers exist that long. A chunk may start only while fewer than max_chunks_in_flight() are.
  int chunks_in_flight() const { return in_flight_; }
  bool chunk_started(int chunk) const { return chunk_started_[size_t(chunk)]; }
  int max_chunks_in_flight() const { return max_in_flight_; }
  void set_max_chunks_in_flight(int n) { max_in_flight_ = n > 0 ? n : 1; }
  bool may_start(TaskId t) const { return chunk_started(t.chunk) || in_flight_ < max_in_flight_; }
  int oldest_unfinished_chunk() const;  // chunks() when all are finished

  const std::vector<TaskId>& ready() const { return ready_; }
  // Tasks that would become ready if t finished now (given what is done already).
  std::vector<TaskId> unlocked_by(TaskId t) const;
  void start(TaskId t);     // removes t from the ready list
  void complete(TaskId t);  // marks t done, adds newly ready tasks

 private:
  bool is_done(TaskId t) const { return done_[index(t)]; }
  bool deps_done(TaskId t, TaskId assume_done) const;
  size_t index(TaskId t) const { return size_t(t.chunk) * subs_.size() + size_t(t.sub); }
  std::vector<TaskId> successors(TaskId t) const;

  std::vector<Subgraph> subs_;
  int chunks_;
  std::vector<bool> head_;
  std::vector<bool> done_, started_;
  std::vector<TaskId> ready_;
  std::vector<int> chunk_remaining_;
  std::vector<bool> chunk_started_;
  int total_ = 0, done_count_ = 0;
  int in_flight_ = 0, max_in_flight_ = kDefaultMaxChunksInFlight;
};

}  // namespace llmnpu
