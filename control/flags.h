/* The `flags` field of a command: space separated words, parsed into one struct. Pure, any
 * thread; bounded in length and count; no I/O.
 *
 * Words (an unknown or malformed word is -EINVAL with a message naming it):
 *   trust-address        use the SDP address of the party sending this SDP: no latching,
 *                        packets go to the SDP address, the expected source is that address
 *   strict-source        drop packets from another source than the expected one (after the
 *                        latch when latching, the SDP address with trust-address)
 *   symmetric            the default: the party sends from where it receives; latch on it
 *   asymmetric           the party sends from elsewhere: no latching, any source accepted
 *                        (conflicts with symmetric and with strict-source)
 *   ice-remove           strip ICE attributes (rtpanchor always strips them: without this
 *                        word a warning says so)
 *   replace-origin       write the relay address into o=
 *   replace-session-connection  write the relay address into the session-level c=
 *   direction=<if>,<if>  media interfaces by name: the first for the party sending the offer
 *                        (the caller on an initial offer), the second for the other party
 *   media-address=<addr> the address written into the SDP this command returns instead of
 *                        the interface's advertised one
 *   rtcp-mux=<mode>      see below; one mode per command
 *   delete-delay=<s>     delete: remove the call this many seconds later (0 = now)
 *   transport-protocol=<p>  RTP/AVP, RTP/SAVP, RTP/AVPF or RTP/SAVPF: the profile the
 *                        other party gets (the answerer's on an offer), as in rtpengine:
 *                        SAVP on one leg and AVP on the other makes the relay decrypt and
 *                        encrypt; SAVP on both re-keys (each leg has keys of its own).
 *                        Without it a re-offer keeps what the section had, and a new
 *                        section gets the offerer's profile. Accepted without effect on an
 *                        answer (the answer must carry the offer's profile, RFC 3264).
 *   sdes-passthrough     leave a=crypto and SRTP payloads untouched end to end (the
 *                        endpoints keep their own keys); kept by later re-offers
 *
 * trust-address, strict-source, symmetric and asymmetric describe the endpoint whose SDP
 * comes with the command (the offerer on an offer, the answerer on an answer), as in
 * rtpengine's NG protocol.
 *
 * rtcp-mux modes (RFC 5761), read from rtpengine's NG protocol documentation. The mode is
 * taken from the offer and governs that offer/answer exchange; rtcp-mux= on an answer is
 * accepted and has no effect (rtpengine ignores it there too). "offerer" is the party whose
 * SDP the offer carries, "answerer" the one it is sent to; "muxed" means RTCP shares the
 * RTP port on that leg.
 *   (none)   go along with the endpoints: offer mux onward iff the offerer offered it; each
 *            leg is muxed iff the offerer offered it and the answerer accepted it.
 *   offer    always offer mux to the answerer, even when the offerer did not; the answerer's
 *            leg is muxed iff it accepts; the offerer's leg iff it offered and the answerer
 *            accepted.
 *   require  like offer, but behave as if the answerer had accepted already: its leg is
 *            muxed from the offer on and the offer carries no separate RTCP port (for WebRTC;
 *            against RFC 5761 for an initial offer). The offerer's leg is muxed iff it
 *            offered mux.
 *   demux    do not offer mux onward (the answerer's leg is never muxed), but accept it back
 *            to the offerer when it offered it.
 *   accept   accept mux towards the offerer whenever it offered it (whatever the answerer
 *            says), and offer it onward when the offerer offered it.
 *   reject   refuse mux: neither offered onward nor accepted back; both legs use a separate
 *            RTCP port.
 */
#ifndef RTPANCHOR_FLAGS_H
#define RTPANCHOR_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rtpanchor/addr.h>

#include "sdes.h"

#define FLAGS_MAX_LEN	 4096	/* bytes of the whole field */
#define FLAGS_MAX_WORDS	 32	/* words in it */
#define FLAGS_WORD_MAX	 128	/* bytes of one word */
#define FLAGS_IFNAME_MAX 32	/* bytes of an interface name in direction=, with its NUL */
#define FLAGS_DELAY_MAX	 86400u /* longest delete-delay, seconds */

enum flags_rtcp_mux {
	FLAGS_MUX_DEFAULT = 0,
	FLAGS_MUX_OFFER,
	FLAGS_MUX_REQUIRE,
	FLAGS_MUX_DEMUX,
	FLAGS_MUX_ACCEPT,
	FLAGS_MUX_REJECT,
};

struct flags {
	bool trust_address;
	bool strict_source;
	bool symmetric;
	bool asymmetric;
	bool ice_remove;
	bool replace_origin;
	bool replace_session_conn;
	bool has_direction;
	char direction[2][FLAGS_IFNAME_MAX];
	bool has_media_address;
	struct rpa_addr media_address;
	enum flags_rtcp_mux rtcp_mux;
	bool has_delete_delay;
	uint32_t delete_delay_s;
	enum sdes_profile transport; /* SDES_PROFILE_OTHER: transport-protocol= not given */
	bool sdes_passthrough;
};

/* Parse s (NULL or empty = no flags) into *out (always initialised). Words are separated
 * by spaces or tabs. A word given twice with different values (or rtcp-mux=offer together
 * with rtcp-mux=reject) and conflicting words are errors. Returns 0 or -EINVAL with a
 * message naming the word in err. */
int flags_parse(const char *s, struct flags *out, char *err, size_t errlen);

/* "offer", "require"... ; "default" for FLAGS_MUX_DEFAULT. */
const char *flags_rtcp_mux_name(enum flags_rtcp_mux m);
/* The inverse of flags_rtcp_mux_name; -EINVAL for an unknown name. */
int flags_rtcp_mux_parse(const char *name, enum flags_rtcp_mux *out);

#endif
