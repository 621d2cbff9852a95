/**
 * Who asked for a change, and how the controller knows it (docs/security.md).
 *
 * - `verified`: an HTTP caller whose Google ID token was checked — by Cloud Run before the request
 *   reached the function (`checkedBy: 'cloudRun'`), or by the function itself
 *   (`checkedBy: 'controller'`, e.g. locally). `email` is the token's verified email.
 * - `topic`: a Pub/Sub message. Pub/Sub gives subscribers no publisher identity: the name in the
 *   message is only *claimed*, and the topic's IAM (who may publish to it) is what protects it.
 *
 * A self-declared name sent along with a verified identity is kept as `claimed`, a note, never as
 * the actor.
 */
export type Caller =
  | {
      readonly kind: 'verified';
      readonly email: string;
      readonly checkedBy: 'cloudRun' | 'controller';
      /** What the caller wrote about itself (the body's `actor`), bounded; null when it wrote nothing. */
      readonly claimed: string | null;
    }
  | {
      readonly kind: 'topic';
      /** The topic id the message arrived on (e.g. rollout-control). */
      readonly topic: string;
      /** The name the message carries (`actor`, `requestedBy`), bounded; null when none. */
      readonly claimed: string | null;
    };

const SERVICE_ACCOUNT = /\.gserviceaccount\.com$/i;

/** The IAM-style member string of a verified email: `serviceAccount:…` or `user:…`. */
export function memberOf(email: string): string {
  return SERVICE_ACCOUNT.test(email) ? `serviceAccount:${email}` : `user:${email}`;
}

/**
 * Every policy principal the caller is, without group memberships (those need a lookup):
 * `user:`/`serviceAccount:` and `domain:` for a verified email, `topic:` for a message.
 */
export function directPrincipals(caller: Caller): string[] {
  if (caller.kind === 'topic') return [`topic:${caller.topic}`];
  const email = caller.email.toLowerCase();
  const domain = email.slice(email.lastIndexOf('@') + 1);
  return [memberOf(email), `domain:${domain}`];
}

/** How the audit trail names the caller: the verified member, or `topic:T (claimed: name)`. */
export function describeCaller(caller: Caller): string {
  if (caller.kind === 'verified') return memberOf(caller.email.toLowerCase());
  return caller.claimed === null
    ? `topic:${caller.topic}`
    : `topic:${caller.topic} (claimed: ${caller.claimed})`;
}
