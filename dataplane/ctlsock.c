/* Control socket I/O on the main lcore. See ctlsock.h; the protocol is in ctlmsg.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>

#include <rtpanchor/dp_proto.h>

#include "ctlmsg.h"
#include "ctlsock.h"

#define CTLSOCK_MAX_CLIENTS 64
/* Connections the kernel queues until the main lcore accepts them (it does so once per
 * control poll). A burst of short-lived clients (a CLI loop, a control restart) must not
 * see EAGAIN from connect(): queue more than the clients we serve at once. */
#define CTLSOCK_BACKLOG 256
#define CTLSOCK_BURST       32 /* writes served per poll, so the slow path keeps up; a
				    * BATCH counts its writes (one ends the round) */

static struct {
	int lfd;
	int epfd;
	int nclients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* +1 so an oversized datagram is detected by MSG_TRUNC rather than silently cut. */
	uint64_t rx[RPA_DP_MSG_MAX / 8 + 1];
	uint64_t tx[RPA_DP_MSG_MAX / 8];
} C = {.lfd = -1, .epfd = -1};

static int make_parent(const char *path)
{
	char dir[sizeof(C.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT && make_parent(dir) == 0 && mkdir(dir, 0755) == 0)
		return 0;
	return -errno;
}

int ctlsock_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN};
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = make_parent(path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			snprintf(err, errlen, "%s: another dataplane is listening", path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(path); /* stale: its owner died */
	}
	snprintf(C.path, sizeof(C.path), "%s", path);
	C.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (C.lfd < 0 || bind(C.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(C.lfd, CTLSOCK_BACKLOG) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		ctlsock_close();
		return rc;
	}
	C.epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = C.lfd;
	if (C.epfd < 0 || epoll_ctl(C.epfd, EPOLL_CTL_ADD, C.lfd, &ev) < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		ctlsock_close();
		return rc;
	}
	return 0;
}

static void drop_client(int fd)
{
	epoll_ctl(C.epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	C.nclients--;
}

static void accept_clients(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd;

	while ((fd = accept4(C.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (C.nclients >= CTLSOCK_MAX_CLIENTS) {
			RTE_LOG(WARNING, USER1, "control socket: more than %d clients, refusing\n",
				CTLSOCK_MAX_CLIENTS);
			close(fd);
			continue;
		}
		ev.data.fd = fd;
		if (epoll_ctl(C.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		C.nclients++;
	}
}

/* Stream writes a reply accounts for: a BATCH's count, else 1. */
static unsigned writes_of(const void *reply)
{
	const struct rpa_dp_reply *r = reply;
	const struct rpa_dp_batch_reply *b = (const void *)(r + 1);

	if (r->hdr.type != RPA_DP_BATCH || r->status != 0 || b->count == 0)
		return 1;
	return b->count;
}

static void serve(int fd)
{
	unsigned budget = CTLSOCK_BURST, w;

	while (budget > 0) {
		ssize_t n = recv(fd, C.rx, sizeof(C.rx), MSG_DONTWAIT | MSG_TRUNC);
		size_t rlen;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop_client(fd);
			return;
		}
		if (n < 0)
			return;
		rlen = ctlmsg_handle(C.rx, (size_t)n, (size_t)n > RPA_DP_MSG_MAX, C.tx);
		/* A client that does not read its replies loses its connection, not our time. */
		if (send(fd, C.tx, rlen, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			drop_client(fd);
			return;
		}
		w = writes_of(C.tx);
		budget -= w < budget ? w : budget;
	}
}

void ctlsock_poll(int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	if (C.epfd < 0)
		return;
	n = epoll_wait(C.epfd, evs, 16, timeout_ms);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == C.lfd)
			accept_clients();
		else
			serve(evs[i].data.fd);
	}
}

void ctlsock_close(void)
{
	if (C.epfd >= 0)
		close(C.epfd);
	/* Client fds are closed with the process; this runs at exit. */
	if (C.lfd >= 0) {
		close(C.lfd);
		if (C.path[0] != '\0')
			unlink(C.path);
	}
	C.lfd = C.epfd = -1;
	C.path[0] = '\0';
}
