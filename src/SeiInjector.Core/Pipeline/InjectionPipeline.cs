using System.Diagnostics;
using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Demuxes any input FFmpeg opens, copies every stream to the output (no re-encoding; timestamps, codec configuration
/// and every non-video byte untouched) and splices the SEI NAL that <see cref="IFrameSeiSource"/> gives for each video
/// packet into that packet. Each packet is written as soon as it is read.
/// </summary>
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
            input = MediaInput.Open(_options.InputUrl, _options.InputFormat, _options.IoTimeout, _options.AnalyzeDuration, cancellation);
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
        _seiSource.Start(video);
        Started?.Invoke(video);

        using var packet = new Packet();
        using var spliced = new Packet();
        long packets = 0, frames = 0, carriers = 0, seiBytes = 0, dropped = 0;
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
                var frame = new VideoFrame(
                    packet.Pts == Packet.NoTimestamp ? null : packet.Pts,
                    packet.Dts == Packet.NoTimestamp ? null : packet.Dts,
                    packet.IsKeyframe, frames, video.TimeBase);
                var sei = _seiSource.SeiFor(frame);
                var carried = false;
                if (!sei.IsEmpty)
                {
                    carried = TrySplice(packet, sei.Span, spliced, video, out var splice);
                    if (carried) toWrite = spliced;
                    else _seiSource.NotCarried(frame, splice.ToString());
                }
                var size = toWrite.Data.Length;
                WritePacket(output, input, toWrite, streamIndex);
                _options.Monitor?.Written(readAt, size);
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
                var size = toWrite.Data.Length;
                WritePacket(output, input, toWrite, streamIndex);
                _options.Monitor?.Written(readAt, size);
            }
            packet.Unref();
            spliced.Unref();
            packets++;
        }
        output.WriteTrailer();
        return new PipelineReport(packets, frames, carriers, seiBytes, cancelled, dropped);
    }

    private static void WritePacket(MediaOutput output, MediaInput input, Packet packet, int streamIndex)
    {
        packet.RescaleTimestamps(input.Streams[streamIndex].TimeBase, output.Streams[streamIndex].TimeBase);
        packet.Position = -1;
        output.Write(packet);
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
