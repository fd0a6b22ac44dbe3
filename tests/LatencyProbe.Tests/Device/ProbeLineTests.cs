using CatEvening.LatencyProbe.Device;

namespace CatEvening.LatencyProbe.Tests.Device;

[TestFixture]
public sealed class ProbeLineTests
{
    [Test]
    public void Hello_GivesNameAndVersion()
    {
        Assert.That(ProbeLine.TryParse("H cat-probe-rp2040 1.2.0\r", out var line, out _), Is.True);
        Assert.That(line, Is.EqualTo(new ProbeLine(ProbeLineKind.Hello, "cat-probe-rp2040", "1.2.0", 0, 0)));
    }

    [Test]
    public void Edge_GivesChannelAndTime_UpToSixtyFourBits()
    {
        Assert.That(ProbeLine.TryParse("E 1 18446744073709551615", out var line, out _), Is.True);
        Assert.That(line, Is.EqualTo(new ProbeLine(ProbeLineKind.Edge, null, null, 1, ulong.MaxValue)));
    }

    [TestCase("", "empty line")]
    [TestCase("E 2 100", "channel '2'")]
    [TestCase("E 0 -5", "edge time '-5'")]
    [TestCase("E 0 18446744073709551616", "edge time")]
    [TestCase("E 0", "expected 2")]
    [TestCase("E 0 1 2", "expected 2")]
    [TestCase("H onlyname", "expected 2")]
    [TestCase("X 0 1", "unknown line type 'X'")]
    [TestCase("Edge 0 1", "unknown line type 'E'")]
    public void Malformed_IsRefusedWithTheFieldAtFault(string text, string reason)
    {
        Assert.Multiple(() =>
        {
            Assert.That(ProbeLine.TryParse(text, out _, out var error), Is.False);
            Assert.That(error, Does.Contain(reason));
        });
    }

    [Test]
    public void RandomBytes_NeverThrow()
    {
        var random = new Random(7);
        for (var i = 0; i < 20000; i++)
        {
            var chars = new char[random.Next(0, 200)];
            for (var j = 0; j < chars.Length; j++) chars[j] = "HE01 #\r9x"[random.Next(9)];
            Assert.DoesNotThrow(() => ProbeLine.TryParse(chars, out _, out _));
        }
    }

    [Test]
    public void Unwrapper_CarriesA32BitCounterAcrossItsWrap()
    {
        var clock = new DeviceClockUnwrapper();
        Assert.Multiple(() =>
        {
            Assert.That(clock.Unwrap(4_294_967_000), Is.EqualTo(4_294_967_000));
            Assert.That(clock.Unwrap(200), Is.EqualTo(4_294_967_496));
            Assert.That(clock.Unwrap(150), Is.EqualTo(4_294_967_446), "a small step back is reordering, not a wrap");
        });
    }
}
