#include "accesslog/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ec::accesslog {
namespace {

Result<int> openForAppend(const std::string& path) {
  if (path == "-") return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(Error::internal(ErrorKind::kIo,
                                "access log: cannot open " + path + ": " + std::strerror(errno)));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::open(const std::string& path) {
  auto fd = openForAppend(path);
  if (!fd.ok()) return fail(fd.error());
  return std::make_unique<FileSink>(path, *fd);
}

FileSink::~FileSink() {
  if (fd_ > STDERR_FILENO) ::close(fd_);
}

Status FileSink::write(std::string_view lines, uint64_t& lines_lost) {
  lines_lost = 0;
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int error = n < 0 ? errno : EIO;
    // Lines not fully written are lost (a partial last line stays in the file, cut).
    const std::string_view rest = lines.substr(done);
    lines_lost = static_cast<uint64_t>(std::count(rest.begin(), rest.end(), '\n'));
    return fail(Error::internal(ErrorKind::kIo,
                                "access log: write to " + path_ + ": " + std::strerror(error)));
  }
  return {};
}

Status FileSink::reopen() {
  if (path_ == "-") return {};
  auto fd = openForAppend(path_);
  if (!fd.ok()) return fail(fd.error());
  const int old = fd_;
  fd_ = *fd;
  if (old > STDERR_FILENO) ::close(old);
  return {};
}

}  // namespace ec::accesslog
