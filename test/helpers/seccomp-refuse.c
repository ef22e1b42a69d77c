// Test support: runs a command with one system call refused by a seccomp filter when two of its
// arguments have the given values, as a sandbox or an older kernel would refuse it:
//   seccomp-refuse SYSCALL ARG_A VALUE_A ARG_B VALUE_B ERRNO COMMAND [ARG]...
// SYSCALL is `socket` or `setsockopt`; ARG_* are argument indexes (0-5), VALUE_* and ERRNO numbers.
// test/helpers/seccomp.ts names the refusals the tests use. seccomp(2), prctl(2).
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long number(const char* text) {
  char* end = NULL;
  long n = strtol(text, &end, 0);
  if (*text == '\0' || *end != '\0') {
    fprintf(stderr, "seccomp-refuse: not a number: %s\n", text);
    exit(2);
  }
  return n;
}

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr,
            "usage: seccomp-refuse SYSCALL ARG_A VALUE_A ARG_B VALUE_B ERRNO COMMAND [ARG]...\n");
    return 2;
  }
  long nr = strcmp(argv[1], "socket") == 0       ? __NR_socket
            : strcmp(argv[1], "setsockopt") == 0 ? __NR_setsockopt
                                                 : -1;
  long arg_a = number(argv[2]), arg_b = number(argv[4]);
  if (nr < 0 || arg_a < 0 || arg_a > 5 || arg_b < 0 || arg_b > 5) {
    fprintf(stderr, "seccomp-refuse: SYSCALL is socket or setsockopt, ARG_A and ARG_B 0-5\n");
    return 2;
  }
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
               offsetof(struct seccomp_data, args[0]) + 8 * (unsigned)arg_a),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number(argv[3]), 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
               offsetof(struct seccomp_data, args[0]) + 8 * (unsigned)arg_b),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number(argv[5]), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)number(argv[6]) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
    perror("seccomp");
    return 1;
  }
  execvp(argv[7], argv + 7);
  perror("execvp");
  return 127;
}
