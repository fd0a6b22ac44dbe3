using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Security;

namespace CatEvening.Samples.ViewerSim;

/// <summary>How one simulated viewer's session went.</summary>
internal sealed record ViewerResult(
    int Id, string Path, double DelaySeconds, int JoinFrame, int StartFrame, bool Opened, int OpenedAtProgramFrame, double LateBySeconds,
    long OpenedAtTrueMicros, long RequestAtTrueMicros, long ClockErrorMicros, long ClockOffsetMicros, int Rejected);

/// <summary>
/// One viewer: a phone with its own clock (offset up to ±2 s, or ±10 min for one in ten), its own delivery path
/// (WebRTC, LL-HLS or HLS delay), a packager that rebased PTS by a random amount (often across the 33-bit wrap), a
/// player that parses 1-6 s ahead of what it shows, and a join time. It uses the library exactly as an app would:
/// a <see cref="ServerClock"/> synced by 16 exchanges over a jittery cellular path, a <see cref="CueReader"/>, an
/// <see cref="InteractionScheduler"/> fed with the rendered PTS, and <see cref="PeakShaving"/> for its request.
/// </summary>
internal static class Viewer
{
    private const long Wrap = 1L << 33;

    internal static ViewerResult Run(int id, Broadcast show, KeyRing keys, int seed)
    {
        var rng = new Random(seed * 1_000_003 + id);
        var (path, delaySeconds) = rng.NextDouble() switch
        {
            < 0.20 => ("WebRTC", 0.4 + 0.4 * rng.NextDouble()),
            < 0.55 => ("LL-HLS", 2.5 + 1.5 * rng.NextDouble()),
            _ => ("HLS", 10.0 + 4.0 * rng.NextDouble()),
        };
        var delay = (long)(delaySeconds * 1e6);
        var clockOffset = rng.NextDouble() < 0.1 ? (long)((rng.NextDouble() * 2 - 1) * 600e6) : (long)((rng.NextDouble() * 2 - 1) * 2e6);
        var drift = (rng.NextDouble() * 2 - 1) * 50e-6;
        long Local(long trueMicros) => trueMicros + clockOffset + (long)((trueMicros - show.StartWallMicros) * drift);
        var rebase = rng.NextInt64(0, Wrap);
        // Parse-ahead: 1-6 s of buffer, but a packet cannot be parsed before it reaches the phone (0.2 s after injection).
        var bufferFrames = Math.Max(1, (int)(Math.Min(1 + 5 * rng.NextDouble(), delaySeconds - 0.2) * Broadcast.FrameRate));
        var joinFrame = rng.NextDouble() < 0.7 ? 0 : rng.Next(0, 30 * Broadcast.FrameRate);
        var startFrame = (joinFrame + Broadcast.Gop - 1) / Broadcast.Gop * Broadcast.Gop;

        // Clock sync before playback: 16 request/response exchanges with the time server over a cellular path.
        var clock = new ServerClock();
        var t = show.StartWallMicros + startFrame * 1_000_000L / Broadcast.FrameRate - 20_000_000;
        for (var i = 0; i < 16; i++, t += 1_000_000)
        {
            var up = CellularLeg(rng);
            var down = CellularLeg(rng);
            var hold = 200 + rng.Next(1500);
            clock.AddExchange(Local(t), t + up, t + up + hold, Local(t + up + hold + down));
        }
        var trueAtFirstFrame = show.InjectedAtMicros(startFrame) + delay;
        var clockError = clock.GetEstimate(Local(trueAtFirstFrame)).OffsetMicros - (trueAtFirstFrame - Local(trueAtFirstFrame));

        var options = new VerifierOptions();
        options.StreamIds.Add(Broadcast.StreamId);
        long nowTrue = 0;
        var reader = new CueReader(new MessageVerifier(keys, options), VideoCodec.H264, NalFraming.AnnexB, TimeBase.Mpeg90kHz,
            WrappingTimestamps.MpegTsBits, () => clock.ToServerTime(Local(nowTrue)));
        var scheduler = new InteractionScheduler(TimeBase.Mpeg90kHz, WrappingTimestamps.MpegTsBits);
        var rejected = 0;
        reader.CueReceived += (_, e) => scheduler.Add(e);
        reader.MessageRejected += (_, _) => rejected++;

        InteractionEventArgs? opened = null;
        scheduler.InteractionOpened += (_, e) => opened ??= e;
        var fed = startFrame;
        for (var f = startFrame; f < Broadcast.Frames && opened is null; f++)
        {
            var displayTrue = show.InjectedAtMicros(f) + delay;
            for (; fed < Broadcast.Frames && fed <= f + bufferFrames; fed++)
            {
                // The player parses packet `fed` as soon as it is downloaded, well before showing it.
                nowTrue = show.InjectedAtMicros(fed) + delay - bufferFrames * 1_000_000L / Broadcast.FrameRate;
                reader.Feed(show.Packets[fed], (show.Pts(fed) + rebase) & (Wrap - 1));
            }
            nowTrue = displayTrue;
            scheduler.OnFrameRendered((show.Pts(f) + rebase) & (Wrap - 1));
        }
        if (opened is null)
            return new ViewerResult(id, path, delaySeconds, joinFrame, startFrame, false, -1, 0, 0, 0, clockError, clockOffset, rejected);

        var programFrame = (int)(((opened.RenderedPts - rebase - show.FirstPts) % Wrap + Wrap) % Wrap / Broadcast.TicksPerFrame);
        var openedTrue = show.InjectedAtMicros(programFrame) + delay;
        // The app waits its peak-shaving offset, measured on its own clock, then sends the request.
        var requestTrue = openedTrue + PeakShaving.OffsetMicros($"viewer-{id}", opened.Cue);
        return new ViewerResult(id, path, delaySeconds, joinFrame, startFrame, true, programFrame, opened.LateByTicks / 90000.0,
            openedTrue, requestTrue, clockError, clockOffset, rejected);
    }

    /// <summary>One leg of a cellular round trip: 20 ms plus log-normal jitter (median 15 ms, σ 1) plus a 5 % chance of a 0.1-1 s stall.</summary>
    private static long CellularLeg(Random rng)
    {
        var normal = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var jitter = 15_000 * Math.Exp(normal);
        if (rng.NextDouble() < 0.05) jitter += 100_000 + 900_000 * rng.NextDouble();
        return 20_000 + (long)jitter;
    }
}
