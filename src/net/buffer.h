#pragma once
// Buffer: a growable byte buffer with a read position, for connection input. Bytes are
// appended at the end and consumed from the front; compact() moves the unread tail to the
// start only when the caller says no views into it are alive. Storage is allocated on first
// use and never zero-filled: a connection or an origin exchange that is created per request
// must not pay for clearing memory it is about to overwrite.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/check.h"

namespace ec::net {

class Buffer {
 public:
  explicit Buffer(size_t initial_capacity = 16 * 1024) : initial_capacity_(initial_capacity) {}
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::string_view readable() const { return {data_ + read_, write_ - read_}; }
  size_t readableBytes() const { return write_ - read_; }
  void consume(size_t n) {
    read_ += n;
    if (read_ == write_) read_ = write_ = 0;  // cheap reset keeps views at offset 0 hot
  }
  // Space to read into; grows (after compacting) so at least min_space bytes are writable.
  char* writeSpace(size_t min_space) {
    if (capacity_ - write_ < min_space) {
      compact();
      if (capacity_ - write_ < min_space) grow(write_ + min_space);
    }
    return data_ + write_;
  }
  size_t writableBytes() const { return capacity_ - write_; }
  void commitWrite(size_t n) { write_ += n; }
  void append(std::string_view bytes) {
    std::memcpy(writeSpace(bytes.size()), bytes.data(), bytes.size());
    write_ += bytes.size();
  }
  void compact() {
    if (read_ == 0) return;
    std::memmove(data_, data_ + read_, write_ - read_);
    write_ -= read_;
    read_ = 0;
  }
  void clear() { read_ = write_ = 0; }

 private:
  void grow(size_t needed) {
    size_t capacity = capacity_ == 0 ? initial_capacity_ : capacity_;
    while (capacity < needed) capacity *= 2;
    char* grown = static_cast<char*>(std::realloc(data_, capacity));
    EC_CHECK(grown != nullptr);  // out of memory: no sane way on
    data_ = grown;
    capacity_ = capacity;
  }

  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t initial_capacity_;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace ec::net
