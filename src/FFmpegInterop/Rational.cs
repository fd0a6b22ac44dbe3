using System.Numerics;
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
        MultiplyDivideRounded(microseconds, Denominator, (long)Numerator * 1_000_000);

    /// <summary>Microseconds for a count of units of this time base.</summary>
    public long ToMicroseconds(long units) =>
        MultiplyDivideRounded(units, (long)Numerator * 1_000_000, Denominator);

    private const long HalfRange = long.MaxValue / 2;

    // a × b / divisor, rounded as DivideRounded does. Fast path (every timestamp of a real stream): when the factors
    // have 62 significant bits between them, the product fits in 64 bits and no 128-bit multiply is needed (on the
    // baseline x64 target, Int128 multiplication is Math.BigMul's software routine, which showed in the per-packet
    // profile).
    private static long MultiplyDivideRounded(long a, long b, long divisor)
    {
        if (divisor > 0 && a != long.MinValue && b != long.MinValue
            && BitOperations.LeadingZeroCount((ulong)Math.Abs(a)) + BitOperations.LeadingZeroCount((ulong)Math.Abs(b)) >= 66)
        {
            long d = a * b, h = divisor / 2;
            return d >= 0 ? (d + h) / divisor : -((-d + h) / divisor);
        }
        return DivideRounded((Int128)a * b, divisor);
    }

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
        MultiplyDivideRounded(units, (long)Numerator * to.Denominator, (long)Denominator * to.Numerator);

    internal AVRational ToNative() => new(Numerator, Denominator);

    /// <inheritdoc />
    public override string ToString() => $"{Numerator}/{Denominator}";
}
