#include "tls/ssl_io.h"

#include <openssl/err.h>

namespace ec::tls {

net::IoResult readStep(SSL* ssl, char* buffer, size_t capacity, bool& waits_for_writable) {
  waits_for_writable = false;
  size_t n = 0;
  const int rc = SSL_read_ex(ssl, buffer, capacity, &n);
  if (rc == 1) return net::IoResult::of(n);
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return net::IoResult::blocked();
    case SSL_ERROR_WANT_WRITE:
      waits_for_writable = true;
      return net::IoResult::blocked();
    case SSL_ERROR_ZERO_RETURN:
      return net::IoResult::eof();
    default:
      ERR_clear_error();
      return net::IoResult::error();
  }
}

net::IoResult writeStep(SSL* ssl, const void* data, size_t length, bool& waits_for_readable) {
  waits_for_readable = false;
  size_t written = 0;
  const int rc = SSL_write_ex(ssl, data, length, &written);
  if (rc == 1) return net::IoResult::of(written);
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_WRITE:
      return net::IoResult::blocked();
    case SSL_ERROR_WANT_READ:
      waits_for_readable = true;
      return net::IoResult::blocked();
    default:
      ERR_clear_error();
      return net::IoResult::error();
  }
}

}  // namespace ec::tls
