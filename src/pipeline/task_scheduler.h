// Dynamic master/worker scheduling of a task graph over the ranks of a communicator (the MSA stage's
// searches). Rank 0 hands out ready tasks one at a time, highest priority first, and also works on them in a
// thread of its own; the other ranks ask for a task whenever they are free. A task's priority is its cost
// plus the largest priority among the tasks waiting for it, so long chains and long searches start first.
// A failed task does not stop the others; the tasks that depend on it are not run ("blocked").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "parallel/communicator.h"

namespace axf::pipeline {

struct SchedTask {
  std::string label;          // for logs: "T1/uniref90 shard 3/8"
  double cost = 1;            // relative run time (query length x database size)
  std::vector<int> deps;      // tasks that must finish first
  bool finished = false;      // its output exists already: skipped (and so is whatever only it needed)
  bool intermediate = false;  // its output only feeds other tasks: not needed once they are finished
};

struct TaskResult {
  bool ok = true;
  std::string message;  // why it failed (the tool's command and stderr)
};

enum class TaskState { kSkipped, kDone, kFailed, kBlocked };

struct TaskRecord {
  TaskState state = TaskState::kSkipped;
  int rank = -1;
  double seconds = 0;
  std::string message;
};

struct RankSummary {
  int tasks = 0, failed = 0;
  double busy_seconds = 0;
};

struct ScheduleResult {
  std::vector<TaskRecord> tasks;                       // complete on rank 0 only
  std::vector<RankSummary> ranks;                      // complete on rank 0 only
  int done = 0, skipped = 0, failed = 0, blocked = 0;  // on every rank
  double wall_seconds = 0;
};

// Runs a task on the calling rank: `task` indexes the task list, which every rank holds identically.
using TaskFn = std::function<TaskResult(int task, int rank)>;
// Called on rank 0 as each task ends (from the scheduling thread), for progress logs.
using TaskEvent = std::function<void(int task, const TaskRecord& record)>;

// Collective over `comm`: runs every needed task of `tasks` on some rank and returns when all have ended.
// A task is needed unless it is finished already, or it is intermediate and no task waiting for it is needed.
// With one rank the tasks run on the calling thread; with several, `comm` must be the world communicator
// (point-to-point MPI on MPI_COMM_WORLD). Exceptions thrown by `run` become failed tasks.
ScheduleResult run_task_graph(parallel::Communicator& comm, const std::vector<SchedTask>& tasks, const TaskFn& run,
                              const TaskEvent& on_end = {});

// Ranks of `comm` on this node: OMPI_COMM_WORLD_LOCAL_SIZE, else SLURM_NTASKS_PER_NODE, else the size of
// the shared-memory split of MPI_COMM_WORLD (collective then). 1 for a one-rank communicator.
int local_rank_count(parallel::Communicator& comm);

// Threads for a search tool on this rank (collective over `comm`): `requested` if > 0, else
// SLURM_CPUS_PER_TASK, else the cores this process may run on (its CPU affinity) divided among the ranks of
// this node that may run on the same cores: all local ranks when the launcher did not bind them, one when
// it gave each rank cores of its own.
int tool_threads(parallel::Communicator& comm, int requested);

}  // namespace axf::pipeline
