import type { Services } from '../Services.js';
import type { Call } from './Call.js';
import { CallGoneError } from './errors.js';
import { applyMediaControl } from './MediaSetup.js';
import type { Monologue } from './Monologue.js';
import type { PartyControl } from './PartyControl.js';
import { afterSignalling } from './Signalling.js';

/**
 * Block, silence and forwarding commands on a call (rtpengine's `block DTMF`, `block media`,
 * `silence media`, `start forwarding` and their opposites): a change to the call's control or
 * a party's, applied to every leg, persisted, answered once media threads apply it.
 */

/** The controls a change touches: one party's, or the call's (`all` parties too when asked). */
export interface ControlScope {
  party: Monologue | null;
  /** With no party: also each party's own control (rtpengine's `all` flag on the un- commands). */
  everyParty: boolean;
}

function controlsOf(call: Call, scope: ControlScope): PartyControl[] {
  if (scope.party) return [scope.party.control];
  return scope.everyParty ? [call.control, ...call.parties().map((p) => p.control)] : [call.control];
}

/** Whether the call's media is to be recorded: `start recording` or any forwarding asked for it. */
function wantsRecording(call: Call): boolean {
  return call.recordRequested || call.forwarding;
}

/** Applies `change` to the controls of `scope` on the call's queue; replies once in effect. */
export function changeControl(s: Services, call: Call, scope: ControlScope, change: (c: PartyControl) => void): Promise<void> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    for (const c of controlsOf(call, scope)) change(c);
    if (call.foreign) s.hooks.takeOver(call);
    for (const ml of call.parties()) applyMediaControl(call, ml);
    await afterSignalling(s, call);
  });
}

/**
 * `start forwarding` / `stop forwarding`: without rtpengine's recording daemon, forwarded media
 * goes where rtpengine's pcap method puts it: into the call's pcap recording, which runs while
 * recording or any forwarding is on.
 */
export function setForwarding(s: Services, call: Call, scope: ControlScope, on: boolean): Promise<void> {
  return changeControl(s, call, scope, (c) => {
    c.forwarding = on;
  }).then(() => syncRecording(s, call));
}

/** Starts or stops the recording to match what the call asks for (on its queue). */
export function syncRecording(s: Services, call: Call): Promise<void> {
  return call.serialize(async () => {
    if (call.destroyed) return;
    if (wantsRecording(call)) {
      s.hooks.startRecording(call);
      await s.media.settled();
    } else if (call.recording) {
      await s.media.caughtUp();
      s.hooks.stopRecording(call);
    }
  });
}
