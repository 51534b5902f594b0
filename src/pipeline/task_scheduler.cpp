#include "pipeline/task_scheduler.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"

#ifdef AXF_WITH_MPI
#include <mpi.h>
#endif

namespace axf::pipeline {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(1);  // message latency vs. idle wake-ups

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs one task on this rank; exceptions become failures.
TaskResult run_guarded(const TaskFn& run, int task, int rank, double& seconds) {
  const auto start = Clock::now();
  TaskResult r;
  try {
    r = run(task, rank);
  } catch (const std::exception& e) {
    r = {false, e.what()};
  }
  seconds = seconds_since(start);
  return r;
}

// The scheduling state that rank 0 keeps: which tasks are needed, ready, waiting, ended.
class Plan {
 public:
  Plan(const std::vector<SchedTask>& tasks, const TaskEvent& on_end) : tasks_(tasks), on_end_(on_end) {
    const size_t n = tasks.size();
    dependents_.resize(n);
    std::vector<int> indegree(n, 0);
    for (size_t t = 0; t < n; ++t)
      for (int d : tasks[t].deps) {
        AXF_CHECK(d >= 0 && static_cast<size_t>(d) < n && d != static_cast<int>(t), "task '", tasks[t].label,
                  "' depends on task ", d, " of ", n);
        dependents_[d].push_back(static_cast<int>(t));
        ++indegree[t];
      }
    // Topological order (Kahn), then needs and priorities from the last task back.
    std::vector<int> order;
    for (size_t t = 0; t < n; ++t)
      if (indegree[t] == 0) order.push_back(static_cast<int>(t));
    for (size_t i = 0; i < order.size(); ++i)
      for (int d : dependents_[order[i]])
        if (--indegree[d] == 0) order.push_back(d);
    AXF_CHECK(order.size() == n, "the task graph has a cycle");
    needed_.assign(n, false);
    priority_.assign(n, 0);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const int t = *it;
      bool wanted = !tasks[t].intermediate;
      double longest = 0;
      for (int d : dependents_[t])
        if (needed_[d]) {
          wanted = true;
          longest = std::max(longest, priority_[d]);
        }
      needed_[t] = wanted && !tasks[t].finished;
      priority_[t] = tasks[t].cost + longest;
    }
    records_.resize(n);
    waiting_.assign(n, 0);
    for (size_t t = 0; t < n; ++t) {
      if (!needed_[t]) continue;
      ++remaining_;
      for (int d : tasks[t].deps) waiting_[t] += needed_[d] ? 1 : 0;
      if (waiting_[t] == 0) ready_.insert({-priority_[t], static_cast<int>(t)});
    }
  }

  int remaining() const { return remaining_; }

  // The ready task of highest priority (lowest index among equals), or -1.
  int take() {
    if (ready_.empty()) return -1;
    const int t = ready_.begin()->second;
    ready_.erase(ready_.begin());
    return t;
  }

  void end(int t, int rank, const TaskResult& r, double seconds) {
    TaskRecord& rec = records_[t];
    rec.state = r.ok ? TaskState::kDone : TaskState::kFailed;
    rec.rank = rank;
    rec.seconds = seconds;
    rec.message = r.message;
    --remaining_;
    if (on_end_) on_end_(t, rec);
    for (int d : dependents_[t]) {
      if (!needed_[d] || records_[d].state == TaskState::kBlocked) continue;
      if (r.ok) {
        if (--waiting_[d] == 0) ready_.insert({-priority_[d], d});
      } else {
        block(d, tasks_[t].label);
      }
    }
  }

  std::vector<TaskRecord> records() const { return records_; }

 private:
  void block(int t, const std::string& because) {
    if (records_[t].state == TaskState::kBlocked) return;
    records_[t].state = TaskState::kBlocked;
    records_[t].message = "not run: '" + because + "' failed";
    --remaining_;
    if (on_end_) on_end_(t, records_[t]);
    for (int d : dependents_[t])
      if (needed_[d]) block(d, because);
  }

  const std::vector<SchedTask>& tasks_;
  const TaskEvent& on_end_;
  std::vector<std::vector<int>> dependents_;
  std::vector<bool> needed_;
  std::vector<double> priority_;
  std::vector<int> waiting_;
  std::vector<TaskRecord> records_;  // kSkipped until ended
  std::set<std::pair<double, int>> ready_;
  int remaining_ = 0;
};

// Rank 0's own worker: a thread that runs the tasks the scheduling loop gives it.
class LocalWorker {
 public:
  explicit LocalWorker(const TaskFn& run) : run_(run), thread_([this] { loop(); }) {}
  ~LocalWorker() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool idle() {
    std::lock_guard<std::mutex> lk(m_);
    return assigned_ < 0 && !has_result_;
  }
  void assign(int t) {
    {
      std::lock_guard<std::mutex> lk(m_);
      assigned_ = t;
    }
    cv_.notify_all();
  }
  // A finished task's result, waiting up to `wait` for one.
  bool poll(int& task, TaskResult& result, double& seconds, std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait_for(lk, wait, [&] { return has_result_; });
    if (!has_result_) return false;
    task = result_task_;
    result = std::move(result_);
    seconds = seconds_;
    has_result_ = false;
    return true;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || assigned_ >= 0; });
      if (stop_) return;
      const int t = assigned_;
      lk.unlock();
      double seconds = 0;
      TaskResult r = run_guarded(run_, t, 0, seconds);
      lk.lock();
      result_task_ = t;
      result_ = std::move(r);
      seconds_ = seconds;
      has_result_ = true;
      assigned_ = -1;
      done_cv_.notify_all();
    }
  }

  const TaskFn& run_;
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  int assigned_ = -1;
  bool stop_ = false, has_result_ = false;
  int result_task_ = -1;
  TaskResult result_;
  double seconds_ = 0;
  std::thread thread_;  // last: starts after the members above exist
};

#ifdef AXF_WITH_MPI
constexpr int kTagResult = 7101;  // worker -> rank 0: [task, ok, seconds, message]; task -1 = "ready"
constexpr int kTagAssign = 7102;  // rank 0 -> worker: task, -1 = stop

#define AXF_SCHED_MPI(call)                                                       \
  do {                                                                            \
    const int rc_ = (call);                                                       \
    AXF_CHECK(rc_ == MPI_SUCCESS, "MPI call ", #call, " failed with code ", rc_); \
  } while (0)

std::string encode_result(int32_t task, const TaskResult& r, double seconds) {
  std::string buf(sizeof(int32_t) * 2 + sizeof(double), '\0');
  const int32_t ok = r.ok ? 1 : 0;
  std::memcpy(buf.data(), &task, sizeof task);
  std::memcpy(buf.data() + 4, &ok, sizeof ok);
  std::memcpy(buf.data() + 8, &seconds, sizeof seconds);
  return buf + r.message;
}

void decode_result(const std::string& buf, int32_t& task, TaskResult& r, double& seconds) {
  AXF_CHECK(buf.size() >= 16, "scheduler: short message of ", buf.size(), " bytes");
  int32_t ok = 0;
  std::memcpy(&task, buf.data(), sizeof task);
  std::memcpy(&ok, buf.data() + 4, sizeof ok);
  std::memcpy(&seconds, buf.data() + 8, sizeof seconds);
  r.ok = ok != 0;
  r.message = buf.substr(16);
}

// A result message from any worker, if one has arrived (`block`: wait for one).
bool receive_result(bool block, int& source, int32_t& task, TaskResult& r, double& seconds) {
  MPI_Status st;
  int flag = 0;
  if (block) {
    AXF_SCHED_MPI(MPI_Probe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &st));
    flag = 1;
  } else {
    AXF_SCHED_MPI(MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &flag, &st));
  }
  if (!flag) return false;
  int bytes = 0;
  AXF_SCHED_MPI(MPI_Get_count(&st, MPI_BYTE, &bytes));
  std::string buf(static_cast<size_t>(bytes), '\0');
  AXF_SCHED_MPI(MPI_Recv(buf.data(), bytes, MPI_BYTE, st.MPI_SOURCE, kTagResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
  source = st.MPI_SOURCE;
  decode_result(buf, task, r, seconds);
  return true;
}

void send_assignment(int rank, int32_t task) {
  AXF_SCHED_MPI(MPI_Send(&task, 1, MPI_INT32_T, rank, kTagAssign, MPI_COMM_WORLD));
}

// A rank other than 0: ask for work, run it, report, until told to stop. Polls instead of blocking in MPI
// so an idle rank does not spin a core that the search tools of other ranks could use.
void worker_loop(const TaskFn& run, int rank) {
  std::string msg = encode_result(-1, {}, 0);
  for (;;) {
    AXF_SCHED_MPI(MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, 0, kTagResult, MPI_COMM_WORLD));
    int32_t task = -1;
    MPI_Request req;
    AXF_SCHED_MPI(MPI_Irecv(&task, 1, MPI_INT32_T, 0, kTagAssign, MPI_COMM_WORLD, &req));
    for (int done = 0;;) {
      AXF_SCHED_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
      if (done) break;
      std::this_thread::sleep_for(kPoll);
    }
    if (task < 0) return;
    double seconds = 0;
    const TaskResult r = run_guarded(run, task, rank, seconds);
    msg = encode_result(task, r, seconds);
  }
}
#endif

}  // namespace

ScheduleResult run_task_graph(parallel::Communicator& comm, const std::vector<SchedTask>& tasks, const TaskFn& run,
                              const TaskEvent& on_end) {
  const auto start = Clock::now();
  const int rank = comm.rank(), size = comm.size();
  AXF_CHECK(size == 1 || comm.name() == "mpi", "run_task_graph: ", size, " ranks need the MPI world communicator");
#ifndef AXF_WITH_MPI
  AXF_CHECK(size == 1, "run_task_graph: built without MPI");
#endif
  ScheduleResult result;
  int32_t counts[4] = {0, 0, 0, 0};

  if (rank == 0) {
    Plan plan(tasks, on_end);
    {
      LocalWorker local(run);
      bool local_idle = true;
      std::vector<int> idle_ranks;
      while (plan.remaining() > 0) {
        int task = -1;
        TaskResult r;
        double seconds = 0;
        if (!local_idle && local.poll(task, r, seconds, std::chrono::milliseconds(0))) {
          plan.end(task, 0, r, seconds);
          local_idle = true;
        }
#ifdef AXF_WITH_MPI
        int source = -1;
        int32_t remote_task = -1;
        while (size > 1 && receive_result(false, source, remote_task, r, seconds)) {
          if (remote_task >= 0) plan.end(remote_task, source, r, seconds);
          idle_ranks.push_back(source);
        }
        while (!idle_ranks.empty()) {
          const int t = plan.take();
          if (t < 0) break;
          send_assignment(idle_ranks.back(), t);
          idle_ranks.pop_back();
        }
#endif
        if (local_idle) {
          const int t = plan.take();
          if (t >= 0) {
            local.assign(t);
            local_idle = false;
          }
        }
        if (plan.remaining() == 0) break;
        // Sleep until rank 0's own task ends or the next look at the other ranks' messages is due.
        if (!local_idle && local.poll(task, r, seconds, kPoll)) {
          plan.end(task, 0, r, seconds);
          local_idle = true;
        } else if (local_idle) {
          std::this_thread::sleep_for(kPoll);
        }
      }
#ifdef AXF_WITH_MPI
      // Every task has ended: stop each worker once it has asked for work.
      std::vector<bool> stopped(static_cast<size_t>(size), false);
      int to_stop = size - 1;
      for (int w : idle_ranks) {
        send_assignment(w, -1);
        stopped[w] = true;
        --to_stop;
      }
      while (to_stop > 0) {
        int source = -1;
        int32_t t = -1;
        TaskResult r;
        double seconds = 0;
        receive_result(true, source, t, r, seconds);
        AXF_CHECK(t < 0 && !stopped[source], "scheduler: unexpected result from rank ", source);
        send_assignment(source, -1);
        stopped[source] = true;
        --to_stop;
      }
#endif
    }
    result.tasks = plan.records();
    result.ranks.resize(static_cast<size_t>(size));
    for (const auto& rec : result.tasks) {
      switch (rec.state) {
        case TaskState::kSkipped:
          ++counts[1];
          break;
        case TaskState::kDone:
          ++counts[0];
          break;
        case TaskState::kFailed:
          ++counts[2];
          break;
        case TaskState::kBlocked:
          ++counts[3];
          break;
      }
      if (rec.rank >= 0) {
        RankSummary& rs = result.ranks[static_cast<size_t>(rec.rank)];
        ++rs.tasks;
        rs.failed += rec.state == TaskState::kFailed ? 1 : 0;
        rs.busy_seconds += rec.seconds;
      }
    }
  } else {
#ifdef AXF_WITH_MPI
    worker_loop(run, rank);
#endif
  }
  comm.broadcast(counts, sizeof counts, 0);
  result.done = counts[0];
  result.skipped = counts[1];
  result.failed = counts[2];
  result.blocked = counts[3];
  result.wall_seconds = seconds_since(start);
  return result;
}

int local_rank_count(parallel::Communicator& comm) {
  if (comm.size() == 1) return 1;
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = std::getenv(var); v && std::atoi(v) > 0) return std::atoi(v);
#ifdef AXF_WITH_MPI
  MPI_Comm node;
  AXF_SCHED_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int n = 1;
  MPI_Comm_size(node, &n);
  MPI_Comm_free(&node);
  return n;
#else
  return 1;
#endif
}

int tool_threads(parallel::Communicator& comm, int requested) {
  if (requested > 0) return requested;
  if (const char* v = std::getenv("SLURM_CPUS_PER_TASK"); v && std::atoi(v) > 0) return std::atoi(v);
  cpu_set_t mine;
  CPU_ZERO(&mine);
  int allowed = static_cast<int>(std::thread::hardware_concurrency());
  if (sched_getaffinity(0, sizeof mine, &mine) == 0) allowed = CPU_COUNT(&mine);
  allowed = std::max(1, allowed);
  if (comm.size() == 1) return allowed;
#ifdef AXF_WITH_MPI
  // Ranks of this node bound to the same cores (or not bound at all) share them; a rank with cores of its own
  // (mpirun --bind-to core, srun --cpu-bind) keeps them.
  MPI_Comm node;
  AXF_SCHED_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int node_size = 1;
  MPI_Comm_size(node, &node_size);
  std::vector<cpu_set_t> masks(static_cast<size_t>(node_size));
  AXF_SCHED_MPI(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, masks.data(), sizeof mine, MPI_BYTE, node));
  MPI_Comm_free(&node);
  int sharing = 0;
  for (const auto& m : masks) sharing += CPU_EQUAL(&m, &mine) ? 1 : 0;
  return std::max(1, allowed / std::max(1, sharing));
#else
  return std::max(1, allowed / local_rank_count(comm));
#endif
}

}  // namespace axf::pipeline
