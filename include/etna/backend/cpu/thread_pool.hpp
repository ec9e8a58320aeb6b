// A small persistent thread pool and parallel_for for the CPU backend.
// Work is split only above a size threshold chosen by the caller; nested calls run serially.
// NOTE: the backend namespace is etna::cpu_backend, because etna::cpu is the device tag.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace etna {
namespace cpu_backend::detail {

inline std::atomic<int>& num_threads_setting() {
  static std::atomic<int> n{std::max(1, static_cast<int>(std::thread::hardware_concurrency()))};
  return n;
}

inline thread_local bool inside_parallel_region = false;

// Workers sleep on a condition variable and wake for each job; the caller thread runs
// task 0 itself so a 2-way split costs one wake-up.
class ThreadPool {
 public:
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }

  // Runs task(i) for i in [0, n_tasks) on up to n_tasks threads and waits for all of them.
  // The first exception thrown by a task is rethrown here after every task has finished.
  void run(int n_tasks, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (!busy.owns_lock() || n_tasks <= 1) {  // another user thread is using the pool
      for (int i = 0; i < n_tasks; ++i) task(i);
      return;
    }
    ensure_workers(n_tasks - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      next_task_ = 1;
      n_tasks_ = n_tasks;
      pending_ = n_tasks - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_one(0);
    for (;;) {  // take tasks no worker has picked up yet instead of waiting for a wake-up
      int i;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (next_task_ >= n_tasks_) break;
        i = next_task_++;
      }
      run_one(i);
      std::lock_guard<std::mutex> lock(mutex_);
      --pending_;
    }
    spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

 private:
  void run_one(int i) {
    inside_parallel_region = true;
    try {
      (*task_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    inside_parallel_region = false;
  }

  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this] { loop(); });
  }

  // Spins briefly before sleeping: waking a thread through the condition variable costs
  // 20-40 us on these machines, more than a mid-size GEMM or element-wise pass takes.
  template <class Ready>
  static void spin_until(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 0; !ready(); ++i) {
      if ((i & 63) == 0 && std::chrono::steady_clock::now() > deadline) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
  static constexpr int kSpinMicros = 50;

  void loop() {
    std::uint64_t seen = 0;
    for (;;) {
      spin_until([&] {
        return generation_.load(std::memory_order_acquire) != seen ||
               stopping_.load(std::memory_order_relaxed);
      });
      int i;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && next_task_ < n_tasks_); });
        if (stopping_) return;
        i = next_task_++;
        seen = generation_;  // one task per worker per job; the caller takes leftovers
      }
      run_one(i);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* task_ = nullptr;
  int next_task_ = 0, n_tasks_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::exception_ptr error_;
  std::atomic<bool> stopping_{false};
};

}  // namespace cpu_backend::detail

// Number of threads the CPU backend may use (default: hardware concurrency).
inline int get_num_threads() { return cpu_backend::detail::num_threads_setting().load(); }
inline void set_num_threads(int n) { cpu_backend::detail::num_threads_setting().store(std::max(1, n)); }

namespace cpu_backend {

// Calls body(chunk_begin, chunk_end) over [begin, end) split into at most get_num_threads()
// contiguous chunks of at least `grain` items. Serial when the range is small or when called
// from inside another parallel region.
template <class Body>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, Body&& body) {
  const std::int64_t n = end - begin;
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t max_chunks = (n + grain - 1) / grain;
  const int chunks = static_cast<int>(std::min<std::int64_t>(get_num_threads(), max_chunks));
  if (chunks <= 1 || detail::inside_parallel_region) {
    body(begin, end);
    return;
  }
  const std::int64_t step = (n + chunks - 1) / chunks;
  std::function<void(int)> task = [&](int i) {
    const std::int64_t b = begin + i * step;
    const std::int64_t e = std::min(end, b + step);
    if (b < e) body(b, e);
  };
  detail::ThreadPool::instance().run(chunks, task);
}

}  // namespace cpu_backend
}  // namespace etna
