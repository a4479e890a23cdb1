// SPDX-License-Identifier: MIT
// tc-ingress fast path for confirmed RTP/RTCP streams: a packet whose exact 4-tuple
// (peer address:port -> relay address:port) is in the map leaves rewritten (relay's other
// address:port -> other peer's address:port) by the device and next hop the kernel's routing
// table gives for the rewritten packet, without reaching the relay's socket. Anything else
// passes on untouched (to the next program on the device, then the stack), so the relay's
// userspace policy sees it; so does a packet of ours the kernel cannot route or whose next
// hop's link-layer address is not known yet (the relay's socket sends it, which resolves it).
#include <linux/bpf.h>
#include <linux/socket.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NGR_MAX_ENTRIES);
	__type(key, struct ngr_key);
	__type(value, struct ngr_value);
} ngr_streams SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, check))

/* Not ours: let the next program on the device decide (another relay's table, the operator's
 * own), and the stack after them. TC_ACT_OK would end the chain right here. */
#define PASS TC_ACT_UNSPEC
/* Ours, but not for the fast path now: straight to the stack and the relay's socket, untouched. */
#define TO_USERSPACE TC_ACT_OK

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

static __always_inline int is_rtcp(struct __sk_buff *skb, __u32 payload)
{
	__u8 pt;
	if (bpf_skb_load_bytes(skb, payload + 1, &pt, 1) < 0)
		return 0;
	return pt >= 192 && pt <= 223;
}

/* Replaces `len` bytes at `off` and folds the change into the L4 (and L3) checksums. */
static __always_inline int rewrite_addr(struct __sk_buff *skb, __u32 off, const __u8 *from, const __u8 *to, int v6,
					__u32 udp_csum_off, int csum_zero)
{
	int i;
	if (v6) {
		for (i = 0; i < 16; i += 4) {
			__u32 o = *(const __u32 *)(from + i), n = *(const __u32 *)(to + i);
			if (o == n)
				continue;
			if (bpf_l4_csum_replace(skb, udp_csum_off, o, n, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4) < 0)
				return -1;
		}
		return bpf_skb_store_bytes(skb, off, to, 16, 0);
	}
	__u32 o = *(const __u32 *)from, n = *(const __u32 *)to;
	if (o == n)
		return 0;
	if (!csum_zero && bpf_l4_csum_replace(skb, udp_csum_off, o, n, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, o, n, 4) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, to, 4, 0);
}

static __always_inline int rewrite_port(struct __sk_buff *skb, __u32 off, __u16 from, __u16 to, __u32 udp_csum_off, int csum_zero)
{
	if (from == to)
		return 0;
	if (!csum_zero && bpf_l4_csum_replace(skb, udp_csum_off, from, to, BPF_F_MARK_MANGLED_0 | 2) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, 2, 0);
}

SEC("tc")
int ngr_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ngr_key key = {};
	struct bpf_fib_lookup fib = {};
	__u32 l3 = ETH_HLEN, l4, saddr_off, daddr_off;
	int v6;

	if ((void *)(eth + 1) > end)
		return PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l3;
		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
			return PASS;
		if (ip->frag_off & bpf_htons(0x3fff)) /* fragments stay in userspace */
			return PASS;
		v6 = 0;
		key.family = 4;
		__builtin_memcpy(key.src, &ip->saddr, 4);
		__builtin_memcpy(key.dst, &ip->daddr, 4);
		fib.family = AF_INET;
		fib.tos = ip->tos;
		l4 = l3 + sizeof(struct iphdr);
		saddr_off = l3 + __builtin_offsetof(struct iphdr, saddr);
		daddr_off = l3 + __builtin_offsetof(struct iphdr, daddr);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l3;
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return PASS;
		v6 = 1;
		key.family = 6;
		__builtin_memcpy(key.src, &ip6->saddr, 16);
		__builtin_memcpy(key.dst, &ip6->daddr, 16);
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		l4 = l3 + sizeof(struct ipv6hdr);
		saddr_off = l3 + __builtin_offsetof(struct ipv6hdr, saddr);
		daddr_off = l3 + __builtin_offsetof(struct ipv6hdr, daddr);
	} else {
		return PASS;
	}
	struct udphdr *udp = data + l4;
	if ((void *)(udp + 1) > end)
		return PASS;
	key.sport = udp->source;
	key.dport = udp->dest;

	struct ngr_value *v = bpf_map_lookup_elem(&ngr_streams, &key);
	if (!v)
		return PASS;

	__u32 payload = l4 + sizeof(struct udphdr);
	int rtcp = is_rtcp(skb, payload);
	struct ngr_target *t = &v->rtp;
	if (v->rtcp_alt.dport && rtcp)
		t = &v->rtcp_alt;

	/* Where the rewritten packet goes, asked before anything is changed: the routing table
	 * for its new addresses, as if the kernel forwarded it from the device it came in by. */
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = t->sport;
	fib.dport = t->dport;
	fib.ifindex = skb->ingress_ifindex;
	if (v6) {
		__builtin_memcpy(fib.ipv6_src, t->src, 16);
		__builtin_memcpy(fib.ipv6_dst, t->dst, 16);
	} else {
		__builtin_memcpy(&fib.ipv4_src, t->src, 4);
		__builtin_memcpy(&fib.ipv4_dst, t->dst, 4);
	}
	long route = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	__u32 out_ifindex;
	if (route == BPF_FIB_LKUP_RET_SUCCESS) {
		out_ifindex = fib.ifindex;
	} else if (route == BPF_FIB_LKUP_RET_FWD_DISABLED && v->ifindex) {
		/* Forwarding is off on the device it came in by: the lookup refuses, so the device the
		 * loader found for this entry it is, and the kernel's output route picks the next hop. */
		out_ifindex = 0;
	} else {
		/* No route, next hop's link-layer address unknown, too big for the route's MTU... */
		__sync_fetch_and_add(&v->to_userspace, 1);
		return TO_USERSPACE;
	}

	__u32 udp_csum_off = l4 + __builtin_offsetof(struct udphdr, check);
	/* An IPv4 UDP checksum of 0 means "none": it must stay 0. */
	int csum_zero = !v6 && udp->check == 0;
	__u16 old_sport = udp->source, old_dport = udp->dest;
	__u32 ssrc = 0;

	if (!rtcp)
		bpf_skb_load_bytes(skb, payload + 8, &ssrc, 4);

	if (rewrite_addr(skb, saddr_off, key.src, t->src, v6, udp_csum_off, csum_zero) < 0 ||
	    rewrite_addr(skb, daddr_off, key.dst, t->dst, v6, udp_csum_off, csum_zero) < 0 ||
	    rewrite_port(skb, l4 + __builtin_offsetof(struct udphdr, source), old_sport, t->sport, udp_csum_off, csum_zero) < 0 ||
	    rewrite_port(skb, l4 + __builtin_offsetof(struct udphdr, dest), old_dport, t->dport, udp_csum_off, csum_zero) < 0 ||
	    (out_ifindex && (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) < 0 ||
			     bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0) < 0))) {
		__sync_fetch_and_add(&v->errors, 1);
		return TC_ACT_SHOT;
	}

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, skb->len - payload);
	v->last_ns = bpf_ktime_get_ns();
	if (ssrc)
		v->ssrc = bpf_ntohl(ssrc);

	if (out_ifindex)
		return bpf_redirect(out_ifindex, 0);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
