using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>A time base or rate, <c>Numerator/Denominator</c>, as FFmpeg's <c>AVRational</c>.</summary>
/// <param name="Numerator">Numerator.</param>
/// <param name="Denominator">Denominator; 0 means unknown.</param>
public readonly record struct Rational(int Numerator, int Denominator)
{
    /// <summary>Seconds for a count of units of this time base; NaN when the denominator is 0.</summary>
    public double ToSeconds(long units) => Denominator == 0 ? double.NaN : units * (double)Numerator / Denominator;

    /// <summary>Units of this time base nearest to a count of microseconds.</summary>
    public long FromMicroseconds(long microseconds) =>
        DivideRounded((Int128)microseconds * Denominator, (Int128)Numerator * 1_000_000);

    /// <summary>Microseconds for a count of units of this time base.</summary>
    public long ToMicroseconds(long units) =>
        DivideRounded((Int128)units * Numerator * 1_000_000, Denominator);

    private const long HalfRange = long.MaxValue / 2;

    // Exact integer rescaling, rounding half away from zero, as av_rescale does.
    private static long DivideRounded(Int128 dividend, Int128 divisor)
    {
        if (divisor == 0) throw new InvalidOperationException("a time base with a zero numerator or denominator cannot convert timestamps");
        if (divisor < 0) { dividend = -dividend; divisor = -divisor; }
        // Fast path (every timestamp of a real stream): 64-bit division, the same result; Int128 division is a
        // software routine that showed in the injector's per-packet profile.
        if (divisor <= long.MaxValue && dividend >= -HalfRange && dividend <= HalfRange)
        {
            long d = (long)dividend, v = (long)divisor, h = v / 2;
            return d >= 0 ? (d + h) / v : -((-d + h) / v);
        }
        var half = divisor / 2;
        return (long)(dividend >= 0 ? (dividend + half) / divisor : -((-dividend + half) / divisor));
    }

    /// <summary>Converts a count of units of this time base into units of <paramref name="to"/>, rounding to nearest (as <c>av_rescale_q</c>).</summary>
    public long Rescale(long units, Rational to) =>
        DivideRounded((Int128)units * Numerator * to.Denominator, (Int128)Denominator * to.Numerator);

    internal AVRational ToNative() => new(Numerator, Denominator);

    /// <inheritdoc />
    public override string ToString() => $"{Numerator}/{Denominator}";
}
