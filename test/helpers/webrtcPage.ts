export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium with fake media devices; host candidates with their addresses (loopback included, no mDNS names). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** Payload bytes of each audio frame the page sends (B2P:<n>, zero-padded). */
export const FRAME = 160;

/** A page with one audio RTCPeerConnection whose encoded frames the test writes and reads (insertable streams). */
export const PAGE = `<!doctype html><html><body><script>
window.received = [];
const gathered = (pc) => new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
const passThrough = (s) => s.readable.pipeTo(s.writable);
window.setup = async (opts = {}) => {
  window.received = [];
  window.pc?.close();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: !!opts.video });
  const pc = new RTCPeerConnection({ encodedInsertableStreams: true, rtcpMuxPolicy: 'require', bundlePolicy: opts.bundlePolicy || 'balanced' });
  window.pc = pc;
  let audio = stream.getAudioTracks()[0];
  if (opts.tone) {
    // A sine of opts.tone Hz from WebAudio, encoded by the browser as it is (opus only, if opts.opusOnly).
    const ctx = new AudioContext({ sampleRate: 48000 });
    const osc = new OscillatorNode(ctx, { frequency: opts.tone });
    const gain = new GainNode(ctx, { gain: 0.3 });
    const dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    await ctx.resume();
    audio = dest.stream.getAudioTracks()[0];
  }
  const sender = pc.addTrack(audio, stream);
  if (opts.opusOnly) pc.getTransceivers()[0].setCodecPreferences(RTCRtpSender.getCapabilities('audio').codecs.filter((c) => c.mimeType === 'audio/opus'));
  for (const t of stream.getVideoTracks()) passThrough(pc.addTrack(t, stream).createEncodedStreams());
  // Every frame leaving the browser carries a known payload: B2P:<n> padded to ${FRAME} bytes.
  let n = 0;
  const out = sender.createEncodedStreams();
  if (opts.tone) passThrough(out);
  else out.readable.pipeThrough(new TransformStream({ transform(frame, c) {
    const data = new Uint8Array(${FRAME});
    data.set(new TextEncoder().encode('B2P:' + (n++)));
    frame.data = data.buffer;
    c.enqueue(frame);
  } })).pipeTo(out.writable);
  pc.ontrack = (e) => {
    const s = e.receiver.createEncodedStreams();
    if (e.track.kind === 'video') return passThrough(s);
    s.readable.pipeThrough(new TransformStream({ transform(frame, c) {
      if (window.received.length < 500) window.received.push(Array.from(new Uint8Array(frame.data)));
      c.enqueue(frame);
    } })).pipeTo(s.writable);
  };
};
window.start = async (opts) => {
  await window.setup(opts);
  await window.pc.setLocalDescription(await window.pc.createOffer());
  await gathered(window.pc);
  return window.pc.localDescription.sdp;
};
window.answerOffer = async (sdp, opts) => {
  await window.setup(opts);
  await window.pc.setRemoteDescription({ type: 'offer', sdp });
  await window.pc.setLocalDescription(await window.pc.createAnswer());
  await gathered(window.pc);
  return window.pc.localDescription.sdp;
};
window.restart = async () => {
  window.received = [];
  window.pc.restartIce();
  await window.pc.setLocalDescription(await window.pc.createOffer());
  await gathered(window.pc);
  return window.pc.localDescription.sdp;
};
window.reoffer = async (direction) => {
  window.received = [];
  window.pc.getTransceivers()[0].direction = direction;
  await window.pc.setLocalDescription(await window.pc.createOffer());
  await gathered(window.pc);
  return window.pc.localDescription.sdp;
};
window.answer = async (sdp) => { await window.pc.setRemoteDescription({ type: 'answer', sdp }); };
window.states = () => ({ ice: window.pc.iceConnectionState, conn: window.pc.connectionState });
window.videoReceived = async () => {
  const stats = await window.pc.getStats();
  let n = 0;
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.packetsReceived; });
  return n;
};
// The DTLS transport and the audio receiver as getStats reports them.
window.transport = async () => {
  const stats = await window.pc.getStats();
  const out = { dtlsState: '', fingerprint: '', packetsReceived: 0 };
  stats.forEach((s) => {
    if (s.type === 'transport') {
      out.dtlsState = s.dtlsState;
      out.fingerprint = stats.get(s.remoteCertificateId)?.fingerprint ?? '';
    }
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.packetsReceived += s.packetsReceived;
    }
  });
  return out;
};
window.remoteSr = async () => {
  const stats = await window.pc.getStats();
  let sr = 0;
  stats.forEach((s) => { if (s.type === 'remote-outbound-rtp') sr = s.reportsSent || 1; });
  return sr;
};
</script></body></html>`;
