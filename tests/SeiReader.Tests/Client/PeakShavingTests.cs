using System.Numerics;
using CatEvening.SeiReader.Client;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

public class PeakShavingTests
{
    [Test]
    public void Offset_IsDeterministicAndInsideTheSpread()
    {
        var first = PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000);
        Assert.Multiple(() =>
        {
            Assert.That(PeakShaving.OffsetMicros(new string("viewer-1".ToCharArray()), "poll-1", 5_000_000), Is.EqualTo(first));
            Assert.That(first, Is.InRange(0, 4_999_999));
            Assert.That(PeakShaving.OffsetMicros("viewer-1", "poll-1", 0), Is.Zero);
            Assert.That(PeakShaving.OffsetMicros("viewer-1", "poll-1", 1), Is.Zero);
            Assert.That(PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000), Is.Not.EqualTo(PeakShaving.OffsetMicros("viewer-1", "poll-2", 5_000_000)));
        });
    }

    /// <summary>Pinned value, recomputable by hand: SHA-256("poll-1\0viewer-1") starts with the 8 bytes below, and
    /// floor(h × 5,000,000 / 2^64) is the offset (docs/sei-format.md shows the same numbers).</summary>
    [Test]
    public void Offset_MatchesTheDocumentedFormula()
    {
        var digest = System.Security.Cryptography.SHA256.HashData("poll-1\0viewer-1"u8);
        var h = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest);
        var expected = (long)(new BigInteger(h) * 5_000_000 >> 64);
        Assert.That(PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000), Is.EqualTo(expected));
    }

    [Test]
    public void MultiplyHigh_MatchesBigInteger()
    {
        var rng = new Random(1);
        for (var i = 0; i < 100_000; i++)
        {
            var a = (ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2);
            var b = (ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2);
            Assert.That(PeakShaving.MultiplyHigh(a, b), Is.EqualTo((ulong)(new BigInteger(a) * b >> 64)));
        }
        Assert.That(PeakShaving.MultiplyHigh(ulong.MaxValue, ulong.MaxValue), Is.EqualTo(ulong.MaxValue - 1));
    }

    /// <summary>100,000 viewers over 100 bins: a chi-square test of uniformity at the 0.1 % level (critical value 148.2 for 99 degrees of freedom).</summary>
    [Test]
    public void Offsets_OfManyViewers_AreUniformOverTheSpread()
    {
        const int viewers = 100_000, bins = 100;
        const long spread = 10_000_000;
        var counts = new int[bins];
        for (var v = 0; v < viewers; v++) counts[PeakShaving.OffsetMicros($"viewer-{v}", "lottery-7", spread) * bins / spread]++;
        var expected = viewers / (double)bins;
        var chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.That(chi2, Is.LessThan(148.2));
    }
}
