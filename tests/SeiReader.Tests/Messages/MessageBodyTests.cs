using NUnit.Framework;
using System.Buffers;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Tests.Security;
using MessagePack;

namespace CatEvening.SeiReader.Tests.Messages;

public class MessageBodyTests
{
    [Test]
    public void RoundTrip_Cue_GivesEqualMessage()
    {
        var cue = TestKeys.Cue(kind: MessageKind.Custom, offset: -123456);
        Assert.That(MessageBody.TryRead(MessageBody.ToBytes(cue), out var back, out var error), Is.True, error);
        Assert.That(back, Is.EqualTo(cue));
    }

    [Test]
    public void RoundTrip_HeartbeatWithAndWithoutTimeServer_GivesEqualMessage()
    {
        foreach (var hb in new[] { TestKeys.Heartbeat(), TestKeys.Heartbeat(server: null) })
        {
            Assert.That(MessageBody.TryRead(MessageBody.ToBytes(hb), out var back, out var error), Is.True, error);
            Assert.That(back, Is.EqualTo(hb));
        }
    }

    [Test]
    public void Property_RandomMessages_RoundTripExactly()
    {
        var rng = new Random(20261128);
        for (var i = 0; i < 2000; i++)
        {
            var m = RandomMessage(rng);
            var bytes = MessageBody.ToBytes(m);
            Assert.That(MessageBody.TryRead(bytes, out var back, out var error), Is.True, $"{m}: {error}");
            Assert.That(back, Is.EqualTo(m), m.ToString());
            Assert.That(MessageBody.ToBytes(back!), Is.EqualTo(bytes), "re-encoding is byte-identical");
        }
    }

    [Test]
    public void Property_TruncatedOrBitFlippedBodies_NeverThrow()
    {
        var rng = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = MessageBody.ToBytes(RandomMessage(rng));
            var cut = bytes.AsSpan(0, rng.Next(bytes.Length)).ToArray();
            Assert.That(MessageBody.TryRead(cut, out _, out var error), Is.False, "a truncated body never parses");
            Assert.That(error, Does.StartWith("malformed body at body offset"));
            var flipped = (byte[])bytes.Clone();
            flipped[rng.Next(flipped.Length)] ^= (byte)(1 << rng.Next(8));
            Assert.DoesNotThrow(() => MessageBody.TryRead(flipped, out _, out _));
        }
    }

    [Test]
    public void Property_RandomBytes_NeverThrow()
    {
        var rng = new Random(8);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[rng.Next(0, 64)];
            rng.NextBytes(bytes);
            if (bytes.Length > 0) bytes[0] = (byte)(0x90 | rng.Next(16));
            Assert.DoesNotThrow(() => MessageBody.TryRead(bytes, out _, out _));
        }
    }

    [Test]
    public void TryRead_ExtraTrailingArrayElements_AreSkipped()
    {
        var cue = TestKeys.Cue();
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(11);
        w.Write((byte)cue.Kind); w.Write(cue.StreamId); w.Write(cue.SequenceNumber); w.Write(cue.IssuedAtMicros);
        w.Write(cue.TargetOffsetTicks); w.Write(cue.CueId); w.Write(cue.WindowTicks); w.Write(cue.SpreadMicros);
        w.Write(cue.AppData.Span); w.Write("a later field"); w.WriteMapHeader(0);
        w.Flush();
        Assert.That(MessageBody.TryRead(buffer.WrittenMemory, out var back, out var error), Is.True, error);
        Assert.That(back, Is.EqualTo(cue));
    }

    [TestCase(new byte[] { 0x93, 0x01, 0xa1, 0x61, 0x00 }, "cue array has 3 fields", TestName = "TryRead_CueWithTooFewFields_NamesTheField")]
    [TestCase(new byte[] { 0x91, 0x09 }, "unknown kind 9", TestName = "TryRead_UnknownKind_IsMalformed")]
    [TestCase(new byte[] { 0xc0 }, "body is nil", TestName = "TryRead_Nil_IsMalformed")]
    [TestCase(new byte[] { }, "body offset 0", TestName = "TryRead_Empty_IsMalformed")]
    public void TryRead_BadBodies_AreMalformedWithAPlace(byte[] body, string expected)
    {
        Assert.That(MessageBody.TryRead(body, out var m, out var error), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(m, Is.Null);
            Assert.That(error, Does.Contain("malformed body"));
        });
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public void TryRead_StreamIdNotString_NamesField1()
    {
        var body = new byte[] { 0x99, 0x01, 0x05, 0x00, 0x00, 0x00, 0xa1, 0x61, 0x00, 0x00, 0xc4, 0x00 };
        Assert.That(MessageBody.TryRead(body, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("field 1 (stream_id)"));
    }

    [Test]
    public void TryRead_AppDataOver1KiB_IsMalformed()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(9);
        w.Write((byte)1); w.Write("s"); w.Write(1); w.Write(1); w.Write(0); w.Write("c"); w.Write(0); w.Write(0);
        w.Write(new byte[1025]);
        w.Flush();
        Assert.That(MessageBody.TryRead(buffer.WrittenMemory, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("field 8 (app_data)").And.Contain("1025 bytes, at most 1024"));
    }

    [Test]
    public void TryRead_InvalidUtf8InCueId_IsMalformed()
    {
        var body = new byte[] { 0x99, 0x01, 0xa1, 0x73, 0x01, 0x01, 0x00, 0xa2, 0xc3, 0x28, 0x00, 0x00, 0xc4, 0x00 };
        Assert.That(MessageBody.TryRead(body, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("field 5").And.Contain("UTF-8"));
    }

    [Test]
    public void TryRead_TrailingBytesAfterArray_IsMalformed()
    {
        var bytes = MessageBody.ToBytes(TestKeys.Heartbeat()).Append((byte)0xc0).ToArray();
        Assert.That(MessageBody.TryRead(bytes, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("1 bytes after the array"));
    }

    [Test]
    public void Constructor_OutOfRangeFields_ThrowNamingTheParameter()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => TestKeys.Cue(appBytes: 1025), Throws.ArgumentException.With.Property("ParamName").EqualTo("appData"));
            Assert.That(() => TestKeys.Cue(cueId: new string('x', 65)), Throws.ArgumentException.With.Property("ParamName").EqualTo("cueId"));
            Assert.That(() => TestKeys.Cue(stream: ""), Throws.ArgumentException.With.Property("ParamName").EqualTo("streamId"));
            Assert.That(() => TestKeys.Cue(seq: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => TestKeys.Cue(kind: MessageKind.Heartbeat), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => new HeartbeatMessage("s", 1, 0, 0, 1L << 33, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Formatter_UsedThroughMessagePackInterface_RoundTrips()
    {
        var cue = TestKeys.Cue();
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        CueMessageFormatter.Instance.Serialize(ref w, cue, MessagePackSerializerOptions.Standard);
        w.Flush();
        var r = new MessagePackReader(buffer.WrittenMemory);
        Assert.That(CueMessageFormatter.Instance.Deserialize(ref r, MessagePackSerializerOptions.Standard), Is.EqualTo(cue));
    }

    internal static CatEveningMessage RandomMessage(Random rng)
    {
        var stream = RandomId(rng, 64);
        var seq = rng.Next(3) == 0 ? rng.NextInt64(0, long.MaxValue) : rng.Next(0, 1000);
        var issued = rng.NextInt64(long.MinValue, long.MaxValue);
        if (rng.Next(4) == 0) return new HeartbeatMessage(stream, seq, issued, rng.NextInt64(), rng.NextInt64(0, 1L << 33), rng.NextInt64(0, long.MaxValue), rng.Next(2) == 0 ? null : RandomId(rng, 255));
        var kinds = new[] { MessageKind.InteractionStart, MessageKind.InteractionEnd, MessageKind.Cancel, MessageKind.Custom };
        var app = new byte[rng.Next(5) == 0 ? 1024 : rng.Next(0, 100)];
        rng.NextBytes(app);
        return new CueMessage(kinds[rng.Next(4)], stream, seq, issued, rng.NextInt64(-(1L << 40), 1L << 40), RandomId(rng, 64),
            rng.NextInt64(0, long.MaxValue), rng.NextInt64(0, 1L << 40), app);
    }

    private static string RandomId(Random rng, int maxBytes)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.:é猫";
        var chars = new char[rng.Next(1, maxBytes / 3)];
        for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[rng.Next(alphabet.Length)];
        return new string(chars);
    }
}
