using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Schedule;
using CatEvening.SeiInjector.Signing;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Cli;

/// <summary><c>sei-inject run</c>: the live pipeline.</summary>
internal static class RunCommand
{
    private const string DefaultStreamId = "catevening";
    private static readonly TimeSpan DefaultCloseHold = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultIoTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var input = new Option<string>("--input", "-i")
        {
            Description = "Input URL: a file, - or pipe:0 (standard input), rtmp://…, srt://…, udp://… (anything FFmpeg opens). Must not be the output file.",
            Required = true,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output URL: a file, - or pipe:1 (standard output), rtmp://…, srt://… The format follows the URL or extension unless --output-format is given (needed for - and pipes).",
            Required = true,
        };
        var inputFormat = new Option<string?>("--input-format") { Description = "Input format (FFmpeg demuxer name, e.g. flv, mpegts, h264): needed for pipes." };
        var outputFormat = new Option<string?>("--output-format") { Description = "Output format (FFmpeg muxer name, e.g. flv, mpegts, mp4, matroska)." };
        var key = new Option<string>("--key") { Description = "Private signing key (PEM, from sei-inject keygen); must not be readable by group or others.", Required = true };
        var schedule = new Option<string?>("--schedule") { Description = "Run-of-show schedule file (YAML or JSON): stream id and cues." };
        var heartbeat = new Option<HeartbeatPolicy>("--heartbeat")
        {
            Description = "Heartbeat cadence: 'frame' (every video frame), a duration of media time such as 500ms, 1s, 2s, or 'off'.",
            DefaultValueFactory = _ => HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)),
            CustomParser = ParseHeartbeat,
        };
        var repeat = WholeNumberOption.Create("--repeat", 0, 1000, 3,
            "Frames after a cue's first delivery that carry it again (it also rides on every keyframe until its window ends).");
        // No DefaultValueFactory on the durations: help would print the TimeSpan as [default: 00:00:30]; the description says it.
        var closeHold = new Option<TimeSpan?>("--close-hold")
        {
            Description = "How long an interaction-end or cancel keeps riding the carousel (next frames and keyframes) when the cue it closes has no window, e.g. 10s. A close of a cue with a window rides until that window ends. Default 30s.",
            CustomParser = r => ParseDuration(r, "--close-hold"),
        };
        var streamId = new Option<string?>("--stream-id") { Description = $"Stream id carried by every message, 1-{CatEveningSei.MaxIdLength} UTF-8 bytes (default: the schedule's 'stream', else '{DefaultStreamId}')." };
        // Checked here, not first by the cue book (ArgumentException: an "internal error", exit 70).
        streamId.Validators.Add(r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            var bytes = Encoding.UTF8.GetByteCount(text);
            if (bytes is 0 or > CatEveningSei.MaxIdLength)
                r.AddError($"--stream-id must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes, not {bytes}");
        });
        var ioTimeout = new Option<TimeSpan?>("--io-timeout")
        {
            Description = "Fail when the input or output makes no progress for this long (a dead network peer), e.g. 5s. Default 10s.",
            CustomParser = r => ParseDuration(r, "--io-timeout"),
        };

        var analyzeDuration = new Option<TimeSpan?>("--analyze-duration")
        {
            Description = "How much of the input FFmpeg probes before going live, e.g. 500ms (FFmpeg's default is 5s). Less starts a live input sooner, with no startup burst; too little may miss an audio stream announced late.",
            CustomParser = r => ParseDuration(r, "--analyze-duration"),
        };

        var listen = new Option<bool>("--listen")
        {
            Description = "Wait for the publisher to connect to the input URL (rtmp://HOST:PORT/app/key, tcp://HOST:PORT) instead of pulling from a server. For SRT give mode=listener in the URL.",
        };

        var rtmpClient = new Option<RtmpClient>("--rtmp-client")
        {
            Description = "RTMP client for rtmp:// URLs this process connects to: managed (default: buffered sockets, about a tenth of the system calls; FFmpeg still demuxes and muxes the FLV) or ffmpeg (FFmpeg's own rtmp protocol). A listening input and rtmps/rtmpt always use FFmpeg's.",
            HelpName = "managed|ffmpeg",
            DefaultValueFactory = _ => RtmpClient.Managed,
            CustomParser = ParseRtmpClient,
        };

        var formatVersion = WholeNumberOption.Create("--format-version", 1, 2, CatEveningSei.FormatVersion2,
            "Message format written: 2 (default: everything due on a frame in one signed payload, which every web player reads) or 1 (one payload per message, for readers not yet updated).");

        var frameRate = new Option<Rational?>("--frame-rate")
        {
            Description = "Frame rate of a raw H.264/H.265 input (--input-format h264|hevc) whose SPS has no timing information, e.g. 25, 30000/1001 (default 25). Its frames are stamped at this rate.",
            CustomParser = ParseFrameRate,
        };

        var schedSlice = new Option<SliceSetting>("--sched-slice")
        {
            Description = "Linux 6.12+ scheduler slice of the packet thread: 'auto' (the default: a live input's thread starts on 100ms and, from 30 s on, compares it with its own slice in 2 s windows of CPU time per packet and keeps 100ms unless it costs the thread over 3 % more, part of its saving being the neighbours'; checked again each minute), 'default' (the kernel's, untouched) or a fixed 0.1ms-100ms. A long slice made a live injector 4-8 % cheaper beside nginx and 5-30 % dearer beside CPU-bound work such as encoders (benchmarks/RESULTS.md).",
            CustomParser = ParseSchedulerSlice,
        };

        var clock = new Option<string?>("--clock") { Description = "Stamp heartbeats with the clock of a CatEvening clock service (latency-probe clock serve) at HOST:PORT, and its uncertainty." };

        var command = new Command("run", "Copy the input to the output (stream copy), splicing signed cues and heartbeats into the video.")
        {
            input, output, inputFormat, outputFormat, key, schedule, heartbeat, repeat, closeHold, streamId, ioTimeout, analyzeDuration, listen, rtmpClient, frameRate, clock,
            formatVersion, schedSlice,
        };
        LiveRun.AddTo(command);
        command.SetAction(parsed =>
        {
            // "-" is stdin or stdout, as for ffmpeg.
            var inputUrl = MediaUrl.Input(parsed.GetValue(input)!);
            var outputUrl = MediaUrl.Output(parsed.GetValue(output)!);
            // Before anything is opened: the output would be truncated before the input's first packet is read.
            if (MediaUrl.SameLocalFile(inputUrl, outputUrl, out var inputPath, out var outputPath))
                throw new CliException(ExitCodes.Usage,
                    $"-i {parsed.GetValue(input)} and -o {parsed.GetValue(output)} are the same file ({(inputPath == outputPath ? inputPath : $"{inputPath} and {outputPath}")}): " +
                    "writing the output would destroy the input; write to another file");
            using var signingKey = KeyFiles.ReadPrivate(parsed.GetValue(key)!);
            // A live input (network or pipe) wakes the pipeline thread for each frame, and a signature made right after
            // that wake-up is slow (cold caches): keep nonces ready. A file is read flat out, where precomputing would
            // only add work on another core.
            var liveInput = ReconnectingRunner.IsNetworkInput(inputUrl) || ReconnectingRunner.IsPipeInput(inputUrl);
            if (liveInput)
            {
                // OpenSSL's k·G directly costs ~12 µs a nonce, the runtime's key generation ~80 (RESULTS.md).
                var nonces = OpenSslNonceSource.TryCreate(out var why);
                signingKey.PrecomputeNonces(NonceCapacity, nonces);
                Console.Error.WriteLine($"sei-inject: live input: signing with ECDSA nonces computed ahead ({NonceCapacity} kept ready, "
                    + (nonces is not null ? "from OpenSSL)" : $"from the runtime's key generation: {why})"));
            }
            ShowSchedule? show = null;
            if (parsed.GetValue(schedule) is { } schedulePath)
            {
                try
                {
                    show = ShowSchedule.Load(schedulePath);
                    foreach (var warning in show.Warnings) Console.Error.WriteLine($"sei-inject: warning: --schedule {warning}");
                }
                catch (ScheduleException e)
                {
                    throw new CliException(ExitCodes.BadFile, $"--schedule {e.Message}");
                }
            }
            using var syncedClock = parsed.GetValue(clock) is { } clockEndpoint ? SyncedWallClock.Start(clockEndpoint) : null;
            var bookOptions = new CueBookOptions
            {
                StreamId = parsed.GetValue(streamId) ?? show?.StreamId ?? DefaultStreamId,
                Repeat = parsed.GetValue(repeat),
                CloseHold = parsed.GetValue(closeHold) ?? DefaultCloseHold,
                Heartbeat = parsed.GetValue(heartbeat),
                FirstSequence = CueBookOptions.SequenceFloorAt(DateTimeOffset.UtcNow),
            };
            var options = new PipelineOptions
            {
                InputUrl = inputUrl,
                OutputUrl = outputUrl,
                InputFormat = parsed.GetValue(inputFormat),
                OutputFormat = parsed.GetValue(outputFormat),
                IoTimeout = parsed.GetValue(ioTimeout) ?? DefaultIoTimeout,
                AnalyzeDuration = parsed.GetValue(analyzeDuration),
                ListenInput = parsed.GetValue(listen),
                RtmpClient = parsed.GetValue(rtmpClient),
                Log = line => Console.Error.WriteLine("sei-inject: " + line),
                FrameRate = parsed.GetValue(frameRate),
                SchedulerSlice = parsed.GetValue(schedSlice) is { Mode: SliceMode.Fixed } fixedSlice ? fixedSlice.Slice : null,
                // A file is read flat out (its thread keeps a CPU busy): a long slice would only delay its neighbours.
                SchedulerSliceTuning = parsed.GetValue(schedSlice).Mode == SliceMode.Auto && liveInput ? new SliceTunerOptions() : null,
            };
            return LiveRun.Execute(parsed, bookOptions, show?.Cues ?? [], parsed.GetValue(schedule), options, new MessageSigner(signingKey), syncedClock,
                (byte)parsed.GetValue(formatVersion));
        });
        return command;
    }

    // Nonces kept ready for a live run: a heartbeat a second plus cue bursts; refilled in a batch when half are used. 256
    // (24 KB): one refill of 128 every two minutes of heartbeats, most of its nonces made with warm code, where 32 woke
    // the filler every 16 s for 16 mostly cold ones (41 against ~15 µs/s of CPU: RESULTS.md, fifteenth pass).
    private const int NonceCapacity = 256;

    internal static SliceSetting ParseSchedulerSlice(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (text == "auto") return new SliceSetting(SliceMode.Auto, default);
        if (text == "default") return new SliceSetting(SliceMode.Kernel, default);
        if (DurationText.TryParse(text, out var value) && value >= SchedulerSlice.Minimum && value <= SchedulerSlice.Maximum) return new SliceSetting(SliceMode.Fixed, value);
        result.AddError($"--sched-slice '{text}' is not 'auto', 'default' or a duration from 0.1ms to 100ms such as 20ms");
        return default;
    }

    /// <summary><c>--sched-slice</c> as given; the default value (not given) is <see cref="SliceMode.Auto"/>.</summary>
    internal readonly record struct SliceSetting(SliceMode Mode, TimeSpan Slice);

    internal enum SliceMode { Auto, Kernel, Fixed }

    private static HeartbeatPolicy ParseHeartbeat(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (text == "frame") return HeartbeatPolicy.OnEveryFrame;
        if (text == "off") return HeartbeatPolicy.Off;
        if (DurationText.TryParse(text, out var interval) && interval > TimeSpan.Zero) return HeartbeatPolicy.Every(interval);
        result.AddError($"--heartbeat '{text}' is not 'frame', 'off' or a positive duration such as 500ms, 1s, 2s");
        return HeartbeatPolicy.Off;
    }

    internal static Rational? ParseFrameRate(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var slash = text.IndexOf('/');
        var (num, den) = slash < 0 ? (text, "1") : (text[..slash], text[(slash + 1)..]);
        if (int.TryParse(num, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && int.TryParse(den, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d)
            && n is > 0 and <= 1000 * 1001 && d is > 0 and <= 1001 && n / (double)d <= 1000)
            return new Rational(n, d);
        result.AddError($"--frame-rate '{text}' is not a frame rate such as 25, 50 or 30000/1001 (at most 1000 fps)");
        return null;
    }

    private static RtmpClient ParseRtmpClient(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        switch (text.ToLowerInvariant())
        {
            case "managed": return RtmpClient.Managed;
            case "ffmpeg": return RtmpClient.FFmpeg;
            default:
                result.AddError($"--rtmp-client takes managed or ffmpeg, not '{text}'");
                return RtmpClient.Managed;
        }
    }

    internal static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result, string option)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (DurationText.TryParse(text, out var value) && value > TimeSpan.Zero) return value;
        result.AddError($"{option} '{text}' is not a positive duration such as 500ms, 2s, 1m");
        return TimeSpan.Zero;
    }
}
