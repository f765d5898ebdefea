/*
 * `ssh-add -l` (and more) for a test image without OpenSSH: connects to $SSH_AUTH_SOCK, asks the
 * agent for its identities (SSH_AGENTC_REQUEST_IDENTITIES, 11) and prints `key <hex blob>
 * <comment>` for each. With a challenge argument it then asks the agent to sign it with each key
 * (SSH_AGENTC_SIGN_REQUEST, 13; flags SSH_AGENT_RSA_SHA2_512 for an ssh-rsa key) and prints
 * `sig <hex signature blob>`, and sends a request the agent must refuse (ADD_IDENTITY, 17, empty)
 * and prints `other <answer type>`. Built with `gcc -static` by test/integration/buildkit.test.ts
 * (the busybox image has no libc).
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

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void hex(const unsigned char *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) printf("%02x", p[i]);
}

/* Sends `body` (n bytes) as one agent message; returns the answer's body (its length in *length). */
static unsigned char *request(int fd, const unsigned char *body, uint32_t n, uint32_t *length) {
  unsigned char head[4];
  put32(head, n);
  if (write(fd, head, 4) != 4 || write(fd, body, n) != (ssize_t)n) { perror("write"); exit(2); }
  if (read_full(fd, head, 4) != 0) { fprintf(stderr, "no answer\n"); exit(2); }
  *length = be32(head);
  if (*length < 1 || *length > 1 << 20) { fprintf(stderr, "bad answer length\n"); exit(2); }
  unsigned char *answer = malloc(*length);
  if (answer == NULL || read_full(fd, answer, *length) != 0) { fprintf(stderr, "short answer\n"); exit(2); }
  return answer;
}

int main(int argc, char **argv) {
  const char *path = getenv("SSH_AUTH_SOCK");
  if (path == NULL) { fprintf(stderr, "SSH_AUTH_SOCK is not set\n"); return 2; }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 2; }
  const unsigned char identities[1] = { 11 };
  uint32_t length;
  unsigned char *body = request(fd, identities, 1, &length);
  if (body[0] != 12 || length < 5) { fprintf(stderr, "agent answered type %d\n", body[0]); return 2; }
  uint32_t keys = be32(body + 1), at = 5;
  printf("%u keys\n", keys);
  const char *challenge = argc > 1 ? argv[1] : NULL;
  for (uint32_t i = 0; i < keys; i++) {
    if (at + 4 > length) return 2;
    uint32_t blob = be32(body + at);
    if (at + 4 + blob + 4 > length) return 2;
    const unsigned char *key = body + at + 4;
    at += 4 + blob;
    uint32_t comment = be32(body + at); at += 4;
    if (at + comment > length) return 2;
    printf("key ");
    hex(key, blob);
    printf(" %.*s\n", (int)comment, (const char *)(body + at)); at += comment;
    if (challenge == NULL) continue;
    /* SIGN_REQUEST: byte 13, string key blob, string data, uint32 flags */
    uint32_t data = strlen(challenge);
    uint32_t n = 1 + 4 + blob + 4 + data + 4;
    unsigned char *sign = malloc(n);
    if (sign == NULL) return 2;
    sign[0] = 13;
    put32(sign + 1, blob); memcpy(sign + 5, key, blob);
    put32(sign + 5 + blob, data); memcpy(sign + 9 + blob, challenge, data);
    int rsa = blob > 11 && memcmp(key + 4, "ssh-rsa", 7) == 0;
    put32(sign + 9 + blob + data, rsa ? 4 : 0);
    uint32_t answered;
    unsigned char *signature = request(fd, sign, n, &answered);
    if (signature[0] != 14 || answered < 5 || be32(signature + 1) + 5 > answered) {
      fprintf(stderr, "sign answered type %d\n", signature[0]); return 2;
    }
    printf("sig ");
    hex(signature + 5, be32(signature + 1));
    printf("\n");
    free(signature);
    free(sign);
  }
  if (challenge != NULL) {
    const unsigned char add[1] = { 17 };
    uint32_t answered;
    unsigned char *other = request(fd, add, 1, &answered);
    printf("other %d\n", other[0]);
  }
  return 0;
}
