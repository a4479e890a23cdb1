// SPDX-License-Identifier: MIT
// ngrelay-kernel: loads the tc fast-path program, attaches it at the ingress of every Ethernet
// device of its network namespace (and of every one that appears later) and keeps its map,
// driven by the relay over stdin/stdout, one command per line, one reply line per command
// (so every update has its own error). Lines starting `ev ` are events, not replies.
//
//   cleanup                  -> ok N            (filters of this table an older loader left)
//   attach-all               -> ok tcx|tc N     (devices attached; new ones follow by themselves)
//   put KEYHEX TARGETSHEX    -> ok | err TEXT   (counters of an existing entry carry over)
//   del KEYHEX               -> ok PACKETS BYTES ERRORS LAST_NS SSRC TO_USERSPACE | err TEXT
//   dump [SINCE_NS]          -> s KEYHEX PACKETS BYTES ERRORS LAST_NS SSRC TO_USERSPACE ... then: end START_NS
//                               (entries with a packet after SINCE_NS; the next dump passes START_NS)
//   event: ev attached IFNAME | ev attach-failed IFNAME TEXT
//
// Its program forwards only while it lives: where the kernel has tcx (6.6+) the program hangs on
// links owned by this process, which the kernel removes when it dies however it dies; on older
// kernels it uses tc filters named after the relay's `table` number, removed on the way out and
// by the next loader's `cleanup`. It dies with the relay (stdin closed, or the parent-death
// signal) and ignores SIGTERM/SIGINT meant for the relay's process group: the relay stops it.
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath.h"

#define HANDLE 0x4e47
#define MAX_LINE 1024
#define MAX_DEVS 4096
/* enum bpf_attach_type values of Linux 6.6, newer than the build's uapi headers may be. */
#define NGR_TCX_INGRESS 46

static int map_fd = -1, prog_fd = -1;
static unsigned priority;
static int use_tcx;
static int watching;
static int link_sock = -1, route_sock = -1;
static __u32 route_seq;

/* Devices the program is attached to: ifindex, and the tcx link's fd (-1 for a tc filter). */
static struct {
	int ifindex;
	int link_fd;
} devs[MAX_DEVS];
static int n_devs;

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int unhex(const char *s, void *out, size_t len)
{
	unsigned char *o = out;
	if (strlen(s) != len * 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		o[i] = (unsigned char)v;
	}
	return 0;
}

static void hex(const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		printf("%02x", b[i]);
}

static __u64 now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = HANDLE, .priority = priority);
	return bpf_tc_detach(&hook, &opts);
}

static int tc_attach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST)
		return rc;
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = HANDLE, .priority = priority, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	return bpf_tc_attach(&hook, &opts);
}

static int attached_at(int ifindex)
{
	for (int i = 0; i < n_devs; i++)
		if (devs[i].ifindex == ifindex)
			return i;
	return -1;
}

/* Attaches the program at a device's ingress; 0, or a negative errno. */
static int attach(int ifindex)
{
	if (attached_at(ifindex) >= 0)
		return 0;
	if (n_devs == MAX_DEVS)
		return -ENOSPC;
	int fd = -1;
	if (use_tcx) {
		fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)NGR_TCX_INGRESS, NULL);
		if (fd < 0)
			return -errno;
	} else {
		int rc = tc_attach(ifindex);
		if (rc)
			return rc;
	}
	devs[n_devs].ifindex = ifindex;
	devs[n_devs].link_fd = fd;
	n_devs++;
	return 0;
}

static void forget(int ifindex)
{
	int i = attached_at(ifindex);
	if (i < 0)
		return;
	if (devs[i].link_fd >= 0)
		close(devs[i].link_fd);
	devs[i] = devs[--n_devs];
}

static void detach_all(void)
{
	for (int i = 0; i < n_devs; i++) {
		if (devs[i].link_fd >= 0)
			close(devs[i].link_fd);
		else
			tc_detach(devs[i].ifindex);
	}
	n_devs = 0;
}

/* The program sits where packets arrive: every device with an Ethernet header (the program
 * parses one), loopback included (a peer on this host). */
static int wanted(unsigned short type)
{
	return type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK;
}

static int device_type(const char *name)
{
	char path[IF_NAMESIZE + 32];
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int t = -1;
	if (fscanf(f, "%d", &t) != 1)
		t = -1;
	fclose(f);
	return t;
}

static void announce(int ifindex, int rc)
{
	char name[IF_NAMESIZE] = "?";
	if_indextoname((unsigned)ifindex, name);
	if (rc)
		printf("ev attach-failed %s %s\n", name, strerror(-rc));
	else
		printf("ev attached %s\n", name);
}

/* tcx where the kernel has it (links die with this process), tc filters otherwise. */
static void choose_mode(void)
{
	int fd = bpf_link_create(prog_fd, 1, (enum bpf_attach_type)NGR_TCX_INGRESS, NULL);
	use_tcx = fd >= 0;
	if (fd >= 0)
		close(fd);
	/* With links the kernel cleans up whatever kills us; filters need us to run. */
	prctl(PR_SET_PDEATHSIG, use_tcx ? SIGKILL : SIGHUP);
}

static void cmd_cleanup(void)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int n = 0;
	for (i = all; i && i->if_index; i++)
		if (attached_at((int)i->if_index) < 0 && tc_detach((int)i->if_index) == 0)
			n++;
	if (all)
		if_freenameindex(all);
	printf("ok %d\n", n);
}

static void cmd_attach_all(void)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int n = 0;
	for (i = all; i && i->if_index; i++) {
		int t = device_type(i->if_name);
		if (t < 0 || !wanted((unsigned short)t))
			continue;
		int rc = attach((int)i->if_index);
		if (rc)
			announce((int)i->if_index, rc);
		else
			n++;
	}
	if (all)
		if_freenameindex(all);
	watching = 1;
	printf("ok %s %d\n", use_tcx ? "tcx" : "tc", n);
}

/* Devices appearing (or renamed, re-created) while we run get the program too. */
static void on_link_events(void)
{
	char buf[16384];
	ssize_t len = recv(link_sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (len <= 0)
		return;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
			continue;
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		if (h->nlmsg_type == RTM_DELLINK) {
			forget(ifi->ifi_index);
			continue;
		}
		if (!watching || !wanted(ifi->ifi_type) || attached_at(ifi->ifi_index) >= 0)
			continue;
		announce(ifi->ifi_index, attach(ifi->ifi_index));
	}
}

static void add_attr(struct nlmsghdr *h, unsigned short type, const void *data, unsigned short len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* The device the kernel's output route from src to dst leaves by (0 = none), for kernels
 * whose forwarding lookup the program cannot use (forwarding off where packets arrive). */
static __u32 route_oif(int v6, const __u8 *src, const __u8 *dst)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		char attrs[64];
	} req = {0};
	unsigned short alen = v6 ? 16 : 4;
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ++route_seq;
	req.r.rtm_family = v6 ? AF_INET6 : AF_INET;
	req.r.rtm_dst_len = (unsigned char)(alen * 8);
	req.r.rtm_src_len = (unsigned char)(alen * 8);
	add_attr(&req.h, RTA_DST, dst, alen);
	add_attr(&req.h, RTA_SRC, src, alen);
	if (send(route_sock, &req, req.h.nlmsg_len, 0) < 0)
		return 0;
	char buf[8192];
	for (;;) {
		ssize_t len = recv(route_sock, buf, sizeof(buf), 0);
		if (len <= 0)
			return 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != route_seq)
				continue;
			if (h->nlmsg_type != RTM_NEWROUTE)
				return 0;
			struct rtmsg *r = NLMSG_DATA(h);
			int alen2 = (int)RTM_PAYLOAD(h);
			for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, alen2); a = RTA_NEXT(a, alen2))
				if (a->rta_type == RTA_OIF)
					return *(__u32 *)RTA_DATA(a);
			return 0;
		}
	}
}

static void cmd_put(const char *khex, const char *vhex)
{
	struct ngr_key key;
	struct ngr_value val, old;
	size_t targets = sizeof(val.rtp) + sizeof(val.rtcp_alt);
	if (unhex(khex, &key, sizeof(key)) || unhex(vhex, &val, targets)) {
		printf("err bad key or value\n");
		return;
	}
	memset((char *)&val + targets, 0, sizeof(val) - targets);
	val.ifindex = route_oif(key.family == 6, val.rtp.src, val.rtp.dst);
	if (val.ifindex == 1) /* a peer on this host: the stack delivers it */
		val.ifindex = 0;
	if (bpf_map_lookup_elem(map_fd, &key, &old) == 0) {
		val.packets = old.packets;
		val.bytes = old.bytes;
		val.errors = old.errors;
		val.last_ns = old.last_ns;
		val.ssrc = old.ssrc;
		val.to_userspace = old.to_userspace;
	}
	if (bpf_map_update_elem(map_fd, &key, &val, BPF_ANY))
		printf("err update: %s\n", strerror(errno));
	else
		printf("ok\n");
}

static void print_counts(const struct ngr_value *v)
{
	printf(" %llu %llu %llu %llu %u %llu\n", (unsigned long long)v->packets, (unsigned long long)v->bytes,
	       (unsigned long long)v->errors, (unsigned long long)v->last_ns, v->ssrc, (unsigned long long)v->to_userspace);
}

static void cmd_del(const char *khex)
{
	struct ngr_key key;
	struct ngr_value old;
	if (unhex(khex, &key, sizeof(key))) {
		printf("err bad key\n");
		return;
	}
	if (bpf_map_lookup_elem(map_fd, &key, &old)) {
		printf("err lookup: %s\n", strerror(errno));
		return;
	}
	if (bpf_map_delete_elem(map_fd, &key)) {
		printf("err delete: %s\n", strerror(errno));
		return;
	}
	printf("ok");
	print_counts(&old);
}

/* Entries that saw a packet after `since` (CLOCK_MONOTONIC ns; 0: every entry that saw one),
 * then the time the walk started: the next dump asks from there, so none is missed. */
static void cmd_dump(const char *since_text)
{
	struct ngr_key key, next;
	struct ngr_value v;
	void *prev = NULL;
	__u64 since = since_text ? strtoull(since_text, NULL, 10) : 0, start = now_ns();
	while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &v) || v.last_ns <= since)
			continue;
		printf("s ");
		hex(&key, sizeof(key));
		print_counts(&v);
	}
	printf("end %llu\n", (unsigned long long)start);
}

static void on_line(char *line)
{
	char *cmd = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " ");
	if (!cmd)
		printf("err empty\n");
	else if (!strcmp(cmd, "cleanup"))
		cmd_cleanup();
	else if (!strcmp(cmd, "attach-all"))
		cmd_attach_all();
	else if (!strcmp(cmd, "put") && a && b)
		cmd_put(a, b);
	else if (!strcmp(cmd, "del") && a)
		cmd_del(a);
	else if (!strcmp(cmd, "dump"))
		cmd_dump(a);
	else
		printf("err unknown command\n");
}

static void on_parent_gone(int sig)
{
	(void)sig;
	detach_all();
	_exit(0);
}

static int netlink(unsigned groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT TABLE\n", argv[0]);
		return 2;
	}
	int table = atoi(argv[2]);
	if (table < 0 || table > 255) {
		fprintf(stderr, "table must be 0-255\n");
		return 2;
	}
	priority = 0xc000 + (unsigned)table;
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, on_parent_gone);
	libbpf_set_print(silent);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("fatal open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int rc = bpf_object__load(obj);
	if (rc) {
		printf("fatal load: %s\n", strerror(-rc));
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "ngr_ingress");
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "ngr_streams");
	if (!prog || !map) {
		printf("fatal object lacks ngr_ingress or ngr_streams\n");
		return 1;
	}
	prog_fd = bpf_program__fd(prog);
	map_fd = bpf_map__fd(map);
	link_sock = netlink(RTMGRP_LINK);
	route_sock = netlink(0);
	if (link_sock < 0 || route_sock < 0) {
		printf("fatal netlink: %s\n", strerror(errno));
		return 1;
	}
	choose_mode();
	if (getppid() == 1) /* the relay died before the parent-death signal was armed */
		return 0;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("ready\n");
	fflush(stdout);

	static char in[1 << 16];
	size_t have = 0;
	struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = link_sock, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents & POLLIN)
			on_link_events();
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, in + have, sizeof(in) - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			char *start = in, *nl;
			while ((nl = memchr(start, '\n', have - (size_t)(start - in)))) {
				*nl = 0;
				if (nl - start >= MAX_LINE)
					printf("err line too long\n");
				else
					on_line(start);
				start = nl + 1;
			}
			have -= (size_t)(start - in);
			memmove(in, start, have);
			if (have == sizeof(in)) { /* one line filling the buffer: drop it */
				printf("err line too long\n");
				have = 0;
			}
		}
		if (fflush(stdout) == EOF)
			break;
	}
	detach_all();
	return 0;
}
