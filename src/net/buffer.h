#pragma once
// Buffer: a growable byte buffer with a read position, for connection input. Bytes are
// appended at the end and consumed from the front; compact() moves the unread tail to the
// start only when the caller says no views into it are alive.

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace ec::net {

class Buffer {
 public:
  explicit Buffer(size_t initial_capacity = 16 * 1024) { storage_.resize(initial_capacity); }

  std::string_view readable() const { return {storage_.data() + read_, write_ - read_}; }
  size_t readableBytes() const { return write_ - read_; }
  void consume(size_t n) {
    read_ += n;
    if (read_ == write_) read_ = write_ = 0;  // cheap reset keeps views at offset 0 hot
  }
  // Space to read into; grows (after compacting) so at least min_space bytes are writable.
  char* writeSpace(size_t min_space) {
    if (storage_.size() - write_ < min_space) {
      compact();
      if (storage_.size() - write_ < min_space) storage_.resize(write_ + min_space);
    }
    return storage_.data() + write_;
  }
  size_t writableBytes() const { return storage_.size() - write_; }
  void commitWrite(size_t n) { write_ += n; }
  void append(std::string_view data) {
    std::memcpy(writeSpace(data.size()), data.data(), data.size());
    write_ += data.size();
  }
  void compact() {
    if (read_ == 0) return;
    std::memmove(storage_.data(), storage_.data() + read_, write_ - read_);
    write_ -= read_;
    read_ = 0;
  }
  void clear() { read_ = write_ = 0; }

 private:
  std::vector<char> storage_;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace ec::net
