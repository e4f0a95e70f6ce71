#pragma once
// Send progress toward an HTTP/2 client (the slow-read defence, http-hardening.md §F; cf.
// CVE-2019-9511 "data dribble" and CVE-2019-9517 "internal data buffering"): the pure
// decisions behind limits.send_timeout and http2.max_response_buffer, kept apart from the
// connection so they can be tested without sockets.
//
// SendWatch: whether output that waits for the client made no progress for the send timeout.
// The owner checks it on a timer every timeout/kChecksPerTimeout (armed once, never per
// frame) with a progress count it bumps as bytes move; a check compares that count with the
// previous one. A stall is reported once kChecksPerTimeout + 1 checks in a row saw output
// waiting and no progress: after more than the timeout and at most a quarter more.
//
// responseAllowance(): how many response bytes one stream may hold copied (ready for DATA
// frames) when its connection holds `connection_held` in all against `connection_limit`.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ec::h2 {

class SendWatch {
 public:
  static constexpr uint32_t kChecksPerTimeout = 4;
  // One check. `waiting`: output waits for the client now. `progress`: a count that grows
  // whenever bytes reach the client. True when stalled (and on every later stalled check).
  bool check(bool waiting, uint64_t progress) {
    if (!waiting || progress != last_) {
      last_ = progress;
      stalled_checks_ = 0;
      return false;
    }
    return ++stalled_checks_ > kChecksPerTimeout;
  }
  void reset(uint64_t progress = 0) {
    last_ = progress;
    stalled_checks_ = 0;
  }
  uint32_t stalledChecks() const { return stalled_checks_; }

 private:
  uint64_t last_ = 0;
  uint32_t stalled_checks_ = 0;
};

// A stream that holds `own` of the connection's `connection_held` bytes may hold up to the
// returned amount: its share of what is left under `connection_limit`, never more than
// `stream_max`, and never less than `stream_min` (so every stream can always make progress
// and none waits for another's client to read; the connection's total is then bounded by
// connection_limit + streams * stream_min).
inline size_t responseAllowance(size_t own, size_t connection_held, size_t connection_limit,
                                size_t stream_min, size_t stream_max) {
  const size_t others = connection_held > own ? connection_held - own : 0;
  const size_t room = connection_limit > others ? connection_limit - others : 0;
  return std::max(stream_min, std::min(stream_max, room));
}

}  // namespace ec::h2
