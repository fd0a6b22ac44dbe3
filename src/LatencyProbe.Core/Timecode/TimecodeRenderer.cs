using System.Diagnostics;
using System.Globalization;
using CatEvening.ClockSync;

namespace CatEvening.LatencyProbe.Timecode;

/// <summary>Settings of <c>timecode render</c>.</summary>
public sealed record TimecodeRenderOptions
{
    /// <summary>Where the encoded video goes: a file, <c>rtmp://</c>, <c>srt://</c>, <c>udp://</c>, <c>tcp://</c>.</summary>
    public required string Output { get; init; }

    /// <summary>Picture width in pixels (even).</summary>
    public int Width { get; init; } = 1280;

    /// <summary>Picture height in pixels (even).</summary>
    public int Height { get; init; } = 720;

    /// <summary>Frames per second.</summary>
    public int FrameRate { get; init; } = 25;

    /// <summary>Target video bit rate in FFmpeg's notation (<c>2M</c>, <c>500k</c>).</summary>
    public string Bitrate { get; init; } = "2M";

    /// <summary>Container format; null to choose by the URL (FLV for RTMP, MPEG-TS for SRT/UDP/TCP) or the file extension.</summary>
    public string? Format { get; init; }

    /// <summary>Format FFmpeg is told to write: <see cref="Format"/>, or the one the URL scheme implies.</summary>
    public string? EffectiveFormat => Format ?? Output switch
    {
        _ when Output.StartsWith("rtmp://", StringComparison.OrdinalIgnoreCase) || Output.StartsWith("rtmps://", StringComparison.OrdinalIgnoreCase) => "flv",
        _ when Output.StartsWith("srt://", StringComparison.OrdinalIgnoreCase) || Output.StartsWith("udp://", StringComparison.OrdinalIgnoreCase)
            || Output.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) => "mpegts",
        _ => null,
    };
}

/// <summary>
/// Makes the timecode test video: draws each frame with the time it is created and pipes it to FFmpeg
/// (libx264, zero-latency tuning) for encoding to the output.
/// </summary>
public sealed class TimecodeRenderer
{
    private readonly TimecodeRenderOptions _options;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">Odd or too small picture size, or a frame rate outside 1-120.</exception>
    public TimecodeRenderer(TimecodeRenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Width < 160 || options.Height < 90 || options.Width % 2 != 0 || options.Height % 2 != 0)
            throw new ArgumentException($"picture size {options.Width}x{options.Height} must be even and at least 160x90", nameof(options));
        if (options.FrameRate is < 1 or > 120)
            throw new ArgumentException($"frame rate {options.FrameRate} is not in 1-120", nameof(options));
        _options = options;
    }

    private long _framesWritten;

    /// <summary>Number of frames written so far (readable from any thread while rendering).</summary>
    public long FramesWritten => Interlocked.Read(ref _framesWritten);

    /// <summary>The FFmpeg command line (without the program name).</summary>
    public IReadOnlyList<string> FfmpegArguments()
    {
        var o = _options;
        var gop = (o.FrameRate * 2).ToString(CultureInfo.InvariantCulture);
        var args = new List<string>
        {
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", $"{o.Width}x{o.Height}",
            "-framerate", o.FrameRate.ToString(CultureInfo.InvariantCulture), "-i", "pipe:0",
            // An explicit map: the tee muxer (one encode to several outputs) finds no streams without one.
            "-map", "0:v",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", gop, "-b:v", o.Bitrate, "-maxrate", o.Bitrate, "-bufsize", o.Bitrate,
        };
        if (o.EffectiveFormat is { } format) args.AddRange(["-f", format]);
        args.Add(o.Output);
        return args;
    }

    /// <summary>
    /// Renders until <paramref name="cancellationToken"/> fires or <paramref name="frameCount"/> frames are written.
    /// In real time each frame is drawn at its slot (start + n / rate) and stamped with <paramref name="clock"/> then;
    /// otherwise frames are drawn as fast as FFmpeg takes them, each stamped with whatever the clock says.
    /// </summary>
    /// <exception cref="InvalidOperationException">FFmpeg failed; the message carries its own words.</exception>
    public async Task RenderAsync(IClockSource clock, long? frameCount, bool realTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);
        using var ffmpeg = FfmpegProcess.Start(FfmpegArguments());
        var frame = new byte[_options.Width * _options.Height];
        var period = Stopwatch.Frequency / (double)_options.FrameRate;
        var start = Stopwatch.GetTimestamp();
        try
        {
            for (long n = 0; frameCount is null || n < frameCount; n++)
            {
                if (cancellationToken.IsCancellationRequested) break;
                if (realTime)
                {
                    var due = start + (long)(n * period);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                }
                TimecodeFrame.Draw(frame, _options.Width, _options.Height, clock.Now().UnixMicroseconds / 1000);
                try
                {
                    await ffmpeg.Input.WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw new InvalidOperationException($"ffmpeg stopped taking frames after {n}: {ffmpeg.ErrorText}", e);
                }
                Interlocked.Exchange(ref _framesWritten, n + 1);
            }
        }
        finally
        {
            var exit = await ffmpeg.CompleteAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (exit != 0 && !cancellationToken.IsCancellationRequested)
                throw new InvalidOperationException($"ffmpeg writing {_options.Output} exited with code {exit}: {ffmpeg.ErrorText}");
        }
    }
}
