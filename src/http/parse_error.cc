#include "http/parse_error.h"

namespace ec::http {

int statusForParseError(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::kUriTooLong: return 414;
    case ParseErrorKind::kFieldTooLarge:
    case ParseErrorKind::kTooManyFields:
    case ParseErrorKind::kHeaderTooLarge: return 431;
    case ParseErrorKind::kBodyTooLarge: return 413;
    case ParseErrorKind::kExpectationFailed: return 417;
    case ParseErrorKind::kUnsupportedMethod:
    case ParseErrorKind::kUnsupportedTransferCoding: return 501;
    case ParseErrorKind::kUnsupportedVersion: return 505;
    default: return 400;
  }
}

const char* parseErrorName(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::kNone: return "none";
    case ParseErrorKind::kBadRequestLine: return "bad_request_line";
    case ParseErrorKind::kBadMethod: return "bad_method";
    case ParseErrorKind::kUnsupportedMethod: return "unsupported_method";
    case ParseErrorKind::kBadTarget: return "bad_target";
    case ParseErrorKind::kUriTooLong: return "uri_too_long";
    case ParseErrorKind::kBadVersion: return "bad_version";
    case ParseErrorKind::kUnsupportedVersion: return "unsupported_version";
    case ParseErrorKind::kBadStatusLine: return "bad_status_line";
    case ParseErrorKind::kUnsupportedStatus: return "unsupported_status";
    case ParseErrorKind::kBadLineEnding: return "bad_line_ending";
    case ParseErrorKind::kObsFold: return "obs_fold";
    case ParseErrorKind::kBadFieldName: return "bad_field_name";
    case ParseErrorKind::kBadFieldValue: return "bad_field_value";
    case ParseErrorKind::kFieldTooLarge: return "field_too_large";
    case ParseErrorKind::kTooManyFields: return "too_many_fields";
    case ParseErrorKind::kHeaderTooLarge: return "header_too_large";
    case ParseErrorKind::kMissingHost: return "missing_host";
    case ParseErrorKind::kBadHost: return "bad_host";
    case ParseErrorKind::kDuplicateHost: return "duplicate_host";
    case ParseErrorKind::kExpectationFailed: return "expectation_failed";
    case ParseErrorKind::kBadContentLength: return "bad_content_length";
    case ParseErrorKind::kConflictingContentLength: return "conflicting_content_length";
    case ParseErrorKind::kConflictingFraming: return "conflicting_framing";
    case ParseErrorKind::kBadTransferEncoding: return "bad_transfer_encoding";
    case ParseErrorKind::kUnsupportedTransferCoding: return "unsupported_transfer_coding";
    case ParseErrorKind::kTeInHttp10: return "te_in_http10";
    case ParseErrorKind::kBodyTooLarge: return "body_too_large";
    case ParseErrorKind::kBadChunkSize: return "bad_chunk_size";
    case ParseErrorKind::kBadChunkExtension: return "bad_chunk_extension";
    case ParseErrorKind::kChunkExtensionTooLong: return "chunk_extension_too_long";
    case ParseErrorKind::kBadChunkData: return "bad_chunk_data";
    case ParseErrorKind::kBadTrailer: return "bad_trailer";
    case ParseErrorKind::kTruncatedBody: return "truncated_body";
  }
  return "unknown";
}

}  // namespace ec::http
