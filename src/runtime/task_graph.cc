#include "runtime/task_graph.h"

#include <algorithm>

#include "core/error.h"

namespace llmnpu {

TaskGraph::TaskGraph(const std::vector<Subgraph>& per_chunk, int chunks, std::vector<bool> head_for_chunk)
    : subs_(per_chunk), chunks_(chunks), head_(std::move(head_for_chunk)) {
  check(int(head_.size()) == chunks, "task graph: head flags for ", head_.size(), " chunks, expected ",
        chunks);
  done_.assign(size_t(chunks) * subs_.size(), false);
  started_ = done_;
  chunk_remaining_.assign(size_t(chunks), 0);
  chunk_started_.assign(size_t(chunks), false);
  for (int i = 0; i < chunks; ++i)
    for (int j = 0; j < int(subs_.size()); ++j)
      if (needed({i, j})) {
        ++total_;
        ++chunk_remaining_[size_t(i)];
      }
  for (int i = 0; i < chunks; ++i)
    if (deps_done({i, 0}, {-1, -1})) ready_.push_back({i, 0});
}

bool TaskGraph::needed(TaskId t) const { return !subs_[size_t(t.sub)].head || head_[size_t(t.chunk)]; }

bool TaskGraph::deps_done(TaskId t, TaskId assume) const {
  auto done = [&](TaskId d) { return d == assume || is_done(d); };
  if (t.sub > 0 && !done({t.chunk, t.sub - 1})) return false;
  if (subs_[size_t(t.sub)].chains_chunks && t.chunk > 0 && !done({t.chunk - 1, t.sub})) return false;
  return true;
}

std::vector<TaskId> TaskGraph::successors(TaskId t) const {
  std::vector<TaskId> out;
  if (t.sub + 1 < int(subs_.size()) && needed({t.chunk, t.sub + 1})) out.push_back({t.chunk, t.sub + 1});
  if (subs_[size_t(t.sub)].chains_chunks && t.chunk + 1 < chunks_) out.push_back({t.chunk + 1, t.sub});
  return out;
}

std::vector<TaskId> TaskGraph::unlocked_by(TaskId t) const {
  std::vector<TaskId> out;
  for (TaskId s : successors(t))
    if (!is_done(s) && !started_[index(s)] && deps_done(s, t)) out.push_back(s);
  return out;
}

bool TaskGraph::chunk_finished(int chunk) const { return chunk_remaining_[size_t(chunk)] == 0; }

int TaskGraph::oldest_unfinished_chunk() const {
  for (int i = 0; i < chunks_; ++i)
    if (chunk_remaining_[size_t(i)] > 0) return i;
  return chunks_;
}

void TaskGraph::start(TaskId t) {
  auto it = std::find(ready_.begin(), ready_.end(), t);
  check(it != ready_.end(), "scheduler started a task that is not ready");
  ready_.erase(it);
  started_[index(t)] = true;
  if (!chunk_started_[size_t(t.chunk)]) {
    chunk_started_[size_t(t.chunk)] = true;
    ++in_flight_;
  }
}

void TaskGraph::complete(TaskId t) {
  std::vector<TaskId> unlocked = unlocked_by(t);
  done_[index(t)] = true;
  ++done_count_;
  if (--chunk_remaining_[size_t(t.chunk)] == 0) --in_flight_;
  for (TaskId s : unlocked) ready_.push_back(s);
}

}  // namespace llmnpu
