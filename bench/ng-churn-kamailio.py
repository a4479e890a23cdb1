#!/usr/bin/env python3
"""
A second call-setup churn generator, of another shape than bench/ng-churn.ts: written in
Python with its own bencode, it plays a SIP proxy with several worker processes the way
Kamailio's rtpengine module talks NG. Each "SIP worker" has its own UDP socket and cookie
prefix (`<pid>_<worker>_<n>`), a call's requests go out on the socket of the worker that
handles it, replies are matched by cookie, and an unanswered request is sent again with the
same cookie after 1 s. The SDP is a softphone's: an audio m-line with five codecs and an
RTCP attribute, a video m-line with two codecs and RTCP feedback, ICE candidates and SSRC
attributes on both; a share of the calls is put on hold and resumed (re-offer and re-answer
with the tags the other way round) before the BYE.

Each relay runs from its binary with no runtime options, from a config file (the way an
installed relay runs), one after the other in the same run; the script reports calls/s, the
NG round trip (p50/p99 over every request), the relay's CPU time and its resident memory
before, right after and some seconds after the churn. Loopback only; it stops what it starts.
See docs/performance.md.
"""
import argparse
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- bencode, as much as a request needs (replies are only searched for their result) -------------------------------------------------------

def bencode(v, out):
    if isinstance(v, bytes):
        out += b'%d:' % len(v)
        out += v
    elif isinstance(v, str):
        bencode(v.encode(), out)
    elif isinstance(v, int):
        out += b'i%de' % v
    elif isinstance(v, list):
        out += b'l'
        for x in v:
            bencode(x, out)
        out += b'e'
    elif isinstance(v, dict):
        # In the caller's order, unsorted, as Kamailio sends them.
        out += b'd'
        for k, x in v.items():
            bencode(k, out)
            bencode(x, out)
        out += b'e'
    else:
        raise TypeError(type(v))
    return out


# --- what a softphone offers and answers ------------------------------------------------

def token(r, n):
    return ''.join(r.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


def softphone_sdp(r, host, session, version, audio, video, direction, offer, with_video=True):
    ufrag, pwd = token(r, 8), token(r, 24)
    ssrc_a, ssrc_v, cname = r.randrange(1, 2**32), r.randrange(1, 2**32), token(r, 16)
    codecs_a = ['9 0 8 111 101', '0 101'][0 if offer else 1]
    lines = ['v=0', f'o=- {session} {version} IN IP4 {host}', 's=-', f'c=IN IP4 {host}', 't=0 0',
             f'm=audio {audio} RTP/AVP {codecs_a}']
    if offer:
        lines += ['a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
                  'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1']
    else:
        lines += ['a=rtpmap:0 PCMU/8000']
    lines += ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=maxptime:150',
              f'a=rtcp:{audio + 1}', f'a=ice-ufrag:{ufrag}', f'a=ice-pwd:{pwd}',
              f'a=candidate:1 1 UDP 2130706431 {host} {audio} typ host',
              f'a=candidate:1 2 UDP 2130706430 {host} {audio + 1} typ host',
              f'a=ssrc:{ssrc_a} cname:{cname}', f'a={direction}']
    if with_video:
        lines += [f'm=video {video} RTP/AVP 96 97', 'a=rtpmap:96 H264/90000',
                  'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1', 'a=rtpmap:97 VP8/90000',
                  'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 ccm fir', 'a=rtcp-fb:97 nack',
                  f'a=rtcp:{video + 1}', f'a=ice-ufrag:{ufrag}', f'a=ice-pwd:{pwd}',
                  f'a=candidate:1 1 UDP 2130706431 {host} {video} typ host',
                  f'a=candidate:1 2 UDP 2130706430 {host} {video + 1} typ host',
                  f'a=ssrc:{ssrc_v} cname:{cname}', f'a={direction}']
    lines.append('')
    return '\r\n'.join(lines)


def ng(command, call_id, from_tag, to_tag=None, body=None):
    """Keys and key order of Kamailio 5.6 with "replace-origin replace-session-connection ICE=remove"."""
    d = {'supports': ['load limit']}
    if body is not None:
        d['sdp'] = body
        d['ICE'] = 'remove'
        d['replace'] = ['origin', 'session-connection']
    d['call-id'] = call_id
    d['received-from'] = ['IP4', '127.0.0.1']
    d['from-tag'] = from_tag
    if to_tag is not None:
        d['to-tag'] = to_tag
    d['command'] = command
    return d


def plan_calls(n, seed, hold_share, video):
    """Every call's requests, in order, bencoded ahead of the run (the generator's own cost stays low)."""
    r = random.Random(seed)
    calls = []

    def sdp(*a):
        return softphone_sdp(*a, with_video=video)

    for _ in range(n):
        call_id = f'{token(r, 16)}-{r.randrange(10**9)}@127.0.0.2'
        a, b = token(r, 10), token(r, 10)
        sa, sb = r.randrange(10**8, 10**9), r.randrange(10**8, 10**9)
        pa, pb = 40000 + 4 * r.randrange(5000), 40000 + 4 * r.randrange(5000)
        reqs = [ng('offer', call_id, a, None, sdp(r, '127.0.0.2', sa, 1, pa, pa + 2, 'sendrecv', True)),
                ng('answer', call_id, a, b, sdp(r, '127.0.0.3', sb, 1, pb, pb + 2, 'sendrecv', False))]
        if r.random() < hold_share:
            # The callee holds and resumes: tags follow the SIP message, so from-tag is B's.
            reqs += [ng('offer', call_id, b, a, sdp(r, '127.0.0.3', sb, 2, pb, pb + 2, 'sendonly', True)),
                     ng('answer', call_id, b, a, sdp(r, '127.0.0.2', sa, 2, pa, pa + 2, 'recvonly', False)),
                     ng('offer', call_id, b, a, sdp(r, '127.0.0.3', sb, 3, pb, pb + 2, 'sendrecv', True)),
                     ng('answer', call_id, b, a, sdp(r, '127.0.0.2', sa, 3, pa, pa + 2, 'sendrecv', False))]
        reqs.append(ng('delete', call_id, a))
        calls.append([bytes(bencode(q, bytearray())) for q in reqs])
    return calls


# --- the relays --------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def load_average():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


class Relay:
    """A relay started from its binary with a config file and nothing else; stopped by its PID."""

    def __init__(self, kind, args, logdir):
        self.kind = kind
        self.ng_port, self.cli_port = free_port(), free_port()
        conf = os.path.join(logdir, f'{kind}.conf')
        with open(conf, 'w') as f:
            f.write('[rtpengine]\n' + ''.join(f'{k} = {v}\n' for k, v in {
                'interface': '127.0.0.1', 'listen-ng': f'127.0.0.1:{self.ng_port}',
                'listen-cli': f'127.0.0.1:{self.cli_port}', 'port-min': args.port_min, 'port-max': args.port_max,
                'table': args.table, 'delete-delay': args.delete_delay, 'foreground': 'true',
                'log-stderr': 'true', 'log-level': 5, **dict(o.split('=', 1) for o in (args.ngrelay_option if kind == 'ngrelay' else []))}.items()))
        binary = args.ngrelay if kind == 'ngrelay' else args.rtpengine
        self.command = [binary, f'--config-file={conf}']
        self.log = os.path.join(logdir, f'{kind}.log')
        with open(self.log, 'w') as log:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.pid = self.proc.pid
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f'{kind} exited at start; see {self.log}')
                s.sendto(b'up d7:command4:pinge', ('127.0.0.1', self.ng_port))
                try:
                    if b'pong' in s.recv(1000):
                        return
                except socket.timeout:
                    pass
            self.stop()
            raise RuntimeError(f'{kind} did not answer ping; see {self.log}')
        finally:
            s.close()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.pid, 15)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, 9)
                self.proc.wait()


# --- the churn -----------------------------------------------------------------------------

def churn(port, calls, parallel, workers):
    """Runs every call through offer, [hold, resume,] answer and delete; `parallel` calls at a time."""
    sel = selectors.DefaultSelector()
    socks = []
    for w in range(workers):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, w)
        socks.append(s)
    dest = ('127.0.0.1', port)
    pid = os.getpid()
    counters = [0] * workers
    pending = {}  # cookie -> [call index, request index, worker, first sent, last sent, tries, datagram]
    rtts, failures, first_failure, retransmits = [], 0, '', 0
    next_call = 0
    done = 0

    def send_request(ci, ri, w):
        nonlocal failures
        counters[w] += 1
        cookie = b'%d_%d_%d' % (pid, w, counters[w])
        datagram = cookie + b' ' + calls[ci][ri]
        now = time.perf_counter()
        pending[cookie] = [ci, ri, w, now, now, 1, datagram]
        socks[w].sendto(datagram, dest)

    def start_call(w):
        nonlocal next_call
        if next_call < len(calls):
            next_call += 1
            send_request(next_call - 1, 0, w)

    for i in range(min(parallel, len(calls))):
        start_call(i % workers)
    last_scan = time.perf_counter()
    while pending:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            while True:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                cookie, _, body = data.partition(b' ')
                p = pending.pop(cookie, None)
                if p is None:
                    continue  # a duplicate reply to a retransmission
                ci, ri, w = p[0], p[1], p[2]
                rtts.append(time.perf_counter() - p[3])
                last = ri == len(calls[ci]) - 1
                ok = b'6:result2:ok' in body and (last or b'3:sdp' in body)
                if not ok:
                    failures += 1
                    if not first_failure:
                        first_failure = body[:200].decode(errors='replace')
                if last or not ok:
                    done += 1
                    start_call(w)
                else:
                    send_request(ci, ri + 1, w)
        now = time.perf_counter()
        if now - last_scan > 0.1:
            last_scan = now
            for cookie, p in list(pending.items()):
                if now - p[4] >= 1.0:
                    if p[5] >= 5:
                        del pending[cookie]
                        failures += 1
                        first_failure = first_failure or 'no reply after 5 tries'
                        done += 1
                        start_call(p[2])
                    else:
                        p[4], p[5] = now, p[5] + 1
                        retransmits += 1
                        socks[p[2]].sendto(p[6], dest)
    for s in socks:
        s.close()
    return rtts, failures, first_failure, retransmits


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] if sorted_values else float('nan')


def measure(relay, calls, args):
    load = load_average()
    time.sleep(2)
    rss0 = proc_status(relay.pid, 'VmRSS')
    cpu0 = cpu_seconds(relay.pid)
    t0 = time.perf_counter()
    rtts, failures, first_failure, retransmits = churn(relay.ng_port, calls, args.parallel, args.workers)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(relay.pid) - cpu0
    rss1 = proc_status(relay.pid, 'VmRSS')
    time.sleep(args.settle)
    rss2 = proc_status(relay.pid, 'VmRSS')
    rtts.sort()
    return {'relay': relay.kind, 'calls': len(calls), 'requests': len(rtts), 'seconds': seconds,
            'calls_per_second': len(calls) / seconds, 'p50_ms': 1000 * percentile(rtts, 0.5),
            'p99_ms': 1000 * percentile(rtts, 0.99), 'failures': failures, 'first_failure': first_failure,
            'retransmits': retransmits, 'cpu_seconds': cpu, 'rss_start_mb': rss0, 'rss_after_mb': rss1,
            'rss_settled_mb': rss2, 'rss_peak_mb': proc_status(relay.pid, 'VmHWM'), 'load_average': load}


HEAD = ['relay', 'calls/s', 'NG p50 ms', 'NG p99 ms', 'failed', 'retransmitted', 'CPU s', 'RSS MB start', 'after churn',
        'settled', 'peak', 'load avg']


def row(r):
    return [r['relay'], f"{r['calls_per_second']:.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", r['failures'],
            r['retransmits'], f"{r['cpu_seconds']:.1f}", f"{r['rss_start_mb']:.1f}", f"{r['rss_after_mb']:.1f}",
            f"{r['rss_settled_mb']:.1f}", f"{r['rss_peak_mb']:.1f}", r['load_average']]


def table(rows):
    lines = [HEAD, ['---'] * len(HEAD)] + rows
    return '\n'.join('| ' + ' | '.join(str(c) for c in line) + ' |' for line in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--relays', default='ngrelay,rtpengine', help='relays to start, one after the other')
    ap.add_argument('--calls', type=int, default=20000)
    ap.add_argument('--parallel', type=int, default=50, help='calls in progress at once')
    ap.add_argument('--workers', type=int, default=8, help='SIP worker sockets the calls are spread over')
    ap.add_argument('--hold-share', type=float, default=0.2, help='share of calls put on hold and resumed')
    ap.add_argument('--audio-only', action='store_true', help='leave out the video m-line')
    ap.add_argument('--settle', type=float, default=10, help='seconds after the churn before RSS is read again')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--table', type=int, default=-1, help='kernel table for both relays (-1: userspace)')
    ap.add_argument('--delete-delay', type=int, default=0)
    ap.add_argument('--port-min', type=int, default=20000)
    ap.add_argument('--port-max', type=int, default=29999)
    ap.add_argument('--ngrelay', default=os.path.join(ROOT, 'dist/src/bin/ngrelay.js'), help='the ngrelay binary')
    ap.add_argument('--rtpengine', default='/usr/bin/rtpengine')
    ap.add_argument('--ngrelay-option', action='append', default=[], metavar='KEY=VALUE',
                    help="a config key for ngrelay's file only (repeatable), e.g. num-threads=0")
    ap.add_argument('--json', help='also write the results here')
    args = ap.parse_args()

    logdir = tempfile.mkdtemp(prefix='ng-churn-kamailio-')
    with open('/proc/cpuinfo') as f:
        model = next((l.split(':', 1)[1].strip() for l in f if l.startswith('model name')), 'unknown')
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} machine: {os.cpu_count()} CPUs, {model}, "
          f"python {sys.version.split()[0]}; load average {load_average()}")
    calls = plan_calls(args.calls, args.seed, args.hold_share, not args.audio_only)
    requests = sum(len(c) for c in calls)
    print(f'{len(calls)} calls ({requests} requests), {args.parallel} in progress over {args.workers} sockets; logs in {logdir}',
          flush=True)
    results = []
    for kind in [k for k in args.relays.split(',') if k]:
        relay = Relay(kind, args, logdir)
        try:
            print(f"{kind} (pid {relay.pid}): {' '.join(relay.command)}", flush=True)
            r = measure(relay, calls, args)
            results.append(r)
            print(table([row(r)]).split('\n')[2], flush=True)
            if r['failures']:
                print(f"  {r['failures']} failed, first: {r['first_failure']}")
        finally:
            relay.stop()
    print('\n' + table([row(r) for r in results]))
    by = {r['relay']: r for r in results}
    if 'ngrelay' in by and 'rtpengine' in by:
        n, e = by['ngrelay'], by['rtpengine']
        print(f"\nngrelay/rtpengine setup rate = {n['calls_per_second'] / e['calls_per_second']:.2f}, "
              f"p99 {n['p99_ms']:.2f} vs {e['p99_ms']:.2f} ms; ngrelay RSS settled = "
              f"{n['rss_settled_mb'] / n['rss_start_mb']:.2f}x its start (rtpengine {e['rss_settled_mb'] / e['rss_start_mb']:.2f}x)")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'cpu': model, 'cpus': os.cpu_count(), 'results': results}, f, indent=2)


if __name__ == '__main__':
    main()
