#pragma once
// Progress of bytes between a client and the proxy (the slow-read and slow-upload defences,
// http-hardening.md §B 16 and §F; cf. CVE-2019-9511 "data dribble" and CVE-2019-9517
// "internal data buffering"): the pure decisions behind limits.send_timeout / min_send_rate,
// limits.body_timeout / min_body_rate and http2.max_response_buffer, kept apart from the
// connections so they can be tested without sockets.
//
// ProgressWatch: whether bytes that wait to move (a response toward the client, or a request
// body from it) moved too slowly: fewer than a minimum in a whole timeout. The owner checks it
// on a timer (armed once, every timeout / kChecksPerTimeout, never per frame or per write)
// with a progress count it bumps as bytes move. A window starts at a check where nothing
// waited or where the minimum had moved since the last window began; a stall is reported at
// the first check a whole timeout into a window that is still short of the minimum: more
// than the timeout after the last progress and at most a quarter more. With a minimum of one
// byte this is the plain "no byte for the timeout" rule (limits.send_timeout); a larger one is
// a minimum rate (limits.min_send_rate, limits.min_body_rate: bytes per second x timeout),
// so a client that opens one byte of window per timeout ("data dribble") or trickles its
// upload no longer holds its streams forever. HTTP/1.1 (proxy::ClientConnection) uses the
// same watch.
//
// responseAllowance(): how many response bytes one stream may hold copied (ready for DATA
// frames) when its connection holds `connection_held` in all against `connection_limit`.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ec::h2 {

class ProgressWatch {
 public:
  static constexpr uint32_t kChecksPerTimeout = 4;
  enum class Verdict { kFine, kStalled /* no byte */, kSlow /* bytes, below the minimum */ };

  // The fewest bytes per `timeout_ms` window for a rate in bytes per second (0: none, so any
  // byte is progress).
  static uint64_t minBytes(uint64_t rate_per_second, int64_t timeout_ms) {
    const uint64_t bytes = rate_per_second * static_cast<uint64_t>(std::max<int64_t>(0, timeout_ms)) / 1000;
    return std::max<uint64_t>(1, bytes);
  }
  // The owner's check period for a timeout (at least 1 ms).
  static int64_t period(int64_t timeout_ms) {
    return std::max<int64_t>(1, timeout_ms / kChecksPerTimeout);
  }

  // One check at `now_ms`. `waiting`: bytes wait to move now. `progress`: a count that grows
  // as they move. Stalled or slow on the check that finds a whole `timeout_ms` window short of
  // `min_bytes` (and on every later such check until progress or reset()).
  Verdict check(int64_t now_ms, bool waiting, uint64_t progress, int64_t timeout_ms,
                uint64_t min_bytes) {
    const uint64_t moved = progress - start_progress_;
    if (!started_ || !waiting || moved >= std::max<uint64_t>(1, min_bytes)) {
      start(now_ms, progress);
      return Verdict::kFine;
    }
    if (now_ms - start_ms_ < timeout_ms) return Verdict::kFine;
    return moved == 0 ? Verdict::kStalled : Verdict::kSlow;
  }
  void reset() { started_ = false; }
  // Bytes moved in the current window.
  uint64_t movedSince(uint64_t progress) const { return progress - start_progress_; }

 private:
  void start(int64_t now_ms, uint64_t progress) {
    started_ = true;
    start_ms_ = now_ms;
    start_progress_ = progress;
  }
  bool started_ = false;
  int64_t start_ms_ = 0;
  uint64_t start_progress_ = 0;
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
