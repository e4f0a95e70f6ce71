#include "http/body_decoder.h"

#include <algorithm>
#include <string>

#include "http/syntax.h"

namespace ec::http {
namespace {

constexpr size_t kMaxChunkSizeDigits = 16;  // 64 bits; a 17th digit is refused, zeros or not

int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ErrorKind errorKindFor(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::kBodyTooLarge:
    case ParseErrorKind::kChunkExtensionTooLong:
    case ParseErrorKind::kFieldTooLarge:
    case ParseErrorKind::kTooManyFields: return ErrorKind::kLimitExceeded;
    case ParseErrorKind::kTruncatedBody: return ErrorKind::kClosed;
    default: return ErrorKind::kParse;
  }
}

}  // namespace

void BodyDecoder::start(BodyFraming framing, uint64_t content_length, const ParseLimits& limits,
                        bool enforce_max_body, ErrorSource source) {
  limits_ = limits;
  enforce_max_body_ = enforce_max_body;
  source_ = source;
  remaining_ = 0;
  body_bytes_ = 0;
  chunk_size_ = 0;
  size_digits_ = 0;
  extension_bytes_ = 0;
  ext_quoted_ = ext_escaped_ = false;
  trailer_line_bytes_ = 0;
  trailer_count_ = 0;
  error_ = {};
  switch (framing) {
    case BodyFraming::kNone: state_ = State::kDone; break;
    case BodyFraming::kContentLength:
      remaining_ = content_length;
      state_ = content_length == 0 ? State::kDone : State::kLength;
      if (enforce_max_body && content_length > limits.max_body_bytes) {
        setError(ParseErrorKind::kBodyTooLarge, "Content-Length over the body limit");
      }
      break;
    case BodyFraming::kChunked: state_ = State::kSize; break;
    case BodyFraming::kCloseDelimited: state_ = State::kUntilClose; break;
  }
}

bool BodyDecoder::setError(ParseErrorKind kind, std::string_view detail) {
  error_ = {kind, detail};
  state_ = State::kFailed;
  return false;
}

Result<BodyDecoder::Step> BodyDecoder::lastError() const {
  std::string context = parseErrorName(error_.kind);
  context += ": ";
  context += error_.detail;
  return fail(Error{errorKindFor(error_.kind), source_, false, std::move(context)});
}

Result<BodyDecoder::Step> BodyDecoder::failWith(ParseErrorKind kind, std::string_view detail) {
  setError(kind, detail);
  return lastError();
}

Result<BodyDecoder::Step> BodyDecoder::decode(std::string_view input) {
  Step step;
  switch (state_) {
    case State::kFailed: return lastError();
    case State::kDone: step.done = true; return step;
    case State::kLength: {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
      step.data = input.substr(0, n);
      step.consumed = n;
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) state_ = State::kDone;
      step.done = done();
      return step;
    }
    case State::kUntilClose:
      if (enforce_max_body_ && input.size() > limits_.max_body_bytes - body_bytes_) {
        return failWith(ParseErrorKind::kBodyTooLarge, "body over the limit");
      }
      step.data = input;
      step.consumed = input.size();
      body_bytes_ += input.size();
      return step;
    default: break;
  }
  // Chunked: framing bytes one at a time, payload as one span.
  size_t i = 0;
  while (i < input.size() && state_ != State::kDone) {
    if (state_ == State::kData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - i));
      step.data = input.substr(i, n);
      i += n;
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) state_ = State::kDataCr;
      break;
    }
    if (!advanceChunked(static_cast<unsigned char>(input[i]))) return lastError();
    ++i;
  }
  step.consumed = i;
  step.done = done();
  return step;
}

bool BodyDecoder::advanceChunked(unsigned char c) {
  switch (state_) {
    case State::kSize: {
      const int digit = hexValue(c);
      if (digit >= 0) {
        if (++size_digits_ > kMaxChunkSizeDigits) {
          return setError(ParseErrorKind::kBadChunkSize, "chunk size has too many digits");
        }
        chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(digit);
        return true;
      }
      if (size_digits_ == 0) return setError(ParseErrorKind::kBadChunkSize, "chunk size not hex");
      if (c == ';') {
        state_ = State::kExtension;
        return true;
      }
      if (c == '\r') {
        state_ = State::kSizeLf;
        return true;
      }
      if (c == '\n') return setError(ParseErrorKind::kBadLineEnding, "bare LF after chunk size");
      return setError(ParseErrorKind::kBadChunkSize, "invalid byte after chunk size");
    }
    case State::kExtension: {
      if (++extension_bytes_ > limits_.max_chunk_extension) {
        return setError(ParseErrorKind::kChunkExtensionTooLong, "chunk extension too long");
      }
      if (ext_quoted_) {
        if (c == '\r' || c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
          return setError(ParseErrorKind::kBadChunkExtension, "control byte in quoted extension");
        }
        if (ext_escaped_) {
          ext_escaped_ = false;
        } else if (c == '\\') {
          ext_escaped_ = true;
        } else if (c == '"') {
          ext_quoted_ = false;
        }
        return true;
      }
      if (c == '\r') {
        state_ = State::kSizeLf;
        return true;
      }
      if (c == '\n') return setError(ParseErrorKind::kBadLineEnding, "bare LF in chunk extension");
      if (c == '"') {
        ext_quoted_ = true;
        return true;
      }
      if (isTokenChar(c) || c == ';' || c == '=' || c == ' ' || c == '\t') return true;
      return setError(ParseErrorKind::kBadChunkExtension, "invalid byte in chunk extension");
    }
    case State::kSizeLf:
      if (c != '\n') return setError(ParseErrorKind::kBadLineEnding, "bare CR in chunk size line");
      if (chunk_size_ == 0) {
        state_ = State::kTrailerStart;
        return true;
      }
      if (enforce_max_body_ && chunk_size_ > limits_.max_body_bytes - body_bytes_) {
        return setError(ParseErrorKind::kBodyTooLarge, "chunked body over the limit");
      }
      remaining_ = chunk_size_;
      chunk_size_ = 0;
      size_digits_ = 0;
      extension_bytes_ = 0;
      state_ = State::kData;
      return true;
    case State::kDataCr:
      if (c != '\r') return setError(ParseErrorKind::kBadChunkData, "chunk data longer than size");
      state_ = State::kDataLf;
      return true;
    case State::kDataLf:
      if (c != '\n') return setError(ParseErrorKind::kBadChunkData, "no CRLF after chunk data");
      state_ = State::kSize;
      return true;
    case State::kTrailerStart:
      trailer_line_bytes_ = 0;
      if (c == '\r') {
        state_ = State::kFinalLf;
        return true;
      }
      if (++trailer_count_ > limits_.max_field_count) {
        return setError(ParseErrorKind::kTooManyFields, "too many trailer fields");
      }
      if (!isTokenChar(c)) return setError(ParseErrorKind::kBadTrailer, "invalid trailer line");
      state_ = State::kTrailerName;
      return true;
    case State::kTrailerName:
    case State::kTrailerValue:
      if (++trailer_line_bytes_ > limits_.max_field_size) {
        return setError(ParseErrorKind::kFieldTooLarge, "trailer line too long");
      }
      if (state_ == State::kTrailerName) {
        if (c == ':') {
          state_ = State::kTrailerValue;
        } else if (!isTokenChar(c)) {
          return setError(ParseErrorKind::kBadTrailer, "invalid byte in trailer name");
        }
        return true;
      }
      if (c == '\r') {
        state_ = State::kTrailerLf;
        return true;
      }
      if (!isFieldValueByte(c)) {
        return setError(ParseErrorKind::kBadTrailer, "control byte in trailer value");
      }
      return true;
    case State::kTrailerLf:
      if (c != '\n') return setError(ParseErrorKind::kBadLineEnding, "bare CR in trailer");
      state_ = State::kTrailerStart;
      return true;
    case State::kFinalLf:
      if (c != '\n') return setError(ParseErrorKind::kBadLineEnding, "bare CR after last chunk");
      state_ = State::kDone;
      return true;
    default: return setError(ParseErrorKind::kBadChunkData, "unexpected chunked state");
  }
}

Result<BodyDecoder::Step> BodyDecoder::finishAtEof() {
  if (state_ == State::kFailed) return lastError();
  if (state_ == State::kUntilClose) state_ = State::kDone;
  if (state_ != State::kDone) {
    return failWith(ParseErrorKind::kTruncatedBody, "connection closed inside the body");
  }
  Step step;
  step.done = true;
  return step;
}

}  // namespace ec::http
