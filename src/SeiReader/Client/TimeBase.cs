using System;

namespace CatEvening.SeiReader.Client;

/// <summary>A time base as a rational number of seconds per tick (FFmpeg's <c>AVRational time_base</c>).</summary>
public readonly struct TimeBase : IEquatable<TimeBase>
{
    /// <summary>Creates a time base of <paramref name="numerator"/>/<paramref name="denominator"/> seconds per tick.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Either part is not positive.</exception>
    public TimeBase(int numerator, int denominator)
    {
        if (numerator <= 0) throw new ArgumentOutOfRangeException(nameof(numerator), numerator, "must be positive");
        if (denominator <= 0) throw new ArgumentOutOfRangeException(nameof(denominator), denominator, "must be positive");
        Numerator = numerator;
        Denominator = denominator;
    }

    /// <summary>MPEG 90 kHz clock (MPEG-TS PTS/DTS, RTP video, the message offsets).</summary>
    public static TimeBase Mpeg90kHz => new(1, 90000);

    /// <summary>Milliseconds (RTMP/FLV timestamps).</summary>
    public static TimeBase Milliseconds => new(1, 1000);

    /// <summary>Microseconds (wall clock values).</summary>
    public static TimeBase Microseconds => new(1, 1000000);

    /// <summary>Seconds per tick, numerator.</summary>
    public int Numerator { get; }

    /// <summary>Seconds per tick, denominator.</summary>
    public int Denominator { get; }

    /// <summary>Converts <paramref name="value"/> ticks of <paramref name="from"/> to ticks of <paramref name="to"/>,
    /// rounding half away from zero (FFmpeg's <c>av_rescale_q</c> with <c>AV_ROUND_NEAR_INF</c>).</summary>
    public static long Rescale(long value, TimeBase from, TimeBase to)
    {
        if (from.Equals(to)) return value;
        var num = (decimal)from.Numerator * to.Denominator;
        var den = (decimal)from.Denominator * to.Numerator;
        return (long)decimal.Round(value * num / den, MidpointRounding.AwayFromZero);
    }

    /// <summary>Converts <paramref name="value"/> ticks of this time base to microseconds.</summary>
    public long ToMicroseconds(long value) => Rescale(value, this, Microseconds);

    /// <summary>Converts microseconds to ticks of this time base.</summary>
    public long FromMicroseconds(long micros) => Rescale(micros, Microseconds, this);

    /// <inheritdoc />
    public bool Equals(TimeBase other) => (long)Numerator * other.Denominator == (long)other.Numerator * Denominator;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TimeBase t && Equals(t);

    /// <inheritdoc />
    public override int GetHashCode() => ((double)Numerator / Denominator).GetHashCode();

    /// <inheritdoc />
    public override string ToString() => $"{Numerator}/{Denominator}";

    /// <summary>Equality.</summary>
    public static bool operator ==(TimeBase left, TimeBase right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(TimeBase left, TimeBase right) => !left.Equals(right);
}
