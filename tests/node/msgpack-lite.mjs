// The MessagePack subset of docs/sei-format.md §3 (integers, str, bin, arrays, nil), enough to decode CatEvening
// bodies as a web reader written from the doc would. 64-bit integers are read exactly (BigInt) and must fit 2^53 - 1
// in version 2.
export function decode(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) throw new Error(`body ends at ${bytes.length}, needs ${n} more bytes at ${at}`);
  };
  const big = (v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`integer ${v} outside ±(2^53 - 1) at ${at}`);
    return Number(v);
  };
  function value() {
    need(1);
    const t = bytes[at++];
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if ((t & 0xf0) === 0x90) return array(t & 0x0f);
    if ((t & 0xe0) === 0xa0) return str(t & 0x1f);
    switch (t) {
      case 0xc0: return null;
      case 0xc4: need(1); return bin(bytes[at++]);
      case 0xc5: need(2); at += 2; return bin(view.getUint16(at - 2));
      case 0xcc: need(1); return bytes[at++];
      case 0xcd: need(2); at += 2; return view.getUint16(at - 2);
      case 0xce: need(4); at += 4; return view.getUint32(at - 4);
      case 0xcf: need(8); at += 8; return big(view.getBigUint64(at - 8));
      case 0xd0: need(1); at += 1; return view.getInt8(at - 1);
      case 0xd1: need(2); at += 2; return view.getInt16(at - 2);
      case 0xd2: need(4); at += 4; return view.getInt32(at - 4);
      case 0xd3: need(8); at += 8; return big(view.getBigInt64(at - 8));
      case 0xd9: need(1); return str(bytes[at++]);
      case 0xda: need(2); at += 2; return str(view.getUint16(at - 2));
      case 0xdc: need(2); at += 2; return array(view.getUint16(at - 2));
      default: throw new Error(`type byte ${t.toString(16)} at ${at - 1} is not used by CatEvening bodies`);
    }
  }
  function array(n) {
    const a = [];
    for (let i = 0; i < n; i++) a.push(value());
    return a;
  }
  function str(n) {
    need(n);
    at += n;
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at - n, at));
  }
  function bin(n) {
    need(n);
    at += n;
    return bytes.subarray(at - n, at);
  }
  const v = value();
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after the array`);
  return v;
}

const KINDS = { 1: 'interaction-start', 2: 'interaction-end', 3: 'cancel', 4: 'heartbeat', 5: 'custom' };

/** Version 2 body: [stream_id, seq, issued_at_us, [entry, ...]]. */
export function decodeBundle(body) {
  const [stream, seq, issuedAt, entries] = decode(body);
  return {
    stream_id: stream,
    seq,
    issued_at_us: issuedAt,
    entries: entries.map((e) => (e[0] === 4
      ? { kind: 'heartbeat', injection_wall_us: e[1], carrier_pts: e[2], uncertainty_us: e[3], time_server: e[4] }
      : { kind: KINDS[e[0]], cue_seq: e[1], target_offset_90k: e[2], cue_id: e[3], window_90k: e[4], spread_us: e[5], app_data: e[6] })),
  };
}

/** Version 1 body: [kind, stream_id, seq, issued_at_us, ...]. */
export function decodeV1(body) {
  const a = decode(body);
  return a[0] === 4
    ? { kind: 'heartbeat', stream_id: a[1], seq: a[2] }
    : { kind: KINDS[a[0]], stream_id: a[1], seq: a[2], cue_id: a[5] };
}
