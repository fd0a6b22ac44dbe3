using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// Checks CatEvening payloads of format version 1 and 2 in this order, stopping at the first failure
/// (docs/sei-format.md, "Verifying"): UUID (else <see cref="VerificationStatus.NotCatEvening"/>), format version,
/// envelope length, key id, low s, signature, body, stream id, age and clock skew, sequence number (version 2: the
/// transmission number, then each cue's identity, so that a carousel repeat is reported once). Never throws on bad
/// bytes. Thread-safe (one lock per verifier).
/// </summary>
public sealed class MessageVerifier
{
    private readonly KeyRing _keys;
    private readonly VerifierOptions _options;
    private readonly long _maxAgeMicros;
    private readonly long _maxSkewMicros;
    private readonly bool _checkIssuedAt;
    private readonly PayloadCache _cache;
    private readonly Dictionary<string, SequenceWindow> _windows = new(StringComparer.Ordinal);
    private readonly HashSet<string> _streams;
    private readonly object _gate = new();
    private int _ringVersion;
    private double _budget;
    private long _budgetAt = long.MinValue;
    private long _signatureVerifications;
    private long _refusedOverBudget;

    // Payloads refused before ECDSA do not end the access unit, so up to MaxPayloadsPerAccessUnit of them are looked at in
    // each: caching a copy of each (so that a carousel repeat is reported once) would cost 16 x 64 KB copied per access
    // unit for version-2-sized ones (benchmarks/RESULTS.md, hostile access units). Only those no larger than a
    // version-1 envelope are cached: at most 16 x 1,619 bytes; a larger one is refused again, as cheaply, when repeated.
    private const int MaxCachedEarlyRefusal = CatEveningSei.MaxPayloadLength;

    private const string AccessUnitLimitDetail =
        "refused unchecked: the access unit already holds a version-2 payload, a failed signature or the maximum number of payloads";

    /// <summary>Creates a verifier trusting the keys of <paramref name="keys"/> (and later changes to it).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public MessageVerifier(KeyRing keys, VerifierOptions? options = null)
    {
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _options = options ?? new VerifierOptions();
        _options.Validate();
        _streams = new HashSet<string>(_options.StreamIds, StringComparer.Ordinal);
        _maxAgeMicros = _options.MaxAge.Ticks / 10;
        _maxSkewMicros = _options.MaxClockSkew.Ticks / 10;
        _checkIssuedAt = _options.CheckIssuedAt;
        _cache = new PayloadCache(_options.CacheSize);
        _ringVersion = keys.Version;
    }

    /// <summary>The options this verifier was made with (stream ids are copied at construction).</summary>
    public VerifierOptions Options => _options;

    /// <summary>Signature verifications (ECDSA) done so far; identical bytes answered from the cache are not counted.</summary>
    public long SignatureVerifications => Interlocked.Read(ref _signatureVerifications);

    /// <summary>Payloads refused as <see cref="RejectionReason.VerificationBudgetExceeded"/> so far.</summary>
    public long RefusedOverBudget => Interlocked.Read(ref _refusedOverBudget);

    /// <summary>Verifies one user_data_unregistered payload (UUID first, as the SEI carries it), of format version 1 or
    /// 2, on its own: only the per-second budget bounds the work (<see cref="VerifierOptions.MaxVerificationsPerSecond"/>).
    /// Readers that walk access units use the overload with an <see cref="AccessUnitScope"/>.</summary>
    /// <param name="payload">The payload bytes; not kept (a copy is cached).</param>
    /// <param name="nowMicros">The verifier's idea of UTC now, microseconds since the Unix epoch (a
    /// <c>ServerClock</c>-corrected clock is best), for the age and clock-skew checks and the budget.</param>
    /// <returns>The verdict; for an accepted payload <see cref="VerificationResult.NewMessages"/> lists what to act on.</returns>
    public VerificationResult Verify(ReadOnlySpan<byte> payload, long nowMicros)
    {
        var scope = default(AccessUnitScope);
        return Verify(payload, nowMicros, ref scope);
    }

    /// <summary>
    /// Verifies one payload of an access unit under the per-access-unit rules (docs/sei-format.md, "Bounded reader
    /// work"): once an access unit holds a format-version-2 payload it may hold no other CatEvening payload (a payload
    /// refused before the signature step, such as one under a key id this verifier does not trust, is not held); a bad
    /// signature (verified now, or known from the cache) ends the access unit's checks; at most <see cref="VerifierOptions.MaxPayloadsPerAccessUnit"/>
    /// payloads are looked at. Refused payloads (<see cref="RejectionReason.AccessUnitLimit"/>) cost a UUID compare.
    /// So an access unit costs at most one failed ECDSA verification, whatever it holds. Once
    /// <see cref="AccessUnitScope.IsClosed"/>, nothing later in the access unit can be accepted: readers stop there.
    /// </summary>
    /// <param name="payload">The payload bytes; not kept (a copy is cached).</param>
    /// <param name="nowMicros">UTC now, microseconds since the Unix epoch.</param>
    /// <param name="scope">The access unit's state: <c>default</c> before its first payload, the same variable for the rest.</param>
    public VerificationResult Verify(ReadOnlySpan<byte> payload, long nowMicros, ref AccessUnitScope scope)
    {
        if (!CatEveningSei.HasCatEveningUuid(payload)) return new VerificationResult(VerificationStatus.NotCatEvening, RejectionReason.None, null, -1, false, null);
        var index = ++scope.CatEveningPayloads;
        var version2 = payload.Length > CatEveningSei.VersionOffset && payload[CatEveningSei.VersionOffset] >= 2;
        // docs/sei-format.md 6, "Bounded reader work": a version-2 payload is alone among the payloads the access unit
        // holds; payloads refused before step 8 (another injector's key upstream, a bad envelope) are not held.
        if (version2 && scope.Held > 0) scope.Closed = true;
        if (scope.Closed || index > _options.MaxPayloadsPerAccessUnit)
        {
            scope.Skipped++;
            return new VerificationResult(VerificationStatus.Rejected, RejectionReason.AccessUnitLimit, null, -1, false, AccessUnitLimitDetail);
        }
        var result = VerifyOne(payload, nowMicros, out var verifiedSignature);
        if (verifiedSignature) scope.SignatureVerifications++;
        // The last payload allowed closes the access unit whatever became of it: unknown-key payloads cost no ECDSA
        // but a cache look-up each, so their number stays bounded too.
        if (index >= _options.MaxPayloadsPerAccessUnit) scope.Closed = true;
        if (IsRefusedBeforeSignature(result.Reason)) return result;
        scope.Held++;
        // A signature that failed, now or when the cache learnt these bytes, ends the access unit's checks either way, so
        // a re-fed access unit is read exactly as it was the first time.
        if (result.Reason == RejectionReason.BadSignature) scope.Closed = true;
        if (result.Reason == RejectionReason.VerificationBudgetExceeded) scope.Closed = true;
        // Nothing after a held version-2 payload can be accepted either.
        if (version2) scope.Closed = true;
        return result;
    }

    // Steps 2 to 6 of docs/sei-format.md 6: refused without an ECDSA verification, so such a payload neither ends the
    // access unit nor counts as the one version-2 payload it may hold.
    private static bool IsRefusedBeforeSignature(RejectionReason reason) =>
        reason is RejectionReason.MalformedEnvelope or RejectionReason.UnknownFormatVersion
            or RejectionReason.UnknownKeyId or RejectionReason.NonCanonicalSignature;

    private VerificationResult VerifyOne(ReadOnlySpan<byte> payload, long nowMicros, out bool verifiedSignature)
    {
        verifiedSignature = false;
        if (payload.Length <= CatEveningSei.VersionOffset)
            return Reject(RejectionReason.MalformedEnvelope, -1, $"payload of {payload.Length} bytes ends before the format version at offset {CatEveningSei.VersionOffset}");
        var version = payload[CatEveningSei.VersionOffset];
        if (version is not (CatEveningSei.FormatVersion or CatEveningSei.FormatVersion2))
            return Reject(RejectionReason.UnknownFormatVersion, -1,
                $"format version {version} at offset {CatEveningSei.VersionOffset}; this reader knows {CatEveningSei.FormatVersion} and {CatEveningSei.FormatVersion2}");
        var keyId = payload.Length >= CatEveningSei.BodyOffset ? BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(CatEveningSei.KeyIdOffset)) : -1;
        var maxLength = version == CatEveningSei.FormatVersion ? CatEveningSei.MaxPayloadLength : CatEveningSei.MaxBundlePayloadLength;
        if (payload.Length < CatEveningSei.MinPayloadLength || payload.Length > maxLength)
            return Reject(RejectionReason.MalformedEnvelope, keyId,
                $"payload of {payload.Length} bytes; a version-{version} envelope has {CatEveningSei.MinPayloadLength} to {maxLength}");

        lock (_gate)
        {
            var ringVersion = _keys.Version;
            if (ringVersion != _ringVersion)
            {
                _cache.Clear();
                _ringVersion = ringVersion;
            }
            var entry = _cache.Find(payload);
            var fromCache = entry is not null;
            if (entry is null)
            {
                if (!_keys.TryGet((ushort)keyId, out var key))
                {
                    if (payload.Length <= MaxCachedEarlyRefusal) _cache.Add(payload, keyKnown: false, signatureValid: false, null, null, null, nonCanonical: false);
                    return UnknownKey(keyId, fromCache: false);
                }
                var signedLength = payload.Length - CatEveningSei.SignatureLength;
                if (!P256.IsLowS(payload.Slice(signedLength + P256.ScalarLength)))
                {
                    if (payload.Length <= MaxCachedEarlyRefusal) _cache.Add(payload, keyKnown: true, signatureValid: false, null, null, null, nonCanonical: true);
                    return NonCanonical(payload, keyId, fromCache: false);
                }
                if (!TakeBudget(nowMicros))
                {
                    Interlocked.Increment(ref _refusedOverBudget);
                    return Reject(RejectionReason.VerificationBudgetExceeded, keyId,
                        $"more than {_options.MaxVerificationsPerSecond} signature verifications per second: refused unverified");
                }
                verifiedSignature = true;
                Interlocked.Increment(ref _signatureVerifications);
                var valid = key.Verify(payload.Slice(0, signedLength), payload.Slice(signedLength));
                CatEveningMessage? parsed = null;
                MessageBundle? bundle = null;
                string? error = null;
                if (valid)
                {
                    var body = payload.Slice(CatEveningSei.BodyOffset, signedLength - CatEveningSei.BodyOffset).ToArray();
                    if (version == CatEveningSei.FormatVersion) MessageBody.TryRead(body, out parsed, out error);
                    else MessageBody.TryReadBundle(body, out bundle, out error);
                }
                entry = _cache.Add(payload, keyKnown: true, valid, parsed, bundle, error, nonCanonical: false);
            }

            if (!entry.KeyKnown) return UnknownKey(keyId, fromCache);
            if (entry.NonCanonical) return NonCanonical(payload, keyId, fromCache);
            if (!entry.SignatureValid)
                return Reject(RejectionReason.BadSignature, keyId, $"the signature at offset {payload.Length - CatEveningSei.SignatureLength} does not verify with key id {keyId}", fromCache);
            if (entry.Message is null && entry.Bundle is null)
                return Reject(RejectionReason.MalformedBody, keyId, $"{entry.ParseError} (body starts at payload offset {CatEveningSei.BodyOffset})", fromCache);
            if (entry.Accepted) return new VerificationResult(VerificationStatus.Repeat, RejectionReason.None, entry.Message, keyId, true, null, entry.Bundle);

            var streamId = entry.Bundle?.StreamId ?? entry.Message!.StreamId;
            var issuedAt = entry.Bundle?.IssuedAtMicros ?? entry.Message!.IssuedAtMicros;
            if (_streams.Count > 0 && !_streams.Contains(streamId))
                return Reject(RejectionReason.OtherStream, keyId, $"stream id '{streamId}' is not one this verifier accepts", fromCache, entry);
            // Compared without subtracting the signed value, which could overflow for an absurd issued-at.
            if (_checkIssuedAt && issuedAt < nowMicros - _maxAgeMicros)
                return Reject(RejectionReason.IssuedTooLongAgo, keyId,
                    $"issued {((double)nowMicros - issuedAt) / 1000:F0} ms ago, more than the maximum age of {_maxAgeMicros / 1000} ms", fromCache, entry);
            if (_checkIssuedAt && nowMicros <= long.MaxValue - _maxSkewMicros && issuedAt > nowMicros + _maxSkewMicros)
                return Reject(RejectionReason.IssuedInFuture, keyId,
                    $"issued {((double)issuedAt - nowMicros) / 1000:F0} ms after the verifier's clock, more than the tolerated skew of {_maxSkewMicros / 1000} ms", fromCache, entry);

            if (!_windows.TryGetValue(streamId, out var window))
            {
                window = new SequenceWindow(_options.ReplayWindow);
                _windows.Add(streamId, window);
            }
            if (entry.Bundle is { } admitted)
            {
                var (bundleStatus, bundleReason, bundleDetail, fresh) = window.Admit(admitted);
                if (bundleStatus == VerificationStatus.Rejected) return Reject(bundleReason, keyId, bundleDetail, fromCache, entry);
                entry.Accepted = true;
                return new VerificationResult(bundleStatus, RejectionReason.None, null, keyId, fromCache, null, admitted, fresh);
            }
            var (status, reason, detail) = window.Admit(entry.Message!);
            if (status == VerificationStatus.Rejected) return Reject(reason, keyId, detail, fromCache, entry);
            entry.Accepted = true;
            return new VerificationResult(status, RejectionReason.None, entry.Message, keyId, fromCache, null);
        }
    }

    // Token bucket: refilled at MaxVerificationsPerSecond by the caller's clock, holding at most VerificationBurst. A
    // clock that steps back restarts the refill from the new time (no refill for the step): it can neither starve
    // nor flood.
    private bool TakeBudget(long nowMicros)
    {
        var rate = _options.MaxVerificationsPerSecond;
        var burst = _options.VerificationBurst;
        if (_budgetAt == long.MinValue)
        {
            _budget = burst;
        }
        else if (nowMicros > _budgetAt)
        {
            _budget = Math.Min(burst, _budget + (nowMicros - _budgetAt) * (double)rate / 1_000_000);
        }
        _budgetAt = nowMicros;
        if (_budget < 1) return false;
        _budget -= 1;
        return true;
    }

    private static VerificationResult NonCanonical(ReadOnlySpan<byte> payload, int keyId, bool fromCache) =>
        Reject(RejectionReason.NonCanonicalSignature, keyId,
            $"the signature's s at offset {payload.Length - P256.ScalarLength} is above n/2 (high s): CatEvening signers write s <= n/2", fromCache);

    private static VerificationResult UnknownKey(int keyId, bool fromCache) =>
        Reject(RejectionReason.UnknownKeyId, keyId, $"key id {keyId} at offset {CatEveningSei.KeyIdOffset} is not in the key ring", fromCache);

    private static VerificationResult Reject(RejectionReason reason, int keyId, string? detail, bool fromCache = false, PayloadCache.Entry? entry = null) =>
        new(VerificationStatus.Rejected, reason, entry?.Message, keyId, fromCache, detail, entry?.Bundle);
}
