#pragma once
// One SSL_read / SSL_write step and what OpenSSL's answer means for the event loop: the shared
// core of the client-side (origin) and server-side (listener) TLS streams.

#include <openssl/ssl.h>

#include <cstddef>

#include "net/transport.h"

namespace ec::tls {

// Reads decrypted bytes. `waits_for_writable` is set when OpenSSL must write first (a
// renegotiation or key update in flight): the caller then waits for EPOLLOUT, not EPOLLIN.
net::IoResult readStep(SSL* ssl, char* buffer, size_t capacity, bool& waits_for_writable);

// Writes up to `length` bytes as TLS records. `waits_for_readable` is set when OpenSSL must
// read first. A retry after blocking must pass at least the bytes of the first attempt.
net::IoResult writeStep(SSL* ssl, const void* data, size_t length, bool& waits_for_readable);

}  // namespace ec::tls
