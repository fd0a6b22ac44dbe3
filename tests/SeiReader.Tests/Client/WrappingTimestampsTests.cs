using CatEvening.SeiReader.Client;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

public class WrappingTimestampsTests
{
    private const long Pts33 = 1L << 33;
    private const long Flv32 = 1L << 32;

    [TestCase(10L, Pts33 - 10, 20L, TestName = "Difference_33Bit_AcrossTheWrap_IsSmallAndPositive")]
    [TestCase(Pts33 - 10, 10L, -20L, TestName = "Difference_33Bit_BackAcrossTheWrap_IsSmallAndNegative")]
    [TestCase(5000L, 1000L, 4000L, TestName = "Difference_33Bit_NoWrap_IsPlain")]
    public void Difference_33Bit(long a, long b, long expected) =>
        Assert.That(WrappingTimestamps.Difference(a, b, WrappingTimestamps.MpegTsBits), Is.EqualTo(expected));

    [Test]
    public void Difference_32BitFlvMilliseconds_AcrossTheWrap()
    {
        Assert.Multiple(() =>
        {
            Assert.That(WrappingTimestamps.Difference(500, Flv32 - 500, WrappingTimestamps.FlvBits), Is.EqualTo(1000));
            Assert.That(WrappingTimestamps.Compare(500, Flv32 - 500, WrappingTimestamps.FlvBits), Is.EqualTo(1));
            Assert.That(WrappingTimestamps.Add(Flv32 - 500, 1000, WrappingTimestamps.FlvBits), Is.EqualTo(500));
        });
    }

    [Test]
    public void Add_NegativeOffsetBeforeZero_WrapsToTheTop()
    {
        Assert.Multiple(() =>
        {
            Assert.That(WrappingTimestamps.Add(100, -200, 33), Is.EqualTo(Pts33 - 100));
            Assert.That(WrappingTimestamps.Wrap(Pts33 + 7, 33), Is.EqualTo(7));
            Assert.That(WrappingTimestamps.Add(100, -200, WrappingTimestamps.NoWrap), Is.EqualTo(-100));
        });
    }

    [Test]
    public void Property_AddThenDifference_GivesTheDeltaBack()
    {
        var rng = new Random(5);
        foreach (var bits in new[] { 32, 33, 64 })
            for (var i = 0; i < 10000; i++)
            {
                var t = bits == 64 ? rng.NextInt64(-(1L << 40), 1L << 40) : rng.NextInt64(0, 1L << bits);
                var delta = rng.NextInt64(-(1L << (Math.Min(bits, 40) - 2)), 1L << (Math.Min(bits, 40) - 2));
                var sum = WrappingTimestamps.Add(t, delta, bits);
                Assert.That(WrappingTimestamps.Difference(sum, t, bits), Is.EqualTo(delta), $"bits {bits} t {t} delta {delta}");
            }
    }

    [TestCase(0)]
    [TestCase(63)]
    [TestCase(65)]
    public void BadBitCount_Throws(int bits) =>
        Assert.That(() => WrappingTimestamps.Difference(1, 2, bits), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void TimeBase_Rescale_RoundsHalfAwayFromZero()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TimeBase.Rescale(90000, TimeBase.Mpeg90kHz, TimeBase.Milliseconds), Is.EqualTo(1000));
            Assert.That(TimeBase.Rescale(45, TimeBase.Mpeg90kHz, TimeBase.Milliseconds), Is.EqualTo(1));
            Assert.That(TimeBase.Rescale(-45, TimeBase.Mpeg90kHz, TimeBase.Milliseconds), Is.EqualTo(-1));
            Assert.That(TimeBase.Rescale(1, new TimeBase(1, 12800), TimeBase.Mpeg90kHz), Is.EqualTo(7));
            Assert.That(new TimeBase(2, 180000), Is.EqualTo(TimeBase.Mpeg90kHz));
            Assert.That(TimeBase.Mpeg90kHz.ToMicroseconds(90000), Is.EqualTo(1_000_000));
        });
    }
}
