/*
 * `ssh-add -l` for a test image without OpenSSH: connects to $SSH_AUTH_SOCK, asks the agent for
 * its identities (SSH_AGENTC_REQUEST_IDENTITIES, 11) and prints each key's comment, one a line.
 * Built with `gcc -static` by test/integration/buildkit.test.ts (the busybox image has no libc).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int read_full(int fd, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int main(void) {
  const char *path = getenv("SSH_AUTH_SOCK");
  if (path == NULL) { fprintf(stderr, "SSH_AUTH_SOCK is not set\n"); return 2; }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 2; }
  const unsigned char request[5] = { 0, 0, 0, 1, 11 };
  if (write(fd, request, sizeof request) != sizeof request) { perror("write"); return 2; }
  unsigned char head[4];
  if (read_full(fd, head, 4) != 0) { fprintf(stderr, "no answer\n"); return 2; }
  uint32_t length = be32(head);
  if (length < 5 || length > 1 << 20) { fprintf(stderr, "bad answer length\n"); return 2; }
  unsigned char *body = malloc(length);
  if (body == NULL || read_full(fd, body, length) != 0) { fprintf(stderr, "short answer\n"); return 2; }
  if (body[0] != 12) { fprintf(stderr, "agent answered type %d\n", body[0]); return 2; }
  uint32_t keys = be32(body + 1), at = 5;
  printf("%u keys\n", keys);
  for (uint32_t i = 0; i < keys; i++) {
    if (at + 4 > length) return 2;
    uint32_t blob = be32(body + at); at += 4 + blob;
    if (at + 4 > length) return 2;
    uint32_t comment = be32(body + at); at += 4;
    if (at + comment > length) return 2;
    printf("%.*s\n", (int)comment, (const char *)(body + at)); at += comment;
  }
  return 0;
}
