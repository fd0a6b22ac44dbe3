using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.Samples.ViewerSim;

/// <summary>
/// The show as the injector sends it: 40 s of 25 fps H.264 access units (AUD and one slice, a keyframe every 2 s),
/// with signed CatEvening messages spliced in the way sei-inject does (one SEI NAL per access unit, after the AUD):
/// a heartbeat on every keyframe, the poll's interaction-start on its target frame, then its carousel repeats (the
/// next 3 frames and every keyframe until the window ends), each re-signed with its offset from its own carrier.
/// </summary>
internal sealed class Broadcast
{
    internal const int FrameRate = 25;
    internal const int Frames = 40 * FrameRate;
    internal const int Gop = 2 * FrameRate;
    internal const long TicksPerFrame = 90000 / FrameRate;
    internal const string StreamId = "cat-evening-main";
    internal const string PollId = "poll-1";
    internal const int PollFrame = 15 * FrameRate;
    internal const long PollWindowTicks = 10 * 90000;
    internal const long PollSpreadMicros = 5_000_000;

    private Broadcast(long startWallMicros, long firstPts, byte[][] packets, int[] messageCounts)
    {
        StartWallMicros = startWallMicros;
        FirstPts = firstPts;
        Packets = packets;
        MessageCounts = messageCounts;
    }

    /// <summary>True (server) wall clock at which frame 0 passed the injector.</summary>
    internal long StartWallMicros { get; }

    /// <summary>PTS of frame 0 at the injector.</summary>
    internal long FirstPts { get; }

    /// <summary>The packets in decode (= presentation) order, messages spliced in.</summary>
    internal byte[][] Packets { get; }

    /// <summary>How many messages each packet carries.</summary>
    internal int[] MessageCounts { get; }

    internal long Pts(int frame) => FirstPts + frame * TicksPerFrame;

    internal long InjectedAtMicros(int frame) => StartWallMicros + frame * 1_000_000L / FrameRate;

    internal static Broadcast Make(SigningKey key, long startWallMicros, int seed)
    {
        var signer = new MessageSigner(key);
        var rng = new Random(seed);
        const long firstPts = (1L << 33) - 20 * 90000;
        var seq = 0L;
        var packets = new byte[Frames][];
        var counts = new int[Frames];
        CueMessage? poll = null;
        var pollEnd = PollFrame + (int)(PollWindowTicks / TicksPerFrame);
        for (var f = 0; f < Frames; f++)
        {
            var wall = startWallMicros + f * 1_000_000L / FrameRate;
            var pts = (firstPts + f * TicksPerFrame) & ((1L << 33) - 1);
            var payloads = new List<byte[]>();
            if (f % Gop == 0) payloads.Add(signer.Sign(new HeartbeatMessage(StreamId, seq++, wall, wall, pts, 1_000, "time.cat-evening.example:4460")));
            if (f == PollFrame)
            {
                poll = new CueMessage(MessageKind.InteractionStart, StreamId, seq++, wall, 0, PollId, PollWindowTicks, PollSpreadMicros, "{\"q\":17}"u8);
                payloads.Add(signer.Sign(poll));
            }
            else if (poll is not null && f < pollEnd && (f <= PollFrame + 3 || f % Gop == 0))
                payloads.Add(signer.Sign(poll.ForCarrier(-(f - PollFrame) * TicksPerFrame, wall)));
            packets[f] = AccessUnit(f % Gop == 0, rng, payloads);
            counts[f] = payloads.Count;
        }
        return new Broadcast(startWallMicros, firstPts, packets, counts);
    }

    private static byte[] AccessUnit(bool keyframe, Random rng, List<byte[]> payloads)
    {
        var slice = new byte[keyframe ? 6000 : 900];
        rng.NextBytes(slice);
        for (var i = 0; i < slice.Length; i++)
            if (slice[i] == 0) slice[i] = 0x5a;
        slice[0] = (byte)(keyframe ? 0x65 : 0x41);
        byte[] au = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, .. slice];
        if (payloads.Count == 0) return au;
        var measure = SeiNalWriter.CreateMeasuring(VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) measure.WriteMessage(5, p);
        var sei = new byte[measure.Complete()];
        var writer = new SeiNalWriter(sei, VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) writer.WriteMessage(5, p);
        writer.Complete();
        var output = new byte[au.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, output);
        if (!result.IsSpliced) throw new InvalidOperationException("splice failed: " + result);
        return output;
    }
}
