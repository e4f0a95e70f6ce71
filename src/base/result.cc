#include "base/result.h"

namespace ec {

const char* errorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kLimitExceeded: return "limit_exceeded";
    case ErrorKind::kNotImplemented: return "not_implemented";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kConnectionRefused: return "connection_refused";
    case ErrorKind::kConnectionReset: return "connection_reset";
    case ErrorKind::kClosed: return "closed";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

const char* errorSourceName(ErrorSource source) {
  switch (source) {
    case ErrorSource::kDownstream: return "downstream";
    case ErrorSource::kUpstream: return "upstream";
    case ErrorSource::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out = errorSourceName(source);
  out += ' ';
  out += errorKindName(kind);
  if (!context.empty()) {
    out += ": ";
    out += context;
  }
  return out;
}

}  // namespace ec
