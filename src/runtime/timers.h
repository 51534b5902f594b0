// Stage timers: wall-clock seconds accumulated per named stage, reported in the run summary.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace axf::runtime {

class Timers {
 public:
  void add(const std::string& stage, double seconds);
  const std::vector<std::pair<std::string, double>>& stages() const { return stages_; }
  double total() const;
  std::string table() const;  // one line per stage: name, seconds, share

 private:
  std::vector<std::pair<std::string, double>> stages_;  // in first-seen order
};

// Adds the elapsed time to `stage` when it goes out of scope (call backend synchronize before if async).
class ScopedTimer {
 public:
  ScopedTimer(Timers& timers, std::string stage)
      : timers_(timers), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { timers_.add(stage_, seconds()); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  Timers& timers_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace axf::runtime
