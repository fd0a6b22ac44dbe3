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
}
