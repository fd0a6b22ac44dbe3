using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class RbspTests
{
    [Test]
    public void TryUnescape_NothingToRemove_ReturnsTheInputItself()
    {
        byte[] ebsp = [0x88, 0x84, 0x00, 0x00, 0x04, 0x00, 0x33, 0xFF];
        bool ok = Rbsp.TryUnescape(ebsp, Span<byte>.Empty, out var rbsp);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok, Is.True);
            Assert.That(rbsp == ebsp.AsSpan(), Is.True, "same memory, no copy");
        }
    }

    [TestCase(new byte[] { 0, 0, 3, 1 }, new byte[] { 0, 0, 1 })]
    [TestCase(new byte[] { 0, 0, 3, 0, 0, 3 }, new byte[] { 0, 0, 0, 0 })]
    [TestCase(new byte[] { 0, 0, 3, 0, 0, 3, 0, 0, 3, 2 }, new byte[] { 0, 0, 0, 0, 0, 0, 2 })]
    [TestCase(new byte[] { 0x25, 0, 0, 3, 3, 0, 3, 0xFF }, new byte[] { 0x25, 0, 0, 3, 0, 3, 0xFF })]
    [TestCase(new byte[] { 0, 0, 3 }, new byte[] { 0, 0 })]
    public void Unescape_RemovesEveryEmulationPreventionByte(byte[] ebsp, byte[] expected)
    {
        var scratch = new byte[ebsp.Length];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Rbsp.TryUnescape(ebsp, scratch, out var rbsp), Is.True);
            Assert.That(rbsp.ToArray(), Is.EqualTo(expected));
            Assert.That(Rbsp.Unescape(ebsp, scratch), Is.EqualTo(expected.Length));
        }
    }

    [TestCase(new byte[] { 0, 0, 0 }, new byte[] { 0, 0, 3, 0 })]
    [TestCase(new byte[] { 0, 0, 1, 0, 0, 2, 0, 0, 3 }, new byte[] { 0, 0, 3, 1, 0, 0, 3, 2, 0, 0, 3, 3 })]
    [TestCase(new byte[] { 0, 0, 4, 0, 0 }, new byte[] { 0, 0, 4, 0, 0, 3 })]
    [TestCase(new byte[] { 0, 0, 0, 0 }, new byte[] { 0, 0, 3, 0, 0, 3 })]
    [TestCase(new byte[] { 0, 1, 0, 2 }, new byte[] { 0, 1, 0, 2 })]
    public void Escape_InsertsThreeAfterTwoZerosBeforeSmallBytes(byte[] rbsp, byte[] expected)
    {
        var destination = new byte[Rbsp.GetEscapedLength(rbsp)];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(destination, Has.Length.EqualTo(expected.Length));
            Assert.That(Rbsp.Escape(rbsp, destination), Is.EqualTo(expected.Length));
            Assert.That(destination, Is.EqualTo(expected));
        }
    }

    [Test]
    public void EscapeThenUnescape_RandomRunsOfZeros_RoundTrips()
    {
        var random = new Random(20261128);
        for (int i = 0; i < 500; i++)
        {
            var rbsp = Nals.Hostile(random, random.Next(0, 600));
            var escaped = new byte[Rbsp.GetEscapedLength(rbsp)];
            int n = Rbsp.Escape(rbsp, escaped);
            Assert.That(n, Is.EqualTo(escaped.Length));
            Assert.That(AnnexB.IndexOfStartCode(escaped), Is.EqualTo(-1), "no start code survives escaping");
            var back = new byte[escaped.Length];
            Assert.That(Rbsp.TryUnescape(escaped, back, out var unescaped), Is.True);
            Assert.That(unescaped.ToArray(), Is.EqualTo(rbsp));
        }
    }

    [Test]
    public void TryUnescape_ScratchTooShort_ReturnsFalse()
    {
        byte[] ebsp = [1, 0, 0, 3, 1, 2, 3, 4];
        Assert.That(Rbsp.TryUnescape(ebsp, new byte[3], out _), Is.False);
    }

    [Test]
    public void Escape_DestinationTooShort_Throws()
    {
        Assert.Throws<ArgumentException>(() => Rbsp.Escape(new byte[] { 0, 0, 1 }, new byte[3]));
    }

    [Test]
    public void ToEscapedOffset_SkipsRemovedBytes()
    {
        byte[] ebsp = [9, 0, 0, 3, 1, 0, 0, 3, 0, 7];
        // RBSP: 9 0 0 1 0 0 0 7 -> the 7 (rbsp offset 7) sits at ebsp offset 9; the 1 (rbsp 3) at 4.
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Rbsp.ToEscapedOffset(ebsp, 7), Is.EqualTo(9));
            Assert.That(Rbsp.ToEscapedOffset(ebsp, 3), Is.EqualTo(4));
            Assert.That(Rbsp.ToEscapedOffset(ebsp, 2), Is.EqualTo(2));
        }
    }
}
