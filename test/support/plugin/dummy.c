/*
 * The test plugin's one program (test/support/plugin-fixture.ts builds it with `gcc -static`):
 * listens on /run/docker/plugins/dummy.sock, the socket its config.json names, and answers the
 * plugin handshake, `POST /Plugin.Activate`, with `{"Implements": ["dummy"]}`; anything else
 * gets a 404. One request per connection; no other I/O. Written for this project.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_DIR "/run/docker/plugins"
#define SOCKET_PATH SOCKET_DIR "/dummy.sock"

static void write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    length -= (size_t)n;
  }
}

static void answer(int fd) {
  char request[8192];
  size_t used = 0;
  /* Read up to the end of the headers (a handshake carries no body worth reading). */
  while (used < sizeof request - 1) {
    ssize_t n = read(fd, request + used, sizeof request - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
    request[used] = '\0';
    if (strstr(request, "\r\n\r\n") != NULL) break;
  }
  request[used] = '\0';
  const char *body;
  const char *status;
  if (strncmp(request, "POST /Plugin.Activate ", 22) == 0) {
    status = "200 OK";
    body = "{\"Implements\": [\"dummy\"]}\n";
  } else {
    status = "404 Not Found";
    body = "{\"Err\": \"not implemented\"}\n";
  }
  char head[256];
  int length = snprintf(head, sizeof head,
                        "HTTP/1.1 %s\r\nContent-Type: application/vnd.docker.plugins.v1+json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        status, strlen(body));
  write_all(fd, head, (size_t)length);
  write_all(fd, body, strlen(body));
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  mkdir("/run", 0755);
  mkdir("/run/docker", 0755);
  mkdir(SOCKET_DIR, 0755);
  unlink(SOCKET_PATH);
  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  if (server < 0) return perror("socket"), 1;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, SOCKET_PATH, sizeof address.sun_path - 1);
  if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) return perror("bind"), 1;
  if (listen(server, 16) < 0) return perror("listen"), 1;
  for (;;) {
    int client = accept(server, NULL, NULL);
    if (client < 0) {
      if (errno == EINTR) continue;
      return perror("accept"), 1;
    }
    answer(client);
    close(client);
  }
}
