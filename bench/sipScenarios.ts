/**
 * SIPp scenarios of the SIP load benchmark: a UAC and a UAS that play SIPp's G.711 pcap on
 * every call, both ways, for a given call length, through a proxy that record-routes.
 */

/** SIPp's own G.711 A-law capture (Debian package sip-tester): 236 RTP packets over 7.05 s. */
export const G711_PCAP = '/usr/share/sip-tester/g711a.pcap';
export const G711_PCAP_PACKETS = 236;
/** Time given to one play of the pcap before the next one starts. */
export const PLAY_MS = 7100;

export interface CallShape {
  /** Seconds from the ACK to the BYE. */
  holdSeconds: number;
}

/** How many back-to-back plays fit in a call, leaving at least a second before the BYE. */
export function playsPerCall(s: CallShape): number {
  return Math.max(1, Math.floor((s.holdSeconds * 1000 - 1000) / PLAY_MS));
}

const SDP = (origin: string): string => `v=0
o=${origin} 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [auto_media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv`;

const play = `  <nop><action><exec play_pcap_audio="${G711_PCAP}"/></action></nop>`;

/**
 * The caller: INVITE (to the callee's address in the Request-URI, sent to the proxy), ACK and BYE
 * along the recorded route; `invite` and `bye` response times are traced per call.
 */
export function uacScenario(s: CallShape, calleeHostPort: string): string {
  const plays = playsPerCall(s);
  const rest = Math.max(0, s.holdSeconds * 1000 - plays * PLAY_MS);
  const media = Array.from({ length: plays }, () => `${play}\n  <pause milliseconds="${PLAY_MS}"/>`).join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="sip-load uac">
  <send retrans="500" start_rtd="invite">
    <![CDATA[
INVITE sip:[service]@${calleeHostPort} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: [service] <sip:[service]@${calleeHostPort}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP('caller')}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="invite" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: [service] <sip:[service]@${calleeHostPort}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
    ]]>
  </send>
${media}
  <pause milliseconds="${rest}"/>
  <send retrans="500" start_rtd="bye">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: [service] <sip:[service]@${calleeHostPort}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
    ]]>
  </send>
  <recv response="200" rtd="bye" crlf="true"/>
</scenario>
`;
}

/**
 * The callee: 200 with SDP at once (retransmitted until the ACK), then the same number of plays,
 * each cut short if the BYE comes early.
 */
export function uasScenario(s: CallShape): string {
  const plays = playsPerCall(s);
  const media: string[] = [];
  for (let i = 1; i <= plays; i++) {
    media.push(`  <label id="p${i}"/>`, play);
    if (i < plays) media.push(`  <recv request="BYE" timeout="${PLAY_MS}" ontimeout="p${i + 1}" next="bye"/>`);
  }
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="sip-load uas">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500">
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${SDP('callee')}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
${media.join('\n')}
  <recv request="BYE"/>
  <label id="bye"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
    ]]>
  </send>
</scenario>
`;
}
