// Fills a namespace's TCP table with TIME_WAIT sockets toward many destinations, for the exporter
// benchmark: one listener on 0.0.0.0:PORT, and for each destination 127.0.X.Y:PORT (all of 127/8 is
// local) COUNT connects whose client side closes first, so each leaves one TIME_WAIT socket (they
// hold no descriptor). Needs tcp_tw_reuse=0 and tcp_max_tw_buckets above the total. socket(7),
// tcp(7).
//
//   tw_fill PORT DESTINATIONS COUNT      prints {"timeWaits":N,"destinations":D}
#define _GNU_SOURCE  // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: tw_fill PORT DESTINATIONS COUNT\n");
    return 2;
  }
  int port = atoi(argv[1]), dests = atoi(argv[2]), count = atoi(argv[3]);
  if (port < 1 || port > 65535 || dests < 1 || dests > 60000 || count < 1) return 2;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(lfd, (struct sockaddr*)&any, sizeof(any)) < 0 || listen(lfd, 1024) < 0) {
    perror("listen");
    return 1;
  }
  long made = 0;
  char buf[16];
  for (int d = 0; d < dests; d++) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    // 127.0.(1 + d / 250).(1 + d % 250)
    to.sin_addr.s_addr =
        htonl((127u << 24) | ((unsigned)(1 + d / 250) << 8) | (unsigned)(1 + d % 250));
    for (int i = 0; i < count; i++) {
      int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c < 0 || connect(c, (struct sockaddr*)&to, sizeof(to)) < 0) {
        perror("connect");
        return 1;
      }
      int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (s < 0) {
        perror("accept");
        return 1;
      }
      close(c);  // the client's FIN goes first: its side ends in TIME_WAIT
      while (read(s, buf, sizeof(buf)) > 0) {
      }
      close(s);
      made++;
    }
  }
  close(lfd);
  printf("{\"timeWaits\":%ld,\"destinations\":%d}\n", made, dests);
  return 0;
}
