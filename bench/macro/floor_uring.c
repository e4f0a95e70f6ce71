// The floor with io_uring instead of epoll: the same prebuilt answers (floor_common.h), but each
// connection keeps one recv or one send in flight in a ring, and every loop turn submits all new
// operations and reaps all completions with one io_uring_enter. It asks whether a different I/O
// interface goes below the epoll floor on this kernel: the system calls per request drop from
// ~2 to well under 1, the TCP work stays. Compared with floor.c by bench/macro/floor_compare.
//
// Usage: floor_uring PORT   (needs liburing-dev; PLAIN=1 sets up the ring without
// SINGLE_ISSUER/DEFER_TASKRUN)
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor_common.h"

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_MASK = 7 };

struct connection {
  int fd;
  char input[8192];
  size_t input_len;
  const char* output;
  size_t output_len;
  size_t output_sent;
};

static struct io_uring ring;
static int listener;

static struct io_uring_sqe* next_sqe(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {  // the submission queue is full: hand it to the kernel and go on
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

// user_data: the connection pointer (aligned to 64) with the operation in its low bits.
static void queue_recv(struct connection* c) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv(sqe, c->fd, c->input + c->input_len, sizeof c->input - c->input_len, 0);
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_RECV);
}

static void queue_send(struct connection* c) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, c->fd, c->output + c->output_sent, c->output_len - c->output_sent,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_SEND);
}

static void queue_accept(void) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, 0);
  io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

// Answers the next complete request in the input, or waits for more bytes.
static void answer_or_read(struct connection* c) {
  char* end = memmem(c->input, c->input_len, "\r\n\r\n", 4);
  if (end == NULL) {
    if (c->input_len == sizeof c->input) {
      close(c->fd);
      free(c);
      return;
    }
    queue_recv(c);
    return;
  }
  size_t path_len;
  const char* path = floor_request_path(c->input, end, &path_len);
  floor_answer_for(path, path_len, &c->output, &c->output_len);
  size_t consumed = (size_t)(end + 4 - c->input);
  memmove(c->input, c->input + consumed, c->input_len - consumed);
  c->input_len -= consumed;
  c->output_sent = 0;
  queue_send(c);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor_uring PORT\n");
    return 2;
  }
  floor_build_answers();
  int epoll_fd = floor_listen("floor_uring: listen", argv[1], 1024, &listener);
  if (epoll_fd < 0) return 1;
  close(epoll_fd);  // the ring accepts instead
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  if (getenv("PLAIN") == NULL) {
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  }
  int err = io_uring_queue_init_params(1024, &ring, &params);
  if (err < 0) {
    fprintf(stderr, "floor_uring: io_uring_queue_init: %s\n", strerror(-err));
    return 1;
  }
  queue_accept();
  int one = 1;
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const int op = (int)(cqe->user_data & OP_MASK);
      struct connection* c = (struct connection*)(uintptr_t)(cqe->user_data & ~(uint64_t)OP_MASK);
      const int res = cqe->res;
      if (op == OP_ACCEPT) {
        if (res >= 0) {
          setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct connection* fresh = aligned_alloc(64, (sizeof *fresh + 63) / 64 * 64);
          memset(fresh, 0, sizeof *fresh);
          fresh->fd = res;
          queue_recv(fresh);
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) queue_accept();
      } else if (op == OP_RECV) {
        if (res <= 0) {
          close(c->fd);
          free(c);
          continue;
        }
        c->input_len += (size_t)res;
        answer_or_read(c);
      } else if (op == OP_SEND) {
        if (res < 0) {
          close(c->fd);
          free(c);
          continue;
        }
        c->output_sent += (size_t)res;
        if (c->output_sent < c->output_len) {
          queue_send(c);
        } else {
          answer_or_read(c);
        }
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}
