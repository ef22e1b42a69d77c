// The floor for `safebind bench churn --mode native --concurrency 1`: the plainest blocking
// connect+close loop C can write, against the same listener. socket(7), tcp(7), connect(2),
// close(2), clock_gettime(2).
//
//   connect_floor HOST PORT SECONDS [--linger0]
// prints one JSON line: {"connects":N,"errors":N,"durationMs":N,"ratePerSec":N}
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: connect_floor HOST PORT SECONDS [--linger0]\n");
    return 2;
  }
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof(ss));
  struct sockaddr_in* sin = (struct sockaddr_in*)&ss;
  struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&ss;
  char* rest = NULL;
  long port = strtol(argv[2], &rest, 10);
  double seconds = atof(argv[3]);
  // A port outside 0-65535 would wrap in htons, and no positive duration makes the rate 0/0.
  if (*argv[2] == '\0' || *rest != '\0' || port < 0 || port > 65535 || !(seconds > 0)) {
    fprintf(stderr, "connect_floor: PORT must be 0-65535 and SECONDS positive\n");
    return 2;
  }
  if (inet_pton(AF_INET, argv[1], &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    len = sizeof(*sin);
  } else if (inet_pton(AF_INET6, argv[1], &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((unsigned short)port);
    len = sizeof(*sin6);
  } else {
    fprintf(stderr, "connect_floor: not an address: %s\n", argv[1]);
    return 2;
  }
  int linger0 = argc > 4 && strcmp(argv[4], "--linger0") == 0;
  struct linger lg = {1, 0};
  unsigned long connects = 0, errors = 0;
  double start = now_s(), end = start + seconds, t = start;
  while (t < end) {
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      errors++;
      t = now_s();
      continue;
    }
    if (linger0) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (connect(fd, (struct sockaddr*)&ss, len) == 0) {
      connects++;
    } else {
      errors++;
    }
    close(fd);
    // One clock read per connect, as the benchmark's loop checks its deadline once per connect too.
    t = now_s();
  }
  double elapsed = t - start;
  printf("{\"connects\":%lu,\"errors\":%lu,\"durationMs\":%.1f,\"ratePerSec\":%.1f}\n", connects,
         errors, elapsed * 1e3, (double)connects / elapsed);
  return 0;
}
