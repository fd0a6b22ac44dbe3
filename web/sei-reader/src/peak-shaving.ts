// Peak shaving (docs/sei-format.md section 5), identical to the C# PeakShaving:
//   h      = first 8 bytes, big-endian, of SHA-256( UTF-8(cue_id) || 00 || UTF-8(viewer_id) )
//   offset = floor( h × spread_us / 2^64 )          (exact 128-bit product; 0 ≤ offset < spread_us)

/**
 * The viewer's deterministic wait before calling the server for a cue, in µs, in [0, spreadUs) (0 when the spread
 * is 0). The server can recompute it for any viewer. Async because it uses WebCrypto's SHA-256.
 * @throws RangeError for an empty id or a negative or non-integer spread.
 */
export async function peakShavingOffsetUs(viewerId: string, cueId: string, spreadUs: number | bigint): Promise<number> {
  if (!viewerId) throw new RangeError('viewerId must not be empty');
  if (!cueId) throw new RangeError('cueId must not be empty');
  if (typeof spreadUs === 'number' && !Number.isSafeInteger(spreadUs)) throw new RangeError(`spreadUs ${spreadUs} is not a safe integer`);
  const spread = BigInt(spreadUs);
  if (spread < 0n) throw new RangeError(`spreadUs ${spreadUs} must be ≥ 0`);
  if (spread === 0n) return 0;
  const encoder = new TextEncoder();
  const cue = encoder.encode(cueId);
  const viewer = encoder.encode(viewerId);
  const input = new Uint8Array(cue.length + 1 + viewer.length);
  input.set(cue, 0);
  input.set(viewer, cue.length + 1);
  const digest = new DataView(await crypto.subtle.digest('SHA-256', input));
  const h = digest.getBigUint64(0);
  return Number((h * spread) >> 64n);
}
