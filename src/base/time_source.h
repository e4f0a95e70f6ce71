#pragma once
// Time is passed in, never read deep inside a room: policy code takes a WallTime argument,
// loops take a TimeSource. Tests use ManualTimeSource.

#include <chrono>
#include <cstdint>

namespace ec {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;
// Wall-clock time (HTTP dates, Age arithmetic), in seconds since the Unix epoch.
using WallTime = std::chrono::sys_seconds;
// Monotonic time for timeouts and intervals.
using MonoTime = std::chrono::steady_clock::time_point;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual WallTime wallNow() const = 0;
  virtual MonoTime monoNow() const = 0;
};

// The only place in src/ that reads the system clocks.
class SystemTimeSource final : public TimeSource {
 public:
  WallTime wallNow() const override;
  MonoTime monoNow() const override;
  static const SystemTimeSource& instance();
};

class ManualTimeSource final : public TimeSource {
 public:
  explicit ManualTimeSource(WallTime start = WallTime{Seconds{1'700'000'000}})
      : wall_(start), mono_(MonoTime{}) {}
  WallTime wallNow() const override { return wall_; }
  MonoTime monoNow() const override { return mono_; }
  void advance(Millis by) {
    mono_ += by;
    wall_ = WallTime{std::chrono::duration_cast<Seconds>(
        std::chrono::duration_cast<Millis>(wall_.time_since_epoch()) + by)};
  }

 private:
  WallTime wall_;
  MonoTime mono_;
};

}  // namespace ec
