// SPDX-License-Identifier: MIT
// Shared by the tc program and its loader: one map entry per offloaded direction of a stream.
#ifndef NGR_FASTPATH_H
#define NGR_FASTPATH_H

#define NGR_MAX_ENTRIES 262144

/* The packet as it arrives: peer (src) -> relay (dst); addresses in network order, IPv4 in the first 4 bytes. */
struct ngr_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 src[16];
	__u8 dst[16];
	__u16 sport; /* network order */
	__u16 dport;
};

/* The packet as it leaves: relay's other socket (src) -> other peer (dst). */
struct ngr_target {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
};

struct ngr_value {
	struct ngr_target rtp;
	/* Muxed RTCP towards a peer that does not mux (dport 0 = none). */
	struct ngr_target rtcp_alt;
	/* Device the loader's route lookup found for the rewritten packet, used only where forwarding
	 * is off on the device it came in by (the kernel's forwarding lookup then refuses); 0 = none. */
	__u32 ifindex;
	__u32 pad0;
	__u64 packets;
	__u64 bytes;
	__u64 errors;
	__u64 last_ns; /* bpf_ktime_get_ns() of the last packet */
	__u32 ssrc;
	__u32 pad;
	__u64 to_userspace; /* packets of this entry left to the stack: no route or next hop yet */
};

#endif
