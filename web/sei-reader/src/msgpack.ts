// A MessagePack reader (https://github.com/msgpack/msgpack/blob/master/spec.md) for the CatEvening body, shaped like
// MessagePack-CSharp's MessagePackReader that the C# reader uses, so that both accept and refuse the same bytes:
// integers come back exact (bigint) whatever their encoding, and every read checks the bytes that remain first.

/** Thrown for a malformed body; the message names what is wrong. Caught by the body decoders, never by callers. */
export class MalformedBodyError extends Error {}

/** The MessagePack family of the next value (MessagePack-CSharp's MessagePackType). */
export type MessagePackType = 'integer' | 'nil' | 'boolean' | 'float' | 'string' | 'binary' | 'array' | 'map' | 'extension' | 'unknown';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class MessagePackReader {
  private readonly view: DataView;
  /** Bytes consumed so far (body offset of the next value). */
  consumed = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get end(): boolean {
    return this.consumed >= this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.consumed;
  }

  private need(n: number): void {
    if (this.remaining < n) throw new MalformedBodyError(`${n} more bytes needed at body offset ${this.consumed}, ${this.remaining} left`);
  }

  private code(): number {
    this.need(1);
    return this.bytes[this.consumed];
  }

  get nextType(): MessagePackType {
    const c = this.code();
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3)) return 'integer';
    if (c <= 0x8f || c === 0xde || c === 0xdf) return 'map';
    if (c <= 0x9f || c === 0xdc || c === 0xdd) return 'array';
    if (c <= 0xbf || (c >= 0xd9 && c <= 0xdb)) return 'string';
    if (c === 0xc0) return 'nil';
    if (c === 0xc2 || c === 0xc3) return 'boolean';
    if (c >= 0xc4 && c <= 0xc6) return 'binary';
    if (c === 0xca || c === 0xcb) return 'float';
    if ((c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8)) return 'extension';
    return 'unknown';
  }

  tryReadNil(): boolean {
    if (this.code() !== 0xc0) return false;
    this.consumed++;
    return true;
  }

  /** fixarray, array 16, array 32. A count larger than the bytes left is malformed (as in MessagePack-CSharp). */
  readArrayHeader(): number {
    const c = this.code();
    let count: number;
    if (c >= 0x90 && c <= 0x9f) {
      count = c & 0x0f;
      this.consumed += 1;
    } else if (c === 0xdc) {
      this.need(3);
      count = this.view.getUint16(this.consumed + 1);
      this.consumed += 3;
    } else if (c === 0xdd) {
      this.need(5);
      count = this.view.getUint32(this.consumed + 1);
      this.consumed += 5;
    } else {
      throw new MalformedBodyError(`${this.nextType} (code 0x${c.toString(16)}) where an array is required`);
    }
    if (count > this.remaining) throw new MalformedBodyError(`array of ${count} elements but ${this.remaining} bytes left`);
    return count;
  }

  /** Any integer encoding (fixint, uint 8-64, int 8-64), exact. */
  readInteger(): bigint {
    const c = this.code();
    const at = this.consumed;
    if (c <= 0x7f) { this.consumed += 1; return BigInt(c); }
    if (c >= 0xe0) { this.consumed += 1; return BigInt(c - 0x100); }
    const width: Record<number, number> = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };
    const n = width[c];
    if (n === undefined) throw new MalformedBodyError(`${this.nextType} (code 0x${c.toString(16)}) where an integer is required`);
    this.need(1 + n);
    const v = this.view;
    const p = at + 1;
    let value: bigint;
    switch (c) {
      case 0xcc: value = BigInt(v.getUint8(p)); break;
      case 0xcd: value = BigInt(v.getUint16(p)); break;
      case 0xce: value = BigInt(v.getUint32(p)); break;
      case 0xcf: value = v.getBigUint64(p); break;
      case 0xd0: value = BigInt(v.getInt8(p)); break;
      case 0xd1: value = BigInt(v.getInt16(p)); break;
      case 0xd2: value = BigInt(v.getInt32(p)); break;
      default: value = v.getBigInt64(p); break;
    }
    this.consumed += 1 + n;
    return value;
  }

  /** MessagePack-CSharp ReadInt64: a value above 2^63 − 1 does not fit. */
  readInt64(): bigint {
    const value = this.readInteger();
    if (value > 0x7fffffffffffffffn) throw new MalformedBodyError(`${value} does not fit a signed 64-bit integer`);
    return value;
  }

  /** MessagePack-CSharp ReadByte: 0-255 in any integer encoding. */
  readByte(): number {
    const value = this.readInteger();
    if (value < 0n || value > 255n) throw new MalformedBodyError(`${value} does not fit a byte`);
    return Number(value);
  }

  /** str 8/16/32 or fixstr: the raw UTF-8 bytes (a slice, not a copy). */
  readStringBytes(): Uint8Array {
    const c = this.code();
    let length: number, header: number;
    if (c >= 0xa0 && c <= 0xbf) { length = c & 0x1f; header = 1; }
    else if (c === 0xd9) { this.need(2); length = this.view.getUint8(this.consumed + 1); header = 2; }
    else if (c === 0xda) { this.need(3); length = this.view.getUint16(this.consumed + 1); header = 3; }
    else if (c === 0xdb) { this.need(5); length = this.view.getUint32(this.consumed + 1); header = 5; }
    else throw new MalformedBodyError(`${this.nextType} where a string is required`);
    return this.slice(header, length);
  }

  /** bin 8/16/32: the bytes (a slice, not a copy). */
  readBinary(): Uint8Array {
    const c = this.code();
    let length: number, header: number;
    if (c === 0xc4) { this.need(2); length = this.view.getUint8(this.consumed + 1); header = 2; }
    else if (c === 0xc5) { this.need(3); length = this.view.getUint16(this.consumed + 1); header = 3; }
    else if (c === 0xc6) { this.need(5); length = this.view.getUint32(this.consumed + 1); header = 5; }
    else throw new MalformedBodyError(`${this.nextType} where bin is required`);
    return this.slice(header, length);
  }

  private slice(header: number, length: number): Uint8Array {
    this.need(header + length);
    const start = this.consumed + header;
    this.consumed = start + length;
    return this.bytes.subarray(start, start + length);
  }

  /** Skips one value of any type (nested arrays and maps included). Bounded by the bytes: every element costs ≥ 1 byte. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const c = this.code();
      switch (this.nextType) {
        case 'integer': this.readInteger(); break;
        case 'nil': case 'boolean': this.consumed++; break;
        case 'float': this.need(c === 0xca ? 5 : 9); this.consumed += c === 0xca ? 5 : 9; break;
        case 'string': this.readStringBytes(); break;
        case 'binary': this.readBinary(); break;
        case 'array': pending += this.readArrayHeader(); break;
        case 'map': {
          let n: number;
          if (c <= 0x8f) { n = c & 0x0f; this.consumed++; }
          else if (c === 0xde) { this.need(3); n = this.view.getUint16(this.consumed + 1); this.consumed += 3; }
          else { this.need(5); n = this.view.getUint32(this.consumed + 1); this.consumed += 5; }
          if (2 * n > this.remaining) throw new MalformedBodyError(`map of ${n} entries but ${this.remaining} bytes left`);
          pending += 2 * n;
          break;
        }
        case 'extension': {
          const fixed: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };
          if (fixed[c] !== undefined) { this.need(2 + fixed[c]); this.consumed += 2 + fixed[c]; break; }
          const lengthBytes = c === 0xc7 ? 1 : c === 0xc8 ? 2 : 4;
          this.need(1 + lengthBytes);
          const n = lengthBytes === 1 ? this.view.getUint8(this.consumed + 1) : lengthBytes === 2 ? this.view.getUint16(this.consumed + 1) : this.view.getUint32(this.consumed + 1);
          this.slice(2 + lengthBytes, n);
          break;
        }
        default: throw new MalformedBodyError(`invalid MessagePack code 0x${c.toString(16)} at body offset ${this.consumed}`);
      }
    }
  }

  /** Strict UTF-8 (invalid UTF-8 is malformed, as in the C# reader). */
  static decodeUtf8(bytes: Uint8Array): string {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new MalformedBodyError('string is not valid UTF-8');
    }
  }
}
