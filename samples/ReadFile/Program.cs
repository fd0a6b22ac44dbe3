using System.Globalization;
using CatEvening.FFmpegInterop;
using CatEvening.Samples.QuickStart;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Security;

namespace CatEvening.Samples.ReadFile;

/// <summary>
/// <c>ReadFile URL --public-key FILE --stream ID [--recording] [--input-format F]</c>: reads a file or URL (MP4, FLV,
/// MKV, MPEG-TS, RTMP, HLS, SRT: anything FFmpeg opens) to its end and prints each interaction as it fires. Exit 0 when
/// the input was read, 1 when it cannot be opened or has no H.264/H.265 video, 2 for a bad command line, 3 when the public
/// key file cannot be read or is not a CatEvening public key (P-256, with a key id). Times are
/// printed in seconds from the first video packet's PTS.
/// </summary>
internal static class Program
{
    /// <summary>Frames held to put decode order into presentation order, as a player's decoder does (B-frame depth).</summary>
    private const int ReorderDepth = 16;

    private static int Main(string[] args)
    {
        string? url = null, keyPath = null, streamId = null, inputFormat = null;
        var recording = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--public-key" when i + 1 < args.Length: keyPath = args[++i]; break;
                case "--stream" when i + 1 < args.Length: streamId = args[++i]; break;
                case "--input-format" when i + 1 < args.Length: inputFormat = args[++i]; break;
                case "--recording": recording = true; break;
                default:
                    if (args[i].StartsWith('-') || url != null) return Usage($"unexpected '{args[i]}'");
                    url = args[i];
                    break;
            }
        }
        if (url is null || keyPath is null || streamId is null) return Usage("URL, --public-key and --stream are required");

        using var input = OpenOrNull(url, inputFormat);
        if (input is null) return 1;
        // The codec configuration ("extradata": avcC/hvcC in MP4, FLV and MKV; parameter sets or nothing in MPEG-TS)
        // tells the reader how packets frame their NAL units.
        var video = input.Streams.FirstOrDefault(s => s.MediaType == MediaType.Video && s.KnownCodec is KnownCodec.H264 or KnownCodec.Hevc);
        if (video is null)
        {
            Console.Error.WriteLine($"ReadFile: {url} has no H.264 or H.265 video ({string.Join(", ", input.Streams)})");
            return 1;
        }
        var codec = video.KnownCodec == KnownCodec.H264 ? VideoCodec.H264 : VideoCodec.H265;
        var timeBase = new TimeBase(video.TimeBase.Numerator, video.TimeBase.Denominator);
        Console.WriteLine($"reading {url}: {input.FormatName}, {codec}, time base {timeBase.Numerator}/{timeBase.Denominator}, " +
            $"{video.Extradata.Length} bytes of codec configuration{(recording ? ", replay mode" : "")}");

        ShowClient client;
        try
        {
            client = new ShowClient(File.ReadAllText(keyPath), streamId, codec, video.Extradata.ToArray(), timeBase, "viewer-1", recording: recording);
        }
        catch (Exception e) when (e is KeyFormatException or IOException or UnauthorizedAccessException)
        {
            // KeyFormatException says what is wrong (its Error) and where (the curve, the label, the point...).
            var what = e is KeyFormatException k ? $"not a CatEvening public key ({k.Error}): " : "";
            Console.Error.WriteLine($"ReadFile: --public-key {keyPath}: {what}{e.Message}");
            return 3;
        }
        // Times are printed from the first video frame, as the schedule's `at` counts (MPEG-TS starts at 1.4 s, say).
        long? firstPts = null;
        string Seconds(long pts) => ((pts - (firstPts ?? 0)) * (double)timeBase.Numerator / timeBase.Denominator).ToString("0.000", CultureInfo.InvariantCulture);
        client.InteractionOpened += (e, offset) => Console.WriteLine(
            $"opened: {e.Cue.CueId} ({e.Cue.Kind}) on the frame at {Seconds(e.RenderedPts)} s, target {Seconds(e.TargetPts)} s; request after {offset / 1000} ms");
        client.InteractionClosed += e => Console.WriteLine($"closed: {e.Cue.CueId} ({e.CloseReason}) at {Seconds(e.RenderedPts)} s");
        client.CustomCueFired += e => Console.WriteLine($"custom: {e.Cue.CueId} on the frame at {Seconds(e.RenderedPts)} s");
        // The first refusal of each reason is printed, the rest counted: a file read at file speed can have thousands.
        var refusals = new Dictionary<string, long>();
        client.Log += line =>
        {
            if (line.StartsWith("refused (", StringComparison.Ordinal) && line.IndexOf(')', StringComparison.Ordinal) is var close and > 9)
            {
                var reason = line[9..close];
                refusals[reason] = refusals.GetValueOrDefault(reason) + 1;
                if (refusals[reason] > 1) return;
            }
            Console.WriteLine(line);
        };

        var shown = new SortedSet<long>();
        using var packet = new Packet();
        while (true)
        {
            ReadResult result;
            try
            {
                result = input.Read(packet);
            }
            catch (FFmpegException e)
            {
                Console.Error.WriteLine($"ReadFile: reading {url}: {e.Message}");
                return 1;
            }
            if (result == ReadResult.EndOfStream) break;
            if (result == ReadResult.TryAgain)
            {
                Thread.Sleep(5);
                continue;
            }
            try
            {
                if (packet.StreamIndex != video.Index) continue;
                long? pts = packet.Pts == Packet.NoTimestamp ? null : packet.Pts;
                long? dts = packet.Dts == Packet.NoTimestamp ? null : packet.Dts;
                firstPts ??= pts;
                client.OnVideoPacket(packet.Data, pts, dts);
                // No decoder here: the frames are "shown" in presentation order, a few packets behind, as a player would.
                if ((pts ?? dts) is { } presentation) shown.Add(presentation);
                if (shown.Count > ReorderDepth) Show(client, shown);
            }
            finally
            {
                packet.Unref();
            }
        }
        while (shown.Count > 0) Show(client, shown);
        foreach (var (reason, count) in refusals)
            if (count > 1) Console.WriteLine($"refused ({reason}): {count - 1:N0} more");
        if (!recording && refusals.ContainsKey("VerificationBudgetExceeded"))
            Console.WriteLine("hint: the file was read faster than real time, and live mode verifies at most 240 messages a second " +
                "(a viewer's budget, 2,400 at once): give --recording to read a file at file speed");
        var s = client.Statistics;
        Console.WriteLine($"done: {s.Packets} packets, {s.CatEveningPayloads} CatEvening payloads, {s.Accepted} new messages, " +
            $"{s.Repeats} repeats, {s.Rejected} refused, {s.MalformedSei} malformed SEI");
        return 0;
    }

    private static void Show(ShowClient client, SortedSet<long> shown)
    {
        var first = shown.Min;
        shown.Remove(first);
        client.OnFrameRendered(first);
    }

    private static MediaInput? OpenOrNull(string url, string? inputFormat)
    {
        try
        {
            return MediaInput.Open(url, inputFormat, TimeSpan.FromSeconds(10));
        }
        catch (FFmpegException e)
        {
            Console.Error.WriteLine($"ReadFile: cannot open {url}: {e.Message}");
            return null;
        }
        catch (DllNotFoundException e)
        {
            Console.Error.WriteLine($"ReadFile: {e.Message}");
            return null;
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"ReadFile: {problem}");
        Console.Error.WriteLine("usage: ReadFile URL --public-key FILE --stream ID [--recording] [--input-format F]");
        return 2;
    }
}
