/* rtpanchor-udpgen protect|unprotect: an SRTP/SRTCP filter over stdin/stdout for tests
 * that craft packets byte by byte. One thread. */
#ifndef RTPANCHOR_UDPGEN_XFORM_H
#define RTPANCHOR_UDPGEN_XFORM_H

/* argv[1] is "protect" or "unprotect". Reads one packet per line in hex and answers each
 * with one flushed line: "ok HEX" or the verdict ("auth_fail", "replay", "srtp_other"); a
 * line that is not hex of 8..9216 bytes gets "error ...". One libsrtp2 session serves the
 * whole input. Exit 0 at end of input, 2 on a usage error, 3 when libsrtp2 fails to start. */
int udpgen_xform_main(int argc, char **argv);

#endif
