/* The control socket server: a Unix SOCK_SEQPACKET listener (mode 0600), non-blocking,
 * driven from the main lcore's loop. Each datagram is handed to ctlmsg_handle and its one
 * reply sent back. */
#ifndef DP_CTLSOCK_H
#define DP_CTLSOCK_H

#include <stddef.h>

/* Create the parent directory if missing, refuse a path where another dataplane answers,
 * replace a stale socket file. 0 or -errno with a message in err. */
int ctlsock_open(const char *path, char *err, size_t errlen);
/* Wait up to timeout_ms for activity, serve what arrived. */
void ctlsock_poll(int timeout_ms);
/* Close every connection and remove the socket file. */
void ctlsock_close(void);

#endif
