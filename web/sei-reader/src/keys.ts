// Public keys and the key ring (docs/sei-format.md section 2, "Keys"): PEM SubjectPublicKeyInfo of an uncompressed
// P-256 point, the key id on a `CatEvening-Key-Id: N` line before the block (or given beside it), imported into WebCrypto.

/** A key the ring refuses: not a P-256 SPKI PEM, no key id, or a point WebCrypto rejects. */
export class KeyFormatError extends Error {}

// SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING 04 || X || Y }: the only SPKI a P-256
// public key with a named curve and an uncompressed point has, 26 bytes of header before the 65-byte point.
const P256_SPKI_PREFIX = Uint8Array.of(
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
  0x03, 0x42, 0x00, 0x04);
const SPKI_LENGTH = 91;

function base64ToBytes(b64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new KeyFormatError('the PEM block is not base64');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Reads a `-----BEGIN PUBLIC KEY-----` PEM: the SPKI bytes and the key id from its `CatEvening-Key-Id: N` line, if any. */
export function parsePublicKeyPem(pem: string): { spki: Uint8Array; keyId: number | null } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new KeyFormatError('no PEM block');
  if (m[1] !== 'PUBLIC KEY') throw new KeyFormatError(`a PEM block labelled "${m[1]}", a "PUBLIC KEY" is required`);
  const spki = base64ToBytes(m[2].replace(/\s+/g, ''));
  const idLine = /^CatEvening-Key-Id:\s*(\d+)\s*$/m.exec(pem.slice(0, m.index));
  const keyId = idLine ? Number(idLine[1]) : null;
  return { spki, keyId };
}

const hex = (b: number): string => b.toString(16).padStart(2, '0');

// What the SPKI header byte at `offset` belongs to (RFC 5480 section 2).
function spkiField(offset: number): string {
  if (offset >= 6 && offset < 13) return 'the algorithm is not id-ecPublicKey (OID 1.2.840.10045.2.1)';
  if (offset >= 15 && offset < 23) return 'the curve is not P-256 (OID 1.2.840.10045.3.1.7, prime256v1)';
  if (offset === 26) return 'the point is not uncompressed (04)';
  return 'its DER header differs';
}

/** Imports SPKI bytes of a P-256 public key (named curve, uncompressed point) into WebCrypto for ECDSA verification. */
export async function importP256PublicKey(spki: Uint8Array): Promise<CryptoKey> {
  if (spki.length !== SPKI_LENGTH) {
    throw new KeyFormatError(`not a P-256 SubjectPublicKeyInfo with an uncompressed point (${spki.length} bytes; ${SPKI_LENGTH} expected)`);
  }
  const at = P256_SPKI_PREFIX.findIndex((b, i) => spki[i] !== b);
  if (at >= 0) throw new KeyFormatError(`not a P-256 SubjectPublicKeyInfo with an uncompressed point: ${spkiField(at)} (byte ${at} is 0x${hex(spki[at])}, 0x${hex(P256_SPKI_PREFIX[at])} expected)`);
  try {
    return await crypto.subtle.importKey('spki', spki.slice(), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  } catch (e) {
    throw new KeyFormatError(`WebCrypto refused the key (a point off the curve?): ${(e as Error).message}`);
  }
}

/**
 * The public keys a client trusts, by key id (0-65535), so that the broadcaster can rotate keys: add the new key,
 * the injector switches, remove the old id later. Verifiers empty their cache when the ring changes.
 */
export class KeyRing {
  private readonly keys = new Map<number, CryptoKey>();
  private changes = 0;

  /** Incremented on every change. */
  get version(): number {
    return this.changes;
  }

  get keyIds(): number[] {
    return [...this.keys.keys()];
  }

  /** Adds an imported key. Throws a RangeError for a key id outside 0-65535 or already in the ring. */
  add(keyId: number, key: CryptoKey): void {
    if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffff) throw new RangeError(`key id ${keyId} is not 0-65535`);
    if (this.keys.has(keyId)) throw new RangeError(`key id ${keyId} is already in the ring`);
    this.keys.set(keyId, key);
    this.changes++;
  }

  /** Adds a PEM public key; the key id comes from `keyId` or else its `CatEvening-Key-Id:` line. Returns the key id. */
  async addPem(pem: string, keyId?: number): Promise<number> {
    const parsed = parsePublicKeyPem(pem);
    const id = keyId ?? parsed.keyId;
    if (id === null) throw new KeyFormatError('no key id: give one, or put a "CatEvening-Key-Id: N" line before the PEM block');
    const key = await importP256PublicKey(parsed.spki);
    this.add(id, key);
    return id;
  }

  /** Removes a key id; payloads signed with it are then refused as UnknownKeyId. */
  remove(keyId: number): boolean {
    const removed = this.keys.delete(keyId);
    if (removed) this.changes++;
    return removed;
  }

  get(keyId: number): CryptoKey | undefined {
    return this.keys.get(keyId);
  }
}
