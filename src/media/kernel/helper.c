// SPDX-License-Identifier: MIT
// ngrelay-kernel: loads the tc fast-path program, attaches it to devices and keeps its map,
// driven by the relay over stdin/stdout, one command per line, one reply line per command
// (so every update has its own error). Everything it installs is named after the relay's
// `table` number, so a new run removes what a crashed one left behind and never touches
// another relay's.
//
//   attach IFNAME            -> ok | err TEXT
//   detach IFNAME            -> ok | err TEXT
//   cleanup                  -> ok N            (stale filters of this table removed)
//   put KEYHEX TARGETSHEX IFNAME -> ok | err TEXT   (counters of an existing entry carry over)
//   del KEYHEX               -> ok PACKETS BYTES ERRORS LAST_NS SSRC | err TEXT
//   dump                     -> s KEYHEX PACKETS BYTES ERRORS LAST_NS SSRC ... then: end NOW_NS
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath.h"

#define HANDLE 0x4e47
#define MAX_LINE 1024
#define MAX_DEVS 256

static int map_fd = -1, prog_fd = -1;
static unsigned priority;
static int attached[MAX_DEVS];
static int n_attached;

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

static int detach_index(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = HANDLE, .priority = priority);
	return bpf_tc_detach(&hook, &opts);
}

static void cmd_attach(const char *name)
{
	int ifindex = (int)if_nametoindex(name);
	if (!ifindex) {
		printf("err no device %s\n", name);
		return;
	}
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		printf("err clsact on %s: %s\n", name, strerror(-rc));
		return;
	}
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = HANDLE, .priority = priority, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		printf("err attach %s: %s\n", name, strerror(-rc));
		return;
	}
	for (int i = 0; i < n_attached; i++)
		if (attached[i] == ifindex)
			goto done;
	if (n_attached < MAX_DEVS)
		attached[n_attached++] = ifindex;
done:
	printf("ok\n");
}

static void cmd_detach(const char *name)
{
	int ifindex = (int)if_nametoindex(name);
	if (!ifindex) {
		printf("err no device %s\n", name);
		return;
	}
	int rc = detach_index(ifindex);
	for (int i = 0; i < n_attached; i++)
		if (attached[i] == ifindex)
			attached[i] = attached[--n_attached];
	if (rc && rc != -ENOENT)
		printf("err detach %s: %s\n", name, strerror(-rc));
	else
		printf("ok\n");
}

static void cmd_cleanup(void)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int n = 0;
	for (i = all; i && i->if_index; i++)
		if (detach_index((int)i->if_index) == 0)
			n++;
	if (all)
		if_freenameindex(all);
	printf("ok %d\n", n);
}

static void cmd_put(const char *khex, const char *vhex, const char *dev)
{
	struct ngr_key key;
	struct ngr_value val, old;
	if (unhex(khex, &key, sizeof(key)) || unhex(vhex, &val, sizeof(val.rtp) + sizeof(val.rtcp_alt))) {
		printf("err bad key or value\n");
		return;
	}
	memset((char *)&val + sizeof(val.rtp) + sizeof(val.rtcp_alt), 0, sizeof(val) - sizeof(val.rtp) - sizeof(val.rtcp_alt));
	val.ifindex = if_nametoindex(dev);
	if (!val.ifindex) {
		printf("err no device %s\n", dev);
		return;
	}
	if (bpf_map_lookup_elem(map_fd, &key, &old) == 0) {
		val.packets = old.packets;
		val.bytes = old.bytes;
		val.errors = old.errors;
		val.last_ns = old.last_ns;
		val.ssrc = old.ssrc;
	}
	if (bpf_map_update_elem(map_fd, &key, &val, BPF_ANY))
		printf("err update: %s\n", strerror(errno));
	else
		printf("ok\n");
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
	printf("ok %llu %llu %llu %llu %u\n", (unsigned long long)old.packets, (unsigned long long)old.bytes,
	       (unsigned long long)old.errors, (unsigned long long)old.last_ns, old.ssrc);
}

static void cmd_dump(void)
{
	struct ngr_key key, next;
	struct ngr_value v;
	void *prev = NULL;
	while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &v))
			continue;
		printf("s ");
		hex(&key, sizeof(key));
		printf(" %llu %llu %llu %llu %u\n", (unsigned long long)v.packets, (unsigned long long)v.bytes,
		       (unsigned long long)v.errors, (unsigned long long)v.last_ns, v.ssrc);
	}
	printf("end %llu\n", (unsigned long long)now_ns());
}

static void detach_all(void)
{
	for (int i = 0; i < n_attached; i++)
		detach_index(attached[i]);
	n_attached = 0;
}

static void on_signal(int sig)
{
	(void)sig;
	detach_all();
	_exit(0);
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
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, on_signal);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("ready\n");
	fflush(stdout);

	char line[MAX_LINE];
	while (fgets(line, sizeof(line), stdin)) {
		char *nl = strchr(line, '\n');
		if (!nl) {
			/* An over-long line: skip the rest of it. */
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
			printf("err line too long\n");
		} else {
			*nl = 0;
			char *cmd = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " "), *c = strtok(NULL, " ");
			if (!cmd)
				printf("err empty\n");
			else if (!strcmp(cmd, "attach") && a)
				cmd_attach(a);
			else if (!strcmp(cmd, "detach") && a)
				cmd_detach(a);
			else if (!strcmp(cmd, "cleanup"))
				cmd_cleanup();
			else if (!strcmp(cmd, "put") && a && b && c)
				cmd_put(a, b, c);
			else if (!strcmp(cmd, "del") && a)
				cmd_del(a);
			else if (!strcmp(cmd, "dump"))
				cmd_dump();
			else
				printf("err unknown command\n");
		}
		fflush(stdout);
	}
	detach_all();
	return 0;
}
