#pragma once
// FileSink: appends access log lines to a file (O_APPEND, so several writers and logrotate's
// copytruncate stay safe) or to stdout ("-"). reopen() opens the path again and swaps the
// descriptor, which is what logrotate's postrotate `kill -USR1` relies on.

#include <memory>
#include <string>

#include "accesslog/sink.h"
#include "base/result.h"

namespace ec::accesslog {

class FileSink final : public Sink {
 public:
  // Opens `path` ("-" for stdout); the error names the path and errno.
  static Result<std::unique_ptr<FileSink>> open(const std::string& path);
  ~FileSink() override;

  std::string_view name() const override { return "file"; }
  Status write(std::string_view lines, uint64_t& lines_lost) override;
  Status reopen() override;

  explicit FileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace ec::accesslog
