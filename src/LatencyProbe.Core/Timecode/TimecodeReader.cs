using System.Globalization;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Timecode;

/// <summary>Settings of <c>timecode read</c>.</summary>
public sealed record TimecodeReadOptions
{
    /// <summary>What to read: a file or any URL FFmpeg opens (RTMP, HTTP-FLV, HLS, SRT, UDP, a capture device).</summary>
    public required string Input { get; init; }

    /// <summary>Read a file at its own frame rate (FFmpeg <c>-re</c>) instead of as fast as possible.</summary>
    public bool RealTime { get; init; }

    /// <summary>Extra FFmpeg input options placed before <c>-i</c> (e.g. <c>-f v4l2</c> for a camera).</summary>
    public IReadOnlyList<string> InputArguments { get; init; } = [];
}

/// <summary>One decoded frame: its code (when read) and when it arrived.</summary>
/// <param name="Index">Frame number in decode-output order, from 0.</param>
/// <param name="Failure">Why the code could not be read, or <see cref="TimecodeReadFailure.None"/>.</param>
/// <param name="CodeMilliseconds">Time in the code, milliseconds since the Unix epoch (0 when unread).</param>
/// <param name="Received">Clock reading when the decoded frame arrived.</param>
public readonly record struct TimecodeObservation(long Index, TimecodeReadFailure Failure, long CodeMilliseconds, ClockReading Received);

/// <summary>
/// Decodes a stream with FFmpeg into grey 640x360 frames and reads the timecode of each: latency = arrival time
/// − code time. The code holds whole milliseconds (the creation time rounded down), so the latency is reported
/// 0.5 ms below the difference with ±0.5 ms, plus the reading clock's own uncertainty.
/// </summary>
/// <remarks>
/// <para>FFmpeg probes a live input (up to 5 s) before decoding and then delivers the frames it held as fast as it
/// decodes them: they would look late by the probe time, each a little less late than the one before. On a live
/// input, frames are therefore not measured until the lateness has stopped falling: <see cref="SettledFrames"/>
/// readable frames in a row, each no more than a quarter of the frame interval less late than the one before.
/// Until then they count as <c>backlog_frames</c>. Files (read as fast as FFmpeg decodes, or at their own pace with
/// <see cref="TimecodeReadOptions.RealTime"/>) are measured from the first frame.</para>
/// <para>Counters: <c>frames</c>, <c>backlog_frames</c>, <c>unreadable_frames</c> (low contrast), <c>checksum_mismatches</c>.</para>
/// </remarks>
public sealed class TimecodeReader
{
    /// <summary>Width the reader scales every picture to.</summary>
    public const int ReadWidth = 640;

    /// <summary>Height the reader scales every picture to.</summary>
    public const int ReadHeight = 360;

    /// <summary>Readable frames in a row whose lateness no longer falls, to call a live input's backlog drained.</summary>
    public const int SettledFrames = 5;

    private readonly TimecodeReadOptions _options;

    /// <summary>Creates a reader.</summary>
    public TimecodeReader(TimecodeReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Raised for every decoded frame, on the reading thread.</summary>
    public event Action<TimecodeObservation>? FrameRead;

    /// <summary>
    /// Why no latency could be measured, in words, once the run is over; null when frames were read. No frame at all:
    /// the input never appeared (with FFmpeg's last words); frames without a readable code: not a timecode video.
    /// </summary>
    public string? Diagnosis { get; private set; }

    /// <summary>The FFmpeg command line (without the program name).</summary>
    public IReadOnlyList<string> FfmpegArguments()
    {
        var args = new List<string> { "-hide_banner", "-loglevel", "error", "-nostdin" };
        if (_options.RealTime) args.Add("-re");
        // No frame-threaded decoding: each extra decoder thread holds a frame back. Not "-flags low_delay" nor
        // "-fflags nobuffer": with FFmpeg 5.1 the first gives no frames from streams with B-frames, the second
        // none from MP4 files.
        args.AddRange(["-threads", "1"]);
        args.AddRange(_options.InputArguments);
        args.AddRange(["-i", _options.Input, "-map", "0:v:0",
            "-vf", string.Create(CultureInfo.InvariantCulture, $"scale={ReadWidth}:{ReadHeight}:flags=area"),
            "-fps_mode", "passthrough", "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1"]);
        return args;
    }

    /// <summary>Reads until the input ends or <paramref name="cancellationToken"/> fires, recording a sample per readable frame.</summary>
    /// <exception cref="InvalidOperationException">FFmpeg gave no frame at all; the message carries its words.</exception>
    public async Task ReadAsync(IClockSource clock, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(recorder);
        recorder.SetProperty("input", _options.Input);
        using var ffmpeg = FfmpegProcess.Start(FfmpegArguments());
        await using var registration = cancellationToken.Register(ffmpeg.Kill).ConfigureAwait(false);
        var frame = new byte[ReadWidth * ReadHeight];
        long index = 0;
        var caughtUp = _options.RealTime || File.Exists(_options.Input);
        long? previousCodeMs = null;
        long previousLateness = 0;
        var settled = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var filled = 0;
            while (filled < frame.Length)
            {
                var n = await ffmpeg.Output.ReadAsync(frame.AsMemory(filled), CancellationToken.None).ConfigureAwait(false);
                if (n == 0) break;
                filled += n;
            }
            if (filled < frame.Length) break;
            var received = clock.Now();
            var failure = TimecodeFrame.TryRead(frame, ReadWidth, ReadHeight, out var codeMs);
            if (!caughtUp && failure == TimecodeReadFailure.None)
            {
                var lateness = received.UnixMicroseconds - (codeMs * 1000);
                if (previousCodeMs is long lastCode && codeMs > lastCode)
                {
                    var quarterInterval = (codeMs - lastCode) * 1000 / 4;
                    settled = lateness >= previousLateness - quarterInterval ? settled + 1 : 0;
                    caughtUp = settled >= SettledFrames;
                }
                previousCodeMs = codeMs;
                previousLateness = lateness;
            }
            recorder.Increment("frames");
            switch (failure)
            {
                case TimecodeReadFailure.None when !caughtUp:
                    recorder.Increment("backlog_frames");
                    break;
                case TimecodeReadFailure.None:
                    var latency = ((received.UnixMicroseconds - (codeMs * 1000)) / 1000.0) - 0.5;
                    recorder.Add(new LatencySample(received.UnixMicroseconds, latency, 0.5 + (received.UncertaintyMicroseconds / 1000.0)));
                    break;
                case TimecodeReadFailure.LowContrast:
                    recorder.Increment("unreadable_frames");
                    break;
                case TimecodeReadFailure.ChecksumMismatch:
                    recorder.Increment("checksum_mismatches");
                    break;
            }
            FrameRead?.Invoke(new TimecodeObservation(index, failure, codeMs, received));
            index++;
        }
        var exit = await ffmpeg.CompleteAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (index == 0 && !cancellationToken.IsCancellationRequested)
            throw new InvalidOperationException($"ffmpeg gave no video frames from {_options.Input} (exit code {exit}): {ffmpeg.ErrorText}");
        var ffmpegSays = ffmpeg.ErrorText is { Length: > 0 } words ? $" (ffmpeg: {words})" : "";
        Diagnosis = index == 0
            ? $"no frame arrived from {_options.Input}{ffmpegSays}: is the stream published there (stream names are case-sensitive)?"
            : recorder.Count == 0 && recorder.GetCounter("backlog_frames") == 0
                ? $"{index} frames from {_options.Input} and none with a readable timecode: is it the video of 'latency-probe timecode render', shown whole and in focus?"
                : null;
    }
}
