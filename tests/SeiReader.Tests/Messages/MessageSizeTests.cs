using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Messages;

/// <summary>The budget: a cue with 32 bytes of app data fits in an SEI NAL unit of at most 200 bytes
/// (NAL header to rbsp trailing bits, emulation prevention included; start code or length prefix not counted),
/// measured with the core's <see cref="SeiNalWriter"/>.</summary>
public class MessageSizeTests
{
    private static IEnumerable<TestCaseData> AppDataPatterns()
    {
        // 32 zero bytes are the worst case: emulation prevention adds a byte after every second zero.
        yield return new TestCaseData(new byte[32], "show-2026-1128", "lottery-11-28-a", 4_000_000_000L)
            .SetName("Cue32BytesOfZeros_14ByteStreamId_15ByteCueId_FitsIn200ByteNal");
        var random = new byte[32];
        new Random(1).NextBytes(random);
        yield return new TestCaseData(random, "cat-evening-main", "lottery-2026-11-28-a", 5_000_000_000L)
            .SetName("Cue32RandomBytes_16ByteStreamId_20ByteCueId_FitsIn200ByteNal");
        yield return new TestCaseData("{\"q\":17,\"opts\":[\"red\",\"blue\",\"green\"]}"u8.ToArray()[..32], "cat-evening-main", "lottery-2026-11-28-a", 5_000_000_000L)
            .SetName("Cue32BytesOfJson_16ByteStreamId_20ByteCueId_FitsIn200ByteNal");
    }

    [TestCaseSource(nameof(AppDataPatterns))]
    public void Budget(byte[] appData, string streamId, string cueId, long seq)
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        // Every other field at a large value: a 32-bit offset, a one-hour window and a one-minute spread.
        var cue = new CueMessage(MessageKind.InteractionStart, streamId, seq, TestKeys.Now, -2_000_000_000, cueId, 3600L * 90000, 60_000_000, appData);
        for (var trial = 0; trial < 20; trial++)
        {
            var payload = signer.Sign(cue);
            foreach (var codec in new[] { VideoCodec.H264, VideoCodec.H265 })
            {
                var nal = SeiNalWriter.GetLength(codec, NalFraming.AnnexB, 5, payload) - 4;
                Assert.That(nal, Is.LessThanOrEqualTo(200), $"{codec}: payload {payload.Length} bytes, NAL {nal} bytes");
            }
        }
    }

    /// <summary>docs/sei-format.md §7: the old 200-byte case is 203 bytes in H.264 once <c>seq</c> is a real (uint64) number.</summary>
    [Test]
    public void V1_OldWorstCase_WithAUnixMillisecondSeq_Is203BytesInH264()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var cue = new CueMessage(MessageKind.InteractionStart, "show-2026-1128", 1_795_888_800_000, TestKeys.Now, -2_000_000_000, "lottery-11-28-a",
            3600L * 90000, 60_000_000, new byte[32]);
        var sizes = Enumerable.Range(0, 20).Select(_ => SeiNalWriter.GetLength(VideoCodec.H264, NalFraming.AnnexB, 5, signer.Sign(cue)) - 4).ToList();
        Assert.That(sizes.Min(), Is.EqualTo(203), string.Join(",", sizes));
    }

    /// <summary>docs/sei-format.md §7: a version-2 frame with only a heartbeat (10-byte stream id, PTS above 2^32, 50 ms
    /// uncertainty) is a 138-byte payload, 142 bytes plus emulation prevention in H.264.</summary>
    [Test]
    public void V2_HeartbeatOnlyFrame_Is138BytePayload()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        const long seq = 1_795_888_800_000;
        var bundle = new MessageBundle("catevening", seq, TestKeys.Now, [new HeartbeatMessage("catevening", seq, TestKeys.Now, TestKeys.Now, 8_589_930_000, 50_000)]);
        var payload = signer.Sign(bundle);
        Assert.That(payload, Has.Length.EqualTo(138));
        var nal = SeiNalWriter.GetLength(VideoCodec.H264, NalFraming.AnnexB, 5, payload) - 4;
        Assert.That(nal, Is.InRange(142, 142 + 8));
    }
}
