/**
 * Reads the server name (SNI) and ALPN protocols of a TLS ClientHello from the first bytes a
 * client sends, without terminating TLS — what a passthrough TLS route needs (pure; no I/O).
 * The handshake may span several TLS records; `incomplete` asks for more bytes.
 */
import type { ClientHelloView } from './stream-match.ts';

export type HelloParse =
  | ({ readonly kind: 'hello' } & ClientHelloView)
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'notTls'; readonly reason: string };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const ALPN = 16;
/** A ClientHello larger than this is refused (Envoy's tls_inspector reads at most 64 KiB). */
export const MAX_HELLO_BYTES = 64 * 1024;

/** The handshake bytes carried by the records at the start of `data`; null when a record is not a handshake. */
function handshakeBytes(data: Buffer): { bytes: Buffer; complete: boolean } | null {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    if (data[offset] !== HANDSHAKE) return null;
    const length = data.readUInt16BE(offset + 3);
    const end = Math.min(data.length, offset + 5 + length);
    parts.push(data.subarray(offset + 5, end));
    if (end < offset + 5 + length) break;
    offset = end;
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length < 4) return { bytes, complete: false };
  return { bytes, complete: bytes.length >= 4 + bytes.readUIntBE(1, 3) };
}

function serverName(ext: Buffer): string {
  let offset = 2;
  while (offset + 3 <= ext.length) {
    const type = ext[offset];
    const length = ext.readUInt16BE(offset + 1);
    if (type === 0) return ext.subarray(offset + 3, offset + 3 + length).toString('ascii');
    offset += 3 + length;
  }
  return '';
}

function protocols(ext: Buffer): string[] {
  const out: string[] = [];
  let offset = 2;
  while (offset < ext.length) {
    const length = ext[offset] ?? 0;
    out.push(ext.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  return out;
}

/** Walks the ClientHello body to its extensions. */
function extensionsOf(hello: Buffer): Buffer | null {
  let offset = 4 + 2 + 32; // handshake header, client_version, random
  offset += 1 + (hello[offset] ?? 0); // session id
  if (offset + 2 > hello.length) return null;
  offset += 2 + hello.readUInt16BE(offset); // cipher suites
  offset += 1 + (hello[offset] ?? 0); // compression methods
  if (offset + 2 > hello.length) return Buffer.alloc(0); // no extensions
  const length = hello.readUInt16BE(offset);
  return hello.subarray(offset + 2, offset + 2 + length);
}

export function parseClientHello(data: Buffer): HelloParse {
  if (data.length > 0 && data[0] !== HANDSHAKE)
    return { kind: 'notTls', reason: 'not a TLS handshake record' };
  const handshake = handshakeBytes(data);
  if (handshake === null) return { kind: 'notTls', reason: 'a record of the ClientHello is not a handshake' };
  if (!handshake.complete) {
    return data.length > MAX_HELLO_BYTES
      ? { kind: 'notTls', reason: 'ClientHello larger than 64 KiB' }
      : { kind: 'incomplete' };
  }
  const hello = handshake.bytes;
  if (hello[0] !== CLIENT_HELLO)
    return { kind: 'notTls', reason: 'the first handshake message is not a ClientHello' };
  const extensions = extensionsOf(hello);
  if (extensions === null) return { kind: 'notTls', reason: 'truncated ClientHello' };
  let sni = '';
  let alpn: string[] = [];
  let offset = 0;
  while (offset + 4 <= extensions.length) {
    const type = extensions.readUInt16BE(offset);
    const length = extensions.readUInt16BE(offset + 2);
    const body = extensions.subarray(offset + 4, offset + 4 + length);
    if (type === SERVER_NAME) sni = serverName(body);
    else if (type === ALPN) alpn = protocols(body);
    offset += 4 + length;
  }
  return { kind: 'hello', sni, alpn };
}
