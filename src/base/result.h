#pragma once
// ec::Result<T>: a value or an ec::Error, shaped like std::expected (which GCC 12 lacks in
// C++20). Errors are values at every boundary; the data path never throws. See
// docs/dev/errors.md for how the source of an error picks the status and the counter.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace ec {

// Who is to blame: decides 4xx vs 502/504, retry, and which counter fires.
enum class ErrorSource : uint8_t { kDownstream, kUpstream, kInternal };

// A closed set of error kinds; extend here, never with free-form strings.
enum class ErrorKind : uint16_t {
  kInvalidArgument,   // bad config value, bad flag
  kParse,             // malformed protocol bytes
  kLimitExceeded,     // a configured bound was hit
  kNotImplemented,    // e.g. unknown transfer coding (501)
  kNotFound,
  kIo,                // socket or file error
  kTimeout,
  kConnectionRefused,
  kConnectionReset,
  kClosed,            // peer closed before the message completed
  kUnavailable,       // draining, overloaded
  kInternal,
};

const char* errorKindName(ErrorKind kind);
const char* errorSourceName(ErrorSource source);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  ErrorSource source = ErrorSource::kInternal;
  bool retryable = false;
  std::string context;  // human-readable detail, e.g. "line 3:7: unknown key 'listner'"

  static Error downstream(ErrorKind kind, std::string context) {
    return Error{kind, ErrorSource::kDownstream, false, std::move(context)};
  }
  static Error upstream(ErrorKind kind, std::string context, bool retryable = false) {
    return Error{kind, ErrorSource::kUpstream, retryable, std::move(context)};
  }
  static Error internal(ErrorKind kind, std::string context) {
    return Error{kind, ErrorSource::kInternal, false, std::move(context)};
  }
  std::string describe() const;
};

// Tag to build an error Result: `return ec::fail(Error{...});`
struct Failure {
  Error error;
};
inline Failure fail(Error error) { return Failure{std::move(error)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Failure failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    EC_CHECK(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    EC_CHECK(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    EC_CHECK(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    EC_CHECK(!ok());
    return std::get<1>(state_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure failure) : error_(std::move(failure.error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    EC_CHECK(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ec
