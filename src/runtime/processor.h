#pragma once
// A processor: a worker thread (plus helper threads of its own pool, pinned to its cores) that runs one
// subgraph at a time. Its roles say what it may run: the accelerator role runs integer static
// subgraphs, the host role runs float ones. On this machine both are CPU cores; a vendor NPU would be a
// processor whose work is submitted to the NPU driver instead.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/schedule_policy.h"

namespace llmnpu {

class Processor {
 public:
  Processor(std::string name, ProcessorView roles, int threads, std::vector<int> cores);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  const std::string& name() const { return name_; }
  const ProcessorView& roles() const { return roles_; }
  int threads() const { return threads_; }
  // Runs job(pool) on the processor's thread; returns at once. One job at a time.
  void submit(std::function<void(ThreadPool*)> job);
  // Work the processor does between jobs, before its next job: work(pool) runs one piece and returns
  // whether there was one. wake() says new idle work may be there. Clearing it (null) waits until the
  // processor is not inside it.
  void set_idle_work(std::function<bool(ThreadPool*)> work);
  void wake();

 private:
  void loop();
  std::string name_;
  ProcessorView roles_;
  int threads_;
  std::vector<int> cores_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void(ThreadPool*)> job_;
  std::function<bool(ThreadPool*)> idle_work_;
  bool poked_ = false, in_idle_work_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// How the cores are split: heterogeneous (an accelerator processor and a host processor running
// concurrently) or homogeneous (one processor with every core runs all subgraphs in turn).
struct Topology {
  bool homogeneous = true;
  int npu_threads = 1;  // heterogeneous: accelerator-role threads
  int cpu_threads = 1;  // heterogeneous: host-role threads
  int threads = 0;      // homogeneous: threads (0 = all cores)
  bool pin = true;
  std::string describe() const;
};

std::vector<std::unique_ptr<Processor>> make_processors(const Topology& topology);

}  // namespace llmnpu
