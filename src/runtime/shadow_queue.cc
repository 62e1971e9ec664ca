#include "runtime/shadow_queue.h"

#include "core/error.h"
#include "core/timer.h"

namespace llmnpu {

ShadowQueue::ShadowQueue(int host_lane, int accelerator_lane, double origin, size_t min_work)
    : host_lane_(host_lane), accelerator_lane_(accelerator_lane), origin_(origin), min_work_(min_work) {}

int ShadowQueue::post(std::function<void(ThreadPool*)> fn, std::string label) {
  int ticket;
  {
    std::lock_guard lock(mutex_);
    ticket = int(jobs_.size());
    auto job = std::make_unique<Job>();
    job->fn = std::move(fn);
    job->label = std::move(label);
    jobs_.push_back(std::move(job));
    pending_.push_back(ticket);
    ++stats_.jobs;
  }
  if (wake_) wake_();
  return ticket;
}

void ShadowQueue::run(Job& job, ThreadPool* pool, int lane, std::unique_lock<std::mutex>& lock) {
  job.state = State::Running;
  lock.unlock();
  const double start = now_seconds();
  std::exception_ptr failure;
  try {
    job.fn(pool);
  } catch (...) {
    failure = std::current_exception();
  }
  const double end = now_seconds();
  lock.lock();
  job.state = State::Done;
  job.failure = failure;
  job.fn = nullptr;
  const bool host = lane == host_lane_;
  (host ? stats_.on_host : stats_.on_accelerator) += 1;
  (host ? stats_.host_seconds : stats_.accelerator_seconds) += end - start;
  TraceSlice slice;
  slice.lane = lane;
  slice.name = job.label + " shadow";
  slice.kind = host ? "shadow" : "shadow (inline)";
  slice.nested = !host;  // inside the accelerator's own subgraph slice
  slice.start = start - origin_;
  slice.duration = end - start;
  slices_.push_back(std::move(slice));
  done_.notify_all();
}

bool ShadowQueue::run_one(ThreadPool* pool) {
  std::unique_lock lock(mutex_);
  while (!pending_.empty()) {
    const int ticket = pending_.front();
    pending_.pop_front();
    Job& job = *jobs_[size_t(ticket)];
    if (job.state != State::Pending) continue;  // taken back by the accelerator
    run(job, pool, host_lane_, lock);
    return true;
  }
  return false;
}

void ShadowQueue::join(int ticket, ThreadPool* pool) {
  std::unique_lock lock(mutex_);
  check(ticket >= 0 && size_t(ticket) < jobs_.size(), "shadow queue: unknown ticket ", ticket);
  Job& job = *jobs_[size_t(ticket)];
  if (job.state == State::Pending) run(job, pool, accelerator_lane_, lock);
  done_.wait(lock, [&] { return job.state == State::Done; });
  if (job.failure) std::rethrow_exception(job.failure);
}

ShadowQueue::Stats ShadowQueue::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::vector<TraceSlice> ShadowQueue::take_slices() {
  std::lock_guard lock(mutex_);
  return std::move(slices_);
}

}  // namespace llmnpu
