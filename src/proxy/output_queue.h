#pragma once
// OutputQueue: what a downstream connection still has to write, as segments that are either
// owned bytes (heads, error pages, pass-through data) or ranges of a stored body (written
// straight from the object's chunks, never copied into the queue). A segment keeps its object
// alive. Large body ranges in page-mapped chunks go to the socket by reference through a
// SplicePipe (vmsplice + splice, no copy at all); everything else with one sendmsg of iovecs.

#include <sys/uio.h>

#include <memory>
#include <vector>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/splice_pipe.h"
#include "net/transport.h"
#include "storage/body.h"

namespace ec::proxy {

class OutputQueue {
 public:
  void appendOwned(std::string bytes);
  void appendCopy(std::string_view bytes);
  // An empty string to build the next head in, with the capacity of one already sent: heads
  // cost no allocation in steady state. Give it back through appendOwned().
  std::string takeBuffer() { return std::move(spare_); }
  // [offset, offset+length) of body; all of it must already be available.
  void appendBody(const std::shared_ptr<storage::Body>& body, uint64_t offset, uint64_t length);

  // Body ranges at least this long are sent by reference when a pipe pool is given and their
  // bytes are in page-mapped chunks.
  static constexpr uint64_t kSpliceMinBytes = 16u << 10;
  // Body ranges at most this long are copied behind the head they follow, so a small
  // response leaves in one contiguous send() (no iovec import, no object reference held).
  static constexpr uint64_t kInlineBodyBytes = 4u << 10;

  // Writes as much as the transport takes. Returns true when everything was written, false
  // when it is blocked (wait for the socket); an error when the peer is gone. `pipes` (the
  // worker's pool; may be null) enables sending large body ranges without copying them, on
  // transports that are the socket itself (plain HTTP; TLS must encrypt every byte).
  // `bytes_spliced` (optional) counts the part of bytes_written sent by reference.
  Result<bool> flush(net::Transport& transport, uint64_t& bytes_written,
                     net::SplicePipePool* pipes = nullptr, uint64_t* bytes_spliced = nullptr);

  bool empty() const { return front_ == segments_.size() && !pipeHoldsBytes(); }
  uint64_t queuedBytes() const { return queued_bytes_; }
  void clear();

 private:
  void popFront();
  // The last segment, when it is owned bytes that more bytes can be appended to.
  std::string* appendableTail();
  bool pipeHoldsBytes() const { return pipe_ && pipe_->buffered() > 0; }
  bool spliceCandidate(size_t index, const net::SplicePipePool* pipes) const;
  // Moves the front body segment's next bytes into the pipe. False: not possible now (heap
  // chunk, no pipe, vmsplice refused): the caller copies instead.
  bool loadPipe(net::SplicePipePool* pipes);
  Result<bool> staleBody();
  Result<bool> sendCopies(net::Transport& transport, uint64_t& bytes_written,
                          net::SplicePipePool* pipes);

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
  bool stale_body_ = false;  // loadPipe() found a zero-copy disk body reclaimed
  std::string spare_;        // a sent head's buffer, cleared, for takeBuffer()
  // Holds body bytes already taken from the front of the queue (counted in queued_bytes_)
  // until the socket accepts them; returned to the pool once empty.
  std::unique_ptr<net::SplicePipe> pipe_;
};

}  // namespace ec::proxy
