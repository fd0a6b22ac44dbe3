using System.Diagnostics;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Demuxes any input FFmpeg opens, copies every stream to the output (no re-encoding; codec configuration and every
/// non-video byte untouched) and splices the SEI NAL that <see cref="IFrameSeiSource"/> gives for each video packet into
/// that packet. Each packet is written as soon as it is read.
/// </summary>
/// <remarks>
/// Timestamps: the video's are placed on the source's <see cref="MediaTimeline"/>, every other stream's go through a
/// <see cref="TimestampTrack"/> of the same session. Timestamps that increase go out exactly as they came (the
/// container's raw values: FFmpeg's overflow correction is off, wraps are unwrapped here, and the muxers keep the same
/// low bits); a discontinuity is bridged so the output stays valid, logged once and counted; a packet the muxer still
/// refuses is logged, counted and skipped. A timestamp never ends the run.
/// </remarks>
public sealed class InjectionPipeline
{
    private readonly PipelineOptions _options;
    private readonly IFrameSeiSource _seiSource;

    /// <summary>Creates a pipeline; nothing is opened until <see cref="Run"/>.</summary>
    public InjectionPipeline(PipelineOptions options, IFrameSeiSource seiSource)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(seiSource);
        _options = options;
        _seiSource = seiSource;
    }

    /// <summary>Raised once the output header is written, i.e. when the pipeline is live.</summary>
    public event Action<VideoStreamDescription>? Started;

    /// <summary>
    /// Runs until the input ends or <paramref name="cancellation"/> fires; on cancellation the output is still closed
    /// properly (trailer written).
    /// </summary>
    /// <exception cref="FFmpegException">The input or output fails or stalls longer than the I/O timeout.</exception>
    /// <exception cref="InjectionException">The input has no H.264/H.265 video, or its codec configuration is malformed.</exception>
    public PipelineReport Run(CancellationToken cancellation = default)
    {
        MediaInput input;
        try
        {
            input = MediaInput.Open(_options.InputUrl, _options.InputFormat, _options.IoTimeout, _options.AnalyzeDuration, cancellation, rawTimestamps: true);
        }
        catch (FFmpegException e) when (e.WasInterrupted && cancellation.IsCancellationRequested)
        {
            return new PipelineReport(0, 0, 0, 0, Cancelled: true);
        }
        using var inputOwner = input;
        using var output = MediaOutput.Create(_options.OutputUrl, _options.OutputFormat, _options.IoTimeout);
        var video = VideoStreamDescription.Find(input);
        foreach (var stream in input.Streams) output.AddCopyOf(stream);
        output.WriteHeader();
        var timeline = _seiSource.Timeline ?? new MediaTimeline();
        var tracks = BeginSession(timeline, input, video, out var session, out var rawStamps);
        var lastWritten = new long[output.Streams.Count];
        Array.Fill(lastWritten, long.MinValue);
        _seiSource.Start(video);
        Started?.Invoke(video);

        using var packet = new Packet();
        using var spliced = new Packet();
        long packets = 0, frames = 0, carriers = 0, seiBytes = 0, dropped = 0, skipped = 0;
        var monitor = _options.Monitor;
        var cancelled = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = input.Read(packet);
            }
            catch (FFmpegException e) when (e.WasInterrupted && cancellation.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            if (result == ReadResult.EndOfStream) break;
            if (result == ReadResult.TryAgain)
            {
                Thread.Sleep(1);
                continue;
            }
            var readAt = Stopwatch.GetTimestamp();

            var toWrite = packet;
            var streamIndex = packet.StreamIndex;
            if (streamIndex >= output.Streams.Count)
            {
                // A stream announced after the probe (an MPEG-TS PMT update far into the input) has no output stream.
                packet.Unref();
                dropped++;
                continue;
            }
            if (streamIndex == video.StreamIndex)
            {
                var (rawPts, rawDts) = rawStamps is null ? (packet.Pts, packet.Dts) : rawStamps.Next(packet.Data);
                var placed = timeline.Advance(video.TimeBase, rawPts, rawDts, packet.Duration);
                packet.Pts = placed.Pts;
                packet.Dts = placed.Dts;
                if (placed.Repair != TimestampRepair.None) Repaired(monitor, session, streamIndex, placed.Repair, rawPts, rawDts, placed.Dts, video.TimeBase);
                var frame = new VideoFrame(placed.Pts, placed.Dts, packet.IsKeyframe, frames, video.TimeBase)
                {
                    ProgramTime = placed.ProgramTime,
                    ProgramDecodeTime = placed.ProgramDecodeTime,
                };
                var sei = _seiSource.SeiFor(frame);
                var carried = false;
                if (!sei.IsEmpty)
                {
                    carried = TrySplice(packet, sei.Span, spliced, video, out var splice);
                    if (carried) toWrite = spliced;
                    else _seiSource.NotCarried(frame, splice.ToString());
                }
                var size = toWrite.Data.Length;
                if (!WritePacket(output, input, toWrite, streamIndex, lastWritten))
                {
                    skipped++;
                    if (carried) _seiSource.NotCarried(frame, "the muxer refused the packet");
                    carried = false;
                }
                else
                {
                    monitor?.Written(readAt, size);
                }
                if (carried)
                {
                    _seiSource.Delivered(frame, sei.Span);
                    carriers++;
                    seiBytes += sei.Length;
                }
                frames++;
            }
            else
            {
                if (tracks[streamIndex] is { } track)
                {
                    var (rawPts, rawDts) = (packet.Pts, packet.Dts);
                    var step = track.Next(rawPts, rawDts, packet.Duration);
                    packet.Pts = step.Pts;
                    packet.Dts = step.Dts;
                    if (step.Repair != TimestampRepair.None) Repaired(monitor, session, streamIndex, step.Repair, rawPts, rawDts, step.Dts, track.TimeBase);
                }
                var size = toWrite.Data.Length;
                if (WritePacket(output, input, toWrite, streamIndex, lastWritten)) monitor?.Written(readAt, size);
                else skipped++;
            }
            packet.Unref();
            spliced.Unref();
            packets++;
        }
        output.WriteTrailer();
        return new PipelineReport(packets - skipped, frames, carriers, seiBytes, cancelled, dropped, skipped, session.Discontinuities);
    }

    // The video's session on the timeline, and one track for every other stream of the input.
    // A raw Annex B input (FFmpeg's h264/hevc demuxers give no timestamps) is stamped by RawVideoTimestamps.
    private TimestampTrack?[] BeginSession(MediaTimeline timeline, MediaInput input, VideoStreamDescription video, out TimestampSession session,
        out RawVideoTimestamps? rawStamps)
    {
        var streams = input.Streams;
        var videoStream = streams[video.StreamIndex];
        rawStamps = null;
        long spacing = 0;
        if (input.FormatName is "h264" or "hevc")
        {
            rawStamps = new RawVideoTimestamps(video.Codec, video.TimeBase, _options.FrameRate);
            rawStamps.ReadConfiguration(videoStream.Extradata);
            var rate = rawStamps.FrameRate;
            spacing = new Rational(rate.Denominator, rate.Numerator).Rescale(1, video.TimeBase);
            _options.Log?.WriteLine($"sei-inject: raw {video.Codec} input: frames stamped at {rate.Numerator}/{rate.Denominator} fps " +
                $"({rawStamps.FrameRateSource switch { "option" => "--frame-rate", "sps" => "SPS timing", "vps" => "VPS timing", _ => "default; give --frame-rate" }}), in picture order");
        }
        session = timeline.BeginSession(video.TimeBase, spacing, LeadingStart(streams, video));
        var tracks = new TimestampTrack?[streams.Count];
        for (var i = 0; i < streams.Count; i++)
            if (i != video.StreamIndex) tracks[i] = session.AddTrack(streams[i].TimeBase);
        return tracks;
    }

    // Video packets before the first timestamp (PES without PTS at the start of an MPEG-TS) are stamped from the
    // earliest start FFmpeg found among the streams, as ffmpeg does; from a second before the video's own start when no
    // other stream starts earlier.
    private static long? LeadingStart(IReadOnlyList<MediaStream> streams, VideoStreamDescription video)
    {
        long? earliest = null;
        foreach (var s in streams)
            if (s.StartTime is { } start && s.TimeBase.Rescale(start, video.TimeBase) is var t && (earliest is null || t < earliest)) earliest = t;
        if (streams[video.StreamIndex].StartTime is { } own && earliest >= own) earliest = own - video.TimeBase.FromMicroseconds(1_000_000);
        return earliest < 0 ? 0 : earliest;
    }

    private void Repaired(Live.PacketMonitor? monitor, TimestampSession session, int streamIndex, TimestampRepair repair, long rawPts, long rawDts, long dts, Rational timeBase)
    {
        monitor?.Repaired(repair);
        if ((repair & (TimestampRepair.Discontinuity | TimestampRepair.Wrap)) == 0 || _options.Log is not { } log) return;
        var what = (repair & TimestampRepair.Discontinuity) != 0
            ? $"timestamp discontinuity {session.Discontinuities}: the input jumped to DTS {Show(rawDts, timeBase)}; from here the stream is shifted to follow on at {Show(dts, timeBase)}"
            : $"the input's timestamp counter wrapped (DTS {Show(rawDts, timeBase)}); unwrapped to {Show(dts, timeBase)}";
        log.WriteLine($"sei-inject: stream #{streamIndex}: {what} (PTS was {Show(rawPts, timeBase)})");
    }

    private static string Show(long timestamp, Rational timeBase) =>
        timestamp == Packet.NoTimestamp ? "none" : $"{timestamp} ({timeBase.ToSeconds(timestamp):0.######} s)";

    // Rescales to the output time base, keeps the DTS strictly increasing there (a coarser time base can make two
    // neighbours equal), and writes. False when the muxer still refused the packet: it is logged and skipped.
    private bool WritePacket(MediaOutput output, MediaInput input, Packet packet, int streamIndex, long[] lastWritten)
    {
        packet.RescaleTimestamps(input.Streams[streamIndex].TimeBase, output.Streams[streamIndex].TimeBase);
        packet.Position = -1;
        var last = lastWritten[streamIndex];
        if (packet.Dts != Packet.NoTimestamp && packet.Dts <= last)
        {
            packet.Dts = last + 1;
            if (packet.Pts != Packet.NoTimestamp && packet.Pts < packet.Dts) packet.Pts = packet.Dts;
        }
        if (output.TryWrite(packet, out var refusal))
        {
            if (packet.Dts != Packet.NoTimestamp) lastWritten[streamIndex] = packet.Dts;
            return true;
        }
        _options.Monitor?.Refused();
        _options.Log?.WriteLine($"sei-inject: stream #{streamIndex}: the {output.FormatName} muxer refused a packet (PTS {Show(packet.Pts, output.Streams[streamIndex].TimeBase)}, " +
            $"DTS {Show(packet.Dts, output.Streams[streamIndex].TimeBase)}): {refusal}; skipped");
        return false;
    }

    // Writes the access unit with the SEI NAL inserted into `destination`; false (destination left empty) when the
    // access unit has no place for it (no coded slice, or bytes the splicer cannot walk): the packet then goes out as is.
    private static bool TrySplice(Packet source, ReadOnlySpan<byte> sei, Packet destination, VideoStreamDescription video, out SpliceResult result)
    {
        destination.Allocate(source.Data.Length + sei.Length, source);
        result = AccessUnitSplicer.Splice(source.Data, video.Codec, video.Framing, sei, destination.Data);
        if (result.IsSpliced) return true;
        destination.Unref();
        return false;
    }
}
