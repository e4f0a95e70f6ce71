// The floor of the peer benchmark: not a proxy, the least work an HTTP/1.1 server can do per
// request on this kernel. One thread, level-triggered epoll, one recv and one send per request,
// every answer prebuilt in memory (the bench's objects, generated with the origin's pattern).
// It caches nothing and checks almost nothing; its CPU per request is what the loopback TCP path
// and the system calls cost, which every peer in the run pays too.
//
// Usage: floor PORT   (serves /obj/1k.bin, /obj/16k.bin, /obj/256k.bin, /obj/4m.bin)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "floor_common.h"

struct connection {
  int fd;
  char input[8192];
  size_t input_len;
  const char* output;  // the answer being sent
  size_t output_len;
  size_t output_sent;
};

static void set_events(int epoll_fd, struct connection* c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_connection(int epoll_fd, struct connection* c) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

// Sends what is pending; returns -1 when the connection died.
static int flush_output(int epoll_fd, struct connection* c) {
  while (c->output_sent < c->output_len) {
    ssize_t n = send(c->fd, c->output + c->output_sent, c->output_len - c->output_sent,
                     MSG_NOSIGNAL);
    if (n > 0) {
      c->output_sent += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_events(epoll_fd, c, EPOLLOUT);
      return 0;
    }
    return -1;
  }
  c->output = NULL;
  return 0;
}

// Answers every complete request in the input; returns -1 when the connection died.
static int answer_requests(int epoll_fd, struct connection* c) {
  while (c->output == NULL) {
    char* end = memmem(c->input, c->input_len, "\r\n\r\n", 4);
    if (end == NULL) return c->input_len == sizeof c->input ? -1 : 0;
    size_t path_len;
    const char* path = floor_request_path(c->input, end, &path_len);
    const char* answer;
    size_t answer_len;
    floor_answer_for(path, path_len, &answer, &answer_len);
    size_t consumed = (size_t)(end + 4 - c->input);
    memmove(c->input, c->input + consumed, c->input_len - consumed);
    c->input_len -= consumed;
    c->output = answer;
    c->output_len = answer_len;
    c->output_sent = 0;
    if (flush_output(epoll_fd, c) < 0) return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor PORT\n");
    return 2;
  }
  floor_build_answers();
  int listener;
  int epoll_fd = floor_listen("floor: listen", argv[1], 1024, &listener);
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
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = fresh};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (flush_output(epoll_fd, c) < 0) {
          close_connection(epoll_fd, c);
          continue;
        }
        if (c->output != NULL) continue;
        set_events(epoll_fd, c, EPOLLIN);
        if (answer_requests(epoll_fd, c) < 0) close_connection(epoll_fd, c);
        continue;
      }
      if (c->output != NULL) continue;
      ssize_t got = recv(c->fd, c->input + c->input_len, sizeof c->input - c->input_len, 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        close_connection(epoll_fd, c);
        continue;
      }
      c->input_len += (size_t)got;
      if (answer_requests(epoll_fd, c) < 0) close_connection(epoll_fd, c);
    }
  }
}
