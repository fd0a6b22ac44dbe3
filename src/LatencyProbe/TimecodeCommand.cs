using System.CommandLine;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Instruments;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Timecode;

namespace CatEvening.LatencyProbe.Cli;

/// <summary><c>latency-probe timecode render|read</c>: the visual timecode.</summary>
internal static class TimecodeCommand
{
    public static Command Create()
    {
        var command = new Command("timecode", "Visual timecode: render a test video showing its own creation time, read it back after any chain.")
        {
            CreateRender(),
            CreateRead(),
        };
        return command;
    }

    private static Command CreateRender()
    {
        var output = new Option<string>("--output", "-o") { Description = "Where the video goes: FILE, rtmp://, srt://, udp://, tcp://.", Required = true };
        var size = new Option<string>("--size") { Description = "Picture size WIDTHxHEIGHT.", DefaultValueFactory = _ => "1280x720" };
        var fps = new Option<int>("--fps") { Description = "Frames per second.", DefaultValueFactory = _ => 25 };
        var bitrate = new Option<string>("--bitrate") { Description = "Video bit rate (FFmpeg notation).", DefaultValueFactory = _ => "2M" };
        var format = new Option<string?>("--format") { Description = "Container format (default: by URL scheme or file extension)." };
        var clock = ClockOption.Create();
        var duration = new Option<string?>("--duration", "-d") { Description = "Stop after this long: 90s, 5m, 1h." };
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many frames." };
        var command = new Command("render", "Encode the timecode video in real time with FFmpeg (libx264).") { output, size, fps, bitrate, format, clock, duration, count };
        command.SetAction(async (result, cancel) =>
        {
            var sizeText = result.GetValue(size)!;
            var parts = sizeText.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h))
            {
                return Program.Fail(ExitCodes.Usage, $"--size '{sizeText}' is not WIDTHxHEIGHT");
            }
            using var interrupt = new Interrupt(cancel);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
            if (result.GetValue(duration) is { } d)
            {
                if (!RunLimits.TryParseDuration(d, out var span))
                {
                    return Program.Fail(ExitCodes.Usage, $"--duration '{d}' is not a duration such as 90s, 5m or 00:05:00");
                }
                stop.CancelAfter(span);
            }
            var options = new TimecodeRenderOptions
            {
                Output = result.GetValue(output)!,
                Width = w,
                Height = h,
                FrameRate = result.GetValue(fps),
                Bitrate = result.GetValue(bitrate)!,
                Format = result.GetValue(format),
            };
            using var source = await ClockOption.OpenAsync(result.GetValue(clock), stop.Token).ConfigureAwait(false);
            try
            {
                var renderer = new TimecodeRenderer(options);
                Console.Error.WriteLine($"timecode: rendering {w}x{h} at {options.FrameRate} fps to {options.Output} (Ctrl+C to stop)");
                using var progress = new RenderProgress(renderer, options.Output, TimeSpan.FromSeconds(5));
                await renderer.RenderAsync(source.Clock, result.GetValue(count), realTime: true, stop.Token).ConfigureAwait(false);
                Console.Error.WriteLine($"timecode: {renderer.FramesWritten} frames to {options.Output}");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                return Program.Fail(ExitCodes.Unreadable, $"timecode render -o {options.Output}: {e.Message}");
            }
        });
        return command;
    }

    /// <summary>One line every few seconds while rendering: frames written, time, frame rate achieved.</summary>
    private sealed class RenderProgress : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public RenderProgress(TimecodeRenderer renderer, string output, TimeSpan interval)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            _loop = Task.Run(async () =>
            {
                while (true)
                {
                    try
                    {
                        await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    var frames = renderer.FramesWritten;
                    var seconds = started.Elapsed.TotalSeconds;
                    Console.Error.WriteLine(FormattableString.Invariant(
                        $"timecode: {frames} frames to {output} in {seconds:0.0} s ({frames / seconds:0.0} fps)"));
                }
            });
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait(TimeSpan.FromSeconds(5));
            _stop.Dispose();
        }
    }

    private static Command CreateRead()
    {
        var input = new Argument<string>("URL") { Description = "The stream or file to read (anything FFmpeg opens)." };
        var realTime = new Option<bool>("--realtime") { Description = "Read a file at its own frame rate (FFmpeg -re)." };
        var clock = ClockOption.Create();
        var common = new CommonOptions();
        var command = new Command("read", "Decode the frames and read the timecode of each: latency = arrival time − creation time.") { input, realTime, clock };
        common.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            common.UseLogFormat(result);
            var recorder = new LatencyRecorder("timecode", DateTimeOffset.UtcNow);
            var readOptions = new TimecodeReadOptions { Input = result.GetValue(input)!, RealTime = result.GetValue(realTime) };
            var reader = new TimecodeReader(readOptions);
            if (!readOptions.RealTime && File.Exists(readOptions.Input))
                ProbeLog.Write("warning", $"timecode: {readOptions.Input} is a file read as fast as it decodes (no --realtime): each latency is the age of its frame (now − when it was rendered), not a path's delay");
            using var source = await ClockOption.OpenAsync(result.GetValue(clock), cancel).ConfigureAwait(false);
            using var interrupt = new Interrupt(cancel);
            try
            {
                var report = await InstrumentHost.RunAsync(recorder, common.Limits(result), common.Outputs(result),
                    token => reader.ReadAsync(source.Clock, recorder, token), interrupt.Token).ConfigureAwait(false);
                return Program.Finish(report, reader.Diagnosis);
            }
            catch (InvalidOperationException e)
            {
                return Program.Fail(ExitCodes.Unreadable, $"timecode read {result.GetValue(input)}: {e.Message}");
            }
        });
        return command;
    }
}
