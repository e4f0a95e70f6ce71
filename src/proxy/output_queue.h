#pragma once
// OutputQueue: what a downstream connection still has to write, as segments that are either
// owned bytes (heads, error pages, pass-through data) or ranges of a stored body (written
// straight from the object's chunks with writev, no copy). A segment keeps its object alive.

#include <sys/uio.h>

#include <memory>
#include <vector>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/transport.h"
#include "storage/body.h"

namespace ec::proxy {

class OutputQueue {
 public:
  void appendOwned(std::string bytes);
  void appendCopy(std::string_view bytes);
  // [offset, offset+length) of body; all of it must already be available.
  void appendBody(std::shared_ptr<storage::Body> body, uint64_t offset, uint64_t length);

  // Writes as much as the transport takes. Returns true when everything was written, false
  // when the transport is blocked (wait for the socket); an error when the peer is gone.
  Result<bool> flush(net::Transport& transport, uint64_t& bytes_written);

  bool empty() const { return front_ == segments_.size(); }
  uint64_t queuedBytes() const { return queued_bytes_; }
  void clear();

 private:
  void popFront();

  struct Segment {
    std::string bytes;
    std::shared_ptr<storage::Body> body;
    uint64_t offset = 0;
    uint64_t length = 0;  // body segments only
  };
  // A vector used as a queue: drained segments before front_ are released, and the storage
  // is reused once the queue empties (no allocation per response in steady state).
  std::vector<Segment> segments_;
  size_t front_ = 0;
  uint64_t queued_bytes_ = 0;
  size_t head_written_ = 0;  // bytes of the front owned segment already written
};

}  // namespace ec::proxy
