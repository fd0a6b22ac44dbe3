using System;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// A heartbeat (body fields 4-7 after the common fields): proves the path still carries SEI and ties the carrier
/// frame's PTS to the injector's wall clock.
/// </summary>
public sealed class HeartbeatMessage : CatEveningMessage, IEquatable<HeartbeatMessage>
{
    /// <summary>The largest 33-bit PTS value (2^33 - 1).</summary>
    public const long MaxPts = (1L << 33) - 1;

    /// <summary>Creates a heartbeat.</summary>
    /// <param name="streamId">Stream id, 1-64 UTF-8 bytes.</param>
    /// <param name="sequenceNumber">Sequence number, ≥ 0.</param>
    /// <param name="issuedAtMicros">Wall clock at signing, microseconds since the Unix epoch.</param>
    /// <param name="injectionWallClockMicros">Wall clock at which the carrier frame passed the injector, microseconds since the Unix epoch.</param>
    /// <param name="carrierPts">The carrier frame's PTS at the injector, 90 kHz, 0 to 2^33 - 1.</param>
    /// <param name="clockUncertaintyMicros">How far the injector's wall clock may be from UTC, microseconds, ≥ 0.</param>
    /// <param name="timeServer">Optional address of a time server the client may query (<c>host:port</c>), at most 255 UTF-8 bytes.</param>
    /// <exception cref="ArgumentException">A field is out of its range; the message names it.</exception>
    public HeartbeatMessage(string streamId, long sequenceNumber, long issuedAtMicros, long injectionWallClockMicros,
        long carrierPts, long clockUncertaintyMicros, string? timeServer = null)
        : base(MessageKind.Heartbeat, streamId, sequenceNumber, issuedAtMicros)
    {
        if (carrierPts is < 0 or > MaxPts) throw new ArgumentOutOfRangeException(nameof(carrierPts), carrierPts, "must be a 33-bit PTS");
        if (clockUncertaintyMicros < 0) throw new ArgumentOutOfRangeException(nameof(clockUncertaintyMicros), clockUncertaintyMicros, "must be ≥ 0");
        if (timeServer is not null) RequireId(timeServer, nameof(timeServer), CatEveningSei.MaxTimeServerLength);
        InjectionWallClockMicros = injectionWallClockMicros;
        CarrierPts = carrierPts;
        ClockUncertaintyMicros = clockUncertaintyMicros;
        TimeServer = timeServer;
    }

    /// <summary>Body field 4: wall clock at which the carrier frame passed the injector (UTC microseconds since the Unix epoch).</summary>
    public long InjectionWallClockMicros { get; }

    /// <summary>Body field 5: the carrier frame's PTS at the injector (33-bit, 90 kHz). Its difference to the PTS the
    /// client sees on the same frame is the rebasing applied downstream.</summary>
    public long CarrierPts { get; }

    /// <summary>Body field 6: the injector's wall-clock uncertainty in microseconds.</summary>
    public long ClockUncertaintyMicros { get; }

    /// <summary>Body field 7: optional time-server address (<c>host:port</c>), or null.</summary>
    public string? TimeServer { get; }

    /// <inheritdoc />
    public bool Equals(HeartbeatMessage? other) =>
        other is not null && HeaderEquals(other) && InjectionWallClockMicros == other.InjectionWallClockMicros &&
        CarrierPts == other.CarrierPts && ClockUncertaintyMicros == other.ClockUncertaintyMicros && TimeServer == other.TimeServer;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is HeartbeatMessage h && Equals(h);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(HeaderHashCode(), InjectionWallClockMicros, CarrierPts, ClockUncertaintyMicros, TimeServer);

    /// <inheritdoc />
    public override string ToString() =>
        $"heartbeat stream={StreamId} seq={SequenceNumber} wall={InjectionWallClockMicros} pts={CarrierPts} ±{ClockUncertaintyMicros}us";
}
