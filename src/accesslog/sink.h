#pragma once
// Sink: where the access log writer thread sends batches of JSON lines. Two real kinds: a
// file (FileSink, reopened on SIGUSR1 for logrotate) and Kafka (KafkaSink, librdkafka
// producer). Sinks run on the writer thread only, never on a worker.

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace ec::accesslog {

class Sink {
 public:
  virtual ~Sink() = default;
  // "file" or "kafka": the metric label.
  virtual std::string_view name() const = 0;
  // Whole lines, each ending in '\n'. On error the lines not taken are reported as
  // `lines_lost` (counted as dropped by the caller) and the error is returned.
  virtual Status write(std::string_view lines, uint64_t& lines_lost) = 0;
  // Reopen the destination (the file was rotated). Errors keep the old destination.
  virtual Status reopen() { return {}; }
  // Called about every flush interval and at stop: serve callbacks, push buffered data out.
  virtual void poll(bool final) { (void)final; }
  // Lines accepted earlier and lost since the last call (a Kafka delivery that failed).
  virtual uint64_t takeAsyncLost() { return 0; }
};

}  // namespace ec::accesslog
