// The floor of the TLS benchmark (bench/macro/tls_run): not a proxy, the least work a TLS 1.3 +
// HTTP/1.1 server can do per request with OpenSSL on this kernel. One thread, level-triggered
// epoll, OpenSSL with read-ahead (one read per record), one SSL_write per answer, every answer
// prebuilt in memory (the bench's objects, generated with the origin's pattern). No session cache
// and no tickets, like every peer of the run, so each connection pays a full handshake.
//
// It shows what the load generator allows: on one core h2load's own CPU per TLS request is the
// limit of the HTTP/1.1 and handshake workloads, so the floor's req/s is the ceiling any server
// can reach in them, and its CPU per request is what OpenSSL and the TCP path cost alone.
// GET /floor-counters answers "HANDSHAKES RESUMED" (the runner's proof that nothing resumed).
//
// Usage: tls_floor PORT CERT KEY   (HTTP/1.1 only; no ALPN h2)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "floor_common.h"

static unsigned long handshakes, resumed;
static char counters_answer[256];

struct connection {
  int fd;
  SSL* ssl;
  int handshake_done;
  char input[8192];
  size_t input_len;
  const char* output;  // the answer being written (SSL_write retries need the same buffer)
  size_t output_len;
};

static void set_events(int epoll_fd, struct connection* c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_connection(int epoll_fd, struct connection* c) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  SSL_free(c->ssl);
  close(c->fd);
  free(c);
}

// Writes the pending answer; returns -1 when the connection died, 0 when done or waiting.
static int flush_output(int epoll_fd, struct connection* c) {
  ERR_clear_error();
  int n = SSL_write(c->ssl, c->output, (int)c->output_len);
  if (n > 0) {
    c->output = NULL;
    return 0;
  }
  int e = SSL_get_error(c->ssl, n);
  if (e == SSL_ERROR_WANT_WRITE) {
    set_events(epoll_fd, c, EPOLLOUT);
    return 0;
  }
  return e == SSL_ERROR_WANT_READ ? 0 : -1;
}

static void pick_answer(struct connection* c, const char* path, size_t path_len) {
  if (path_len == 15 && memcmp(path, "/floor-counters", 15) == 0) {
    char body[64];
    int body_len = snprintf(body, sizeof body, "%lu %lu\n", handshakes, resumed);
    int len = snprintf(counters_answer, sizeof counters_answer,
                       "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", body_len, body);
    c->output = counters_answer;
    c->output_len = (size_t)len;
    return;
  }
  floor_answer_for(path, path_len, &c->output, &c->output_len);
}

// Answers every complete request in the input; returns -1 when the connection died.
static int answer_requests(int epoll_fd, struct connection* c) {
  while (c->output == NULL) {
    char* end = memmem(c->input, c->input_len, "\r\n\r\n", 4);
    if (end == NULL) return c->input_len == sizeof c->input ? -1 : 0;
    size_t path_len;
    const char* path = floor_request_path(c->input, end, &path_len);
    pick_answer(c, path, path_len);
    size_t consumed = (size_t)(end + 4 - c->input);
    memmove(c->input, c->input + consumed, c->input_len - consumed);
    c->input_len -= consumed;
    if (flush_output(epoll_fd, c) < 0) return -1;
  }
  return 0;
}

// Reads what OpenSSL has (the socket and its read-ahead buffer) and answers; -1 when it died.
static int read_input(int epoll_fd, struct connection* c) {
  for (;;) {
    if (c->input_len == sizeof c->input) return -1;
    ERR_clear_error();
    int n = SSL_read(c->ssl, c->input + c->input_len, (int)(sizeof c->input - c->input_len));
    if (n > 0) {
      c->input_len += (size_t)n;
      if (answer_requests(epoll_fd, c) < 0) return -1;
      if (c->output != NULL) return 0;  // blocked on the socket: read again after the write
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_WANT_WRITE) {
      set_events(epoll_fd, c, EPOLLIN | EPOLLOUT);
      return 0;
    }
    return -1;
  }
}

static int handshake(int epoll_fd, struct connection* c) {
  ERR_clear_error();
  int n = SSL_do_handshake(c->ssl);
  if (n == 1) {
    c->handshake_done = 1;
    ++handshakes;
    if (SSL_session_reused(c->ssl)) ++resumed;
    set_events(epoll_fd, c, EPOLLIN);
    return read_input(epoll_fd, c);
  }
  int e = SSL_get_error(c->ssl, n);
  if (e == SSL_ERROR_WANT_READ) {
    set_events(epoll_fd, c, EPOLLIN);
    return 0;
  }
  if (e == SSL_ERROR_WANT_WRITE) {
    set_events(epoll_fd, c, EPOLLOUT);
    return 0;
  }
  return -1;
}

static SSL_CTX* make_context(const char* cert, const char* key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    exit(1);
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: tls_floor PORT CERT KEY\n");
    return 2;
  }
  floor_build_answers();
  SSL_CTX* ctx = make_context(argv[2], argv[3]);
  int listener;
  int epoll_fd = floor_listen("tls_floor: listen", argv[1], 4096, &listener);
  if (epoll_fd < 0) return 1;
  int one = 1;
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epoll_fd, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      struct connection* c = events[i].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct connection* fresh = calloc(1, sizeof *fresh);
          fresh->fd = fd;
          fresh->ssl = SSL_new(ctx);
          SSL_set_fd(fresh->ssl, fd);
          SSL_set_accept_state(fresh->ssl);
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = fresh};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      int rc;
      if (!c->handshake_done) {
        rc = handshake(epoll_fd, c);
      } else if (c->output != NULL) {
        rc = flush_output(epoll_fd, c);
        if (rc == 0 && c->output == NULL) {
          set_events(epoll_fd, c, EPOLLIN);
          rc = answer_requests(epoll_fd, c);
          if (rc == 0 && c->output == NULL) rc = read_input(epoll_fd, c);
        }
      } else {
        rc = read_input(epoll_fd, c);
      }
      if (rc < 0) close_connection(epoll_fd, c);
    }
  }
}
