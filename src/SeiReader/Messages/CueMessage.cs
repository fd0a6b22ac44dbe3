using System;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// A cue: interaction start, interaction end, cancel or custom (body fields 4-8 after the common fields).
/// The moment it fires is the presentation time of the frame that carries it plus <see cref="TargetOffsetTicks"/>.
/// </summary>
public sealed class CueMessage : CatEveningMessage, IEquatable<CueMessage>
{
    private readonly byte[] _appData;

    /// <summary>Creates a cue.</summary>
    /// <param name="kind">One of the cue kinds (not <see cref="MessageKind.Heartbeat"/>).</param>
    /// <param name="streamId">Stream id, 1-64 UTF-8 bytes.</param>
    /// <param name="sequenceNumber">Sequence number, ≥ 0.</param>
    /// <param name="issuedAtMicros">Wall clock at signing, microseconds since the Unix epoch.</param>
    /// <param name="targetOffsetTicks">Target presentation time minus the carrier frame's PTS, 90 kHz ticks (negative on a repeat
    /// sent after the cue fired: it tells a late joiner how long ago the interaction began).</param>
    /// <param name="cueId">Cue id, 1-64 UTF-8 bytes; end and cancel name the cue they close.</param>
    /// <param name="windowTicks">How long the interaction stays open, 90 kHz ticks, ≥ 0 (0 for end and cancel).</param>
    /// <param name="spreadMicros">Peak-shaving spread: viewers delay their requests by a deterministic offset in [0, spread), microseconds, ≥ 0.</param>
    /// <param name="appData">Opaque application data, at most 1024 bytes (copied).</param>
    /// <exception cref="ArgumentException">A field is out of its range; the message names it.</exception>
    public CueMessage(MessageKind kind, string streamId, long sequenceNumber, long issuedAtMicros, long targetOffsetTicks,
        string cueId, long windowTicks, long spreadMicros, ReadOnlySpan<byte> appData)
        : base(kind, streamId, sequenceNumber, issuedAtMicros)
    {
        if (!kind.IsCue()) throw new ArgumentOutOfRangeException(nameof(kind), kind, "a cue must be start, end, cancel or custom");
        RequireId(cueId, nameof(cueId));
        if (windowTicks < 0) throw new ArgumentOutOfRangeException(nameof(windowTicks), windowTicks, "must be ≥ 0");
        if (spreadMicros < 0) throw new ArgumentOutOfRangeException(nameof(spreadMicros), spreadMicros, "must be ≥ 0");
        if (appData.Length > CatEveningSei.MaxAppDataLength)
            throw new ArgumentException($"is {appData.Length} bytes, at most {CatEveningSei.MaxAppDataLength}", nameof(appData));
        TargetOffsetTicks = targetOffsetTicks;
        CueId = cueId;
        WindowTicks = windowTicks;
        SpreadMicros = spreadMicros;
        _appData = appData.ToArray();
    }

    /// <summary>Body field 4: target presentation time minus the carrier frame's PTS, in 90 kHz ticks (signed).</summary>
    public long TargetOffsetTicks { get; }

    /// <summary>Body field 5: the cue id (1-64 UTF-8 bytes).</summary>
    public string CueId { get; }

    /// <summary>Body field 6: how long the interaction stays open after its target time, in 90 kHz ticks.</summary>
    public long WindowTicks { get; }

    /// <summary>Body field 7: peak-shaving spread in microseconds (see <c>CatEvening.SeiReader.Client.PeakShaving</c>).</summary>
    public long SpreadMicros { get; }

    /// <summary>Body field 8: opaque application data (0-1024 bytes).</summary>
    public ReadOnlyMemory<byte> AppData => _appData;

    /// <summary>A copy of this cue for another carrier frame: same sequence number and content, new offset and issued-at.
    /// This is what a carousel repeat carries.</summary>
    public CueMessage ForCarrier(long targetOffsetTicks, long issuedAtMicros) =>
        new(Kind, StreamId, SequenceNumber, issuedAtMicros, targetOffsetTicks, CueId, WindowTicks, SpreadMicros, _appData);

    /// <summary>True when <paramref name="other"/> is the same cue content (kind, stream, sequence number, cue id, window,
    /// spread, app data), whatever its carrier offset and issued-at: a carousel repeat of this cue.</summary>
    public bool IsRepeatOf(CueMessage other) =>
        other is not null && Kind == other.Kind && StreamId == other.StreamId && SequenceNumber == other.SequenceNumber &&
        CueId == other.CueId && WindowTicks == other.WindowTicks && SpreadMicros == other.SpreadMicros &&
        _appData.AsSpan().SequenceEqual(other._appData);

    /// <inheritdoc />
    public bool Equals(CueMessage? other) =>
        other is not null && HeaderEquals(other) && TargetOffsetTicks == other.TargetOffsetTicks && IsRepeatOf(other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CueMessage c && Equals(c);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(HeaderHashCode(), TargetOffsetTicks, CueId, WindowTicks, SpreadMicros, _appData.Length);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind.ToWireName()} {CueId} stream={StreamId} seq={SequenceNumber} offset={TargetOffsetTicks} window={WindowTicks} spread={SpreadMicros}us app={_appData.Length}B";
}
