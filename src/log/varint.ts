/** Unsigned varints (7 bits a byte, as Kafka writes them) and base64url, for positions in ids. */

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding, in JS: a cursor is a few bytes, written once per record. */
export function base64url(bytes: readonly number[]): string {
  let text = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const word = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text +=
      BASE64URL[word >> 18]! +
      BASE64URL[(word >> 12) & 63]! +
      BASE64URL[(word >> 6) & 63]! +
      BASE64URL[word & 63]!;
  }
  if (i + 1 === bytes.length) {
    const word = bytes[i]! << 16;
    text += BASE64URL[word >> 18]! + BASE64URL[(word >> 12) & 63]!;
  } else if (i + 2 === bytes.length) {
    const word = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    text += BASE64URL[word >> 18]! + BASE64URL[(word >> 12) & 63]! + BASE64URL[(word >> 6) & 63]!;
  }
  return text;
}

export function writeVarint(into: number[], value: number): void {
  // Arithmetic, not bit operations: values go up to 2^53.
  while (value >= 0x80) {
    into.push((value % 0x80) + 0x80);
    value = Math.floor(value / 0x80);
  }
  into.push(value);
}

export function readVarint(bytes: Buffer, reader: { at: number }): number | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    const byte = bytes[reader.at++];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
  return undefined;
}
