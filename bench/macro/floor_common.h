// What the two floors of the benchmark (floor.c, plain; tls_floor.c, TLS) share: the bench's
// objects with the origin's head fields and body pattern (bench/macro/peers.py), prebuilt in
// memory at start; the request's path picked out of a complete request head; and the listening
// socket on 127.0.0.1 with its epoll set. Header-only: each floor is one C file the runner
// compiles on its own.
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

struct floor_object {
  const char* path;
  size_t size;
  char* answer;  // head + body
  size_t answer_len;
};

static struct floor_object floor_objects[] = {
    {"/obj/1k.bin", 1024, NULL, 0},
    {"/obj/16k.bin", 16 * 1024, NULL, 0},
    {"/obj/256k.bin", 256 * 1024, NULL, 0},
    {"/obj/4m.bin", 4 * 1024 * 1024, NULL, 0},
};
#define FLOOR_OBJECT_COUNT (sizeof floor_objects / sizeof floor_objects[0])

static const char floor_not_found[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

static void floor_build_answers(void) {
  for (size_t i = 0; i < FLOOR_OBJECT_COUNT; ++i) {
    struct floor_object* o = &floor_objects[i];
    char head[512];
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 200 OK\r\nServer: floor\r\n"
                            "Date: Wed, 25 Nov 2026 00:00:00 GMT\r\n"
                            "Content-Type: application/octet-stream\r\n"
                            "Last-Modified: Wed, 25 Nov 2026 00:00:00 GMT\r\n"
                            "ETag: \"floor-%zx\"\r\nCache-Control: public, max-age=3600\r\n"
                            "Accept-Ranges: bytes\r\nAge: 0\r\nContent-Length: %zu\r\n\r\n",
                            o->size, o->size);
    o->answer_len = (size_t)head_len + o->size;
    o->answer = malloc(o->answer_len);
    memcpy(o->answer, head, (size_t)head_len);
    for (size_t b = 0; b < o->size; ++b) {  // the origin's pattern (bench/macro/peers.py)
      o->answer[head_len + b] = (char)(((b % 4096) * 131 + o->size) & 0xFF);
    }
  }
}

// The target of the request line in [head, end) (end: the blank line); length 0 if none.
static const char* floor_request_path(const char* head, const char* end, size_t* path_len) {
  *path_len = 0;
  const char* path = memchr(head, ' ', (size_t)(end - head));
  if (path == NULL) return NULL;
  ++path;
  const char* path_end = memchr(path, ' ', (size_t)(end - path));
  *path_len = path_end ? (size_t)(path_end - path) : 0;
  return path;
}

// The prebuilt answer for a path: an object, or the 404.
static void floor_answer_for(const char* path, size_t path_len, const char** answer,
                             size_t* answer_len) {
  *answer = floor_not_found;
  *answer_len = sizeof floor_not_found - 1;
  for (size_t i = 0; i < FLOOR_OBJECT_COUNT; ++i) {
    const struct floor_object* o = &floor_objects[i];
    if (strlen(o->path) == path_len && memcmp(o->path, path, path_len) == 0) {
      *answer = o->answer;
      *answer_len = o->answer_len;
    }
  }
}

// A non-blocking listener on 127.0.0.1:port, registered in a new epoll set (data.ptr NULL marks
// it). Returns the epoll descriptor, or -1 after printing why (name: the program, for perror).
static int floor_listen(const char* name, const char* port, int backlog, int* listener_out) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, backlog) != 0) {
    perror(name);
    return -1;
  }
  int epoll_fd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev);
  *listener_out = listener;
  return epoll_fd;
}
