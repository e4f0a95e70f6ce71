#include "base/time_source.h"

namespace ec {

WallTime SystemTimeSource::wallNow() const {
  return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

MonoTime SystemTimeSource::monoNow() const { return std::chrono::steady_clock::now(); }

const SystemTimeSource& SystemTimeSource::instance() {
  static const SystemTimeSource source;
  return source;
}

}  // namespace ec
