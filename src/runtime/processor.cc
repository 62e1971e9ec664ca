#include "runtime/processor.h"

#include "core/error.h"

namespace llmnpu {

Processor::Processor(std::string name, ProcessorView roles, int threads, std::vector<int> cores)
    : name_(std::move(name)), roles_(roles), threads_(threads), cores_(std::move(cores)) {
  thread_ = std::thread([this] { loop(); });
}

Processor::~Processor() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Processor::submit(std::function<void(ThreadPool*)> job) {
  {
    std::lock_guard lock(mutex_);
    check(!job_, "processor ", name_, " is busy");
    job_ = std::move(job);
  }
  cv_.notify_all();
}

void Processor::set_idle_work(std::function<bool(ThreadPool*)> work) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return !in_idle_work_; });
  idle_work_ = std::move(work);
  poked_ = bool(idle_work_);
}

void Processor::wake() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  cv_.notify_all();
}

void Processor::loop() {
  // The pool is made on this thread so that it is pinned with its helpers.
  ThreadPool pool(threads_, cores_);
  for (;;) {
    std::function<void(ThreadPool*)> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || bool(job_) || (poked_ && idle_work_); });
      if (stop_) return;
      if (poked_ && idle_work_) {
        // Idle work first: whoever posted it is waiting for it.
        poked_ = false;
        in_idle_work_ = true;
        auto work = idle_work_;
        lock.unlock();
        while (work(&pool)) {
        }
        lock.lock();
        in_idle_work_ = false;
        cv_.notify_all();
        continue;
      }
      job = std::move(job_);
      job_ = nullptr;
    }
    job(&pool);
  }
}

std::string Topology::describe() const {
  if (homogeneous) return str("homogeneous (", threads, " threads run every subgraph)");
  return str("heterogeneous (accelerator role: ", npu_threads, " threads, host role: ", cpu_threads,
             " threads)");
}

std::vector<std::unique_ptr<Processor>> make_processors(const Topology& t) {
  std::vector<std::unique_ptr<Processor>> out;
  int hw = ThreadPool::hardware_threads();
  auto cores = [&](int first, int count) {
    std::vector<int> c;
    if (!t.pin) return c;
    for (int i = 0; i < count; ++i) c.push_back((first + i) % hw);
    return c;
  };
  if (t.homogeneous) {
    int n = t.threads > 0 ? t.threads : hw;
    out.push_back(std::make_unique<Processor>("all cores", ProcessorView{true, true}, n, cores(0, n)));
  } else {
    check(t.npu_threads > 0 && t.cpu_threads > 0,
          "heterogeneous topology needs at least one thread per role");
    out.push_back(std::make_unique<Processor>("accelerator role (CPU int8)", ProcessorView{true, false},
                                              t.npu_threads, cores(0, t.npu_threads)));
    out.push_back(std::make_unique<Processor>("host role (CPU float)", ProcessorView{false, true},
                                              t.cpu_threads, cores(t.npu_threads, t.cpu_threads)));
  }
  return out;
}

}  // namespace llmnpu
