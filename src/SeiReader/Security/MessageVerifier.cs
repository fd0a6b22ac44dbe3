using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// Checks CatEvening payloads of format version 1 and 2 in this order, stopping at the first failure
/// (docs/sei-format.md, "Verifying"): UUID (else <see cref="VerificationStatus.NotCatEvening"/>), format version,
/// envelope length, key id, signature, body, stream id, age and clock skew, sequence number (version 2: the
/// transmission number, then each cue's identity, so that a carousel repeat is reported once). Never throws on bad bytes. Thread-safe (one lock per verifier).
/// </summary>
public sealed class MessageVerifier
{
    private readonly KeyRing _keys;
    private readonly VerifierOptions _options;
    private readonly long _maxAgeMicros;
    private readonly long _maxSkewMicros;
    private readonly PayloadCache _cache;
    private readonly Dictionary<string, SequenceWindow> _windows = new(StringComparer.Ordinal);
    private readonly HashSet<string> _streams;
    private readonly object _gate = new();
    private int _ringVersion;

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
        _cache = new PayloadCache(_options.CacheSize);
        _ringVersion = keys.Version;
    }

    /// <summary>The options this verifier was made with (stream ids are copied at construction).</summary>
    public VerifierOptions Options => _options;

    /// <summary>Verifies one user_data_unregistered payload (UUID first, as the SEI carries it), of format version 1 or 2.</summary>
    /// <param name="payload">The payload bytes; not kept (a copy is cached).</param>
    /// <param name="nowMicros">The verifier's idea of UTC now, microseconds since the Unix epoch (a
    /// <c>ServerClock</c>-corrected clock is best), for the age check.</param>
    /// <returns>The verdict; for an accepted payload <see cref="VerificationResult.NewMessages"/> lists what to act on.</returns>
    public VerificationResult Verify(ReadOnlySpan<byte> payload, long nowMicros)
    {
        if (!CatEveningSei.HasCatEveningUuid(payload)) return new VerificationResult(VerificationStatus.NotCatEvening, RejectionReason.None, null, -1, false, null);
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
                    _cache.Add(payload, keyKnown: false, signatureValid: false, null, null, null);
                    return UnknownKey(keyId, fromCache: false);
                }
                var signedLength = payload.Length - CatEveningSei.SignatureLength;
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
                entry = _cache.Add(payload, keyKnown: true, valid, parsed, bundle, error);
            }

            if (!entry.KeyKnown) return UnknownKey(keyId, fromCache);
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
            if (issuedAt < nowMicros - _maxAgeMicros)
                return Reject(RejectionReason.IssuedTooLongAgo, keyId,
                    $"issued {((double)nowMicros - issuedAt) / 1000:F0} ms ago, more than the maximum age of {_maxAgeMicros / 1000} ms", fromCache, entry);
            if (nowMicros <= long.MaxValue - _maxSkewMicros && issuedAt > nowMicros + _maxSkewMicros)
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

    private static VerificationResult UnknownKey(int keyId, bool fromCache) =>
        Reject(RejectionReason.UnknownKeyId, keyId, $"key id {keyId} at offset {CatEveningSei.KeyIdOffset} is not in the key ring", fromCache);

    private static VerificationResult Reject(RejectionReason reason, int keyId, string? detail, bool fromCache = false, PayloadCache.Entry? entry = null) =>
        new(VerificationStatus.Rejected, reason, entry?.Message, keyId, fromCache, detail, entry?.Bundle);
}
