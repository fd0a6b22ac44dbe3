using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop;
using CatEvening.Http;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Cli;

/// <summary>
/// <c>sei-inject run</c> during a show: the audit log (replayed after a crash), the control API and the metrics around
/// the pipeline, reconnection after link drops, and a clean stop on SIGINT/SIGTERM.
/// </summary>
internal static class LiveRun
{
    public static readonly Option<string?> Control = new("--control")
    {
        Description = "Serve the control API (POST /v1/cues, DELETE /v1/cues/ID, GET /v1/status) on HOST:PORT; needs --token-file. Use a loopback address unless a firewall guards the port.",
    };

    public static readonly Option<string?> TokenFile = new("--token-file")
    {
        Description = "File whose first line is the control API's bearer token (at least 16 characters); must not be readable by group or others (chmod 600).",
    };

    public static readonly Option<string?> Audit = new("--audit")
    {
        Description = "Audit log (JSON lines, on disk as written). Restarted with the same file after a crash, the run resumes sequence numbers and resends the cues still active.",
    };

    public static readonly Option<string?> Metrics = new("--metrics")
    {
        Description = "Serve Prometheus metrics on HOST:PORT at /metrics (frames, bytes, cues by state, reconnects, added latency).",
    };

    public static readonly Option<string?> TlsCert = new("--tls-cert")
    {
        Description = "PEM certificate (chain) to serve the control API over HTTPS with; needs --tls-key. Use it when the control port is reached over a network rather than loopback.",
    };

    public static readonly Option<string?> TlsKey = new("--tls-key")
    {
        Description = "PEM private key (unencrypted) of --tls-cert.",
    };

    public static readonly Option<string?> CueBusUrl = new("--cue-bus")
    {
        Description = "One injector of a show on several machines: take cue orders from the show's cue bus redis://HOST:PORT/SHOW (the control API puts orders there; the bus numbers every cue, so main and backup carry it alike). Needs --format-version 2.",
    };

    public static readonly Option<string?> Pair = new("--pair")
    {
        Description = "main or backup: this injector is one machine of a hot-standby pair (both with the same --stream-id and input feed); frames are numbered from the source's timestamps so viewers can switch between the two. Needs --cue-bus.",
    };

    public static readonly Option<string?> BusName = new("--bus-name")
    {
        Description = "This injector's name on the cue bus (its heartbeat key, shown by status); default STREAM.MEMBER@HOST.",
    };

    /// <summary>Adds the live options to the run command.</summary>
    public static void AddTo(Command run)
    {
        run.Options.Add(Control);
        run.Options.Add(TokenFile);
        run.Options.Add(Audit);
        run.Options.Add(Metrics);
        run.Options.Add(TlsCert);
        run.Options.Add(TlsKey);
        run.Options.Add(CueBusUrl);
        run.Options.Add(Pair);
        run.Options.Add(BusName);
        run.Validators.Add(r =>
        {
            if (r.GetValue(CueBusUrl) is { } url && !Bus.CueBusAddress.TryParse(url, out _, out var busError))
                r.AddError("--cue-bus " + busError);
            if (r.GetValue(Pair) is { } pair && pair is not ("main" or "backup"))
                r.AddError($"--pair is main or backup, not '{pair}'");
            if (r.GetValue(Pair) is not null && r.GetValue(CueBusUrl) is null)
                r.AddError("--pair needs --cue-bus: the pair's cues must come from the bus to carry the same numbers");
            if (r.GetValue(BusName) is not null && r.GetValue(CueBusUrl) is null)
                r.AddError("--bus-name is only used with --cue-bus");
            if (r.GetValue(Control) is not null && r.GetValue(TokenFile) is null)
                r.AddError("--control needs --token-file: the control API does not start without a token");
            if (r.GetValue(TokenFile) is not null && r.GetValue(Control) is null)
                r.AddError("--token-file is only used with --control");
            if ((r.GetValue(TlsCert) is null) != (r.GetValue(TlsKey) is null))
                r.AddError("--tls-cert and --tls-key go together: the certificate and its private key");
            if (r.GetValue(TlsCert) is not null && r.GetValue(Control) is null)
                r.AddError("--tls-cert is only used with --control");
        });
    }

    /// <summary>Runs until SIGINT/SIGTERM (or the end of a file input). Returns the exit code.</summary>
    public static int Execute(ParseResult parsed, CueBookOptions bookOptions, IReadOnlyList<CueRequest> scheduled, string? schedulePath,
        PipelineOptions options, MessageSigner signer, IWallClock? clock = null, byte formatVersion = CatEveningSei.FormatVersion2)
    {
        var busAddress = parsed.GetValue(CueBusUrl) is { } busUrl ? Bus.CueBusAddress.Parse(busUrl) : null;
        if (busAddress is not null && formatVersion != CatEveningSei.FormatVersion2)
            throw new CliException(ExitCodes.Usage, "--cue-bus needs --format-version 2: version 1 numbers cues in the replay window, where bus numbers would be refused");
        bookOptions = bookOptions with { PairMember = parsed.GetValue(Pair) switch { "main" => 0, "backup" => 1, _ => null } };
        AuditLog? audit = null;
        if (parsed.GetValue(Audit) is { } auditPath)
        {
            try
            {
                audit = AuditLog.Open(auditPath);
            }
            catch (Exception e) when (e is IOException or AuditLogException)
            {
                throw new CliException(ExitCodes.BadFile, $"--audit {e.Message}");
            }
        }
        var log = Console.Error;
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        LiveSession? session = null;
        ControlServer? control = null;
        MetricsServer? metrics = null;
        Bus.CueBus? bus = null;
        Bus.CueBusFollower? follower = null;
        var reason = "input ended";
        CueCounts? tally = null;
        try
        {
            var replay = audit?.Replay;
            if (replay is not null) bookOptions = bookOptions with { FirstSequence = Math.Max(bookOptions.FirstSequence, replay.NextSequenceNumber) };
            // The console's history sits in front of the audit log: every change still goes to the file first.
            var history = new CueHistory(audit);
            var book = new CueBook(bookOptions, history, clock);
            var restored = audit is null ? null : AuditRestore.Into(book, replay!, audit, DateTimeOffset.UtcNow);
            foreach (var cue in scheduled)
            {
                // A restarted run finds its schedule's cues in the audit log already: they were restored above.
                if (replay?.Find(cue.Id) is not null) continue;
                try
                {
                    book.Add(cue);
                }
                catch (CueRejectedException e)
                {
                    throw new CliException(ExitCodes.BadFile, $"--schedule {schedulePath}: {e.Message}");
                }
            }
            if (replay is { LastRunCrashed: true })
                log.WriteLine($"sei-inject: {audit!.Path}: the last run did not stop cleanly; resuming at seq {bookOptions.FirstSequence}, {restored!.Resent} cue(s) to send again");
            var monitor = new PacketMonitor();
            session = new LiveSession(book, monitor, audit, log, history);
            audit?.Started(bookOptions.StreamId, options.InputUrl, options.OutputUrl, bookOptions.FirstSequence, restored?.Resent ?? 0);
            if (busAddress is not null)
            {
                bus = Bus.CueBus.Open(busAddress);
                var member = bookOptions.PairMember switch { 0 => "main", 1 => "backup", _ => "alone" };
                follower = new Bus.CueBusFollower(bus, session, audit, TextWriter.Synchronized(log),
                    parsed.GetValue(BusName) ?? $"{bookOptions.StreamId}.{member}@{Environment.MachineName}", replay?.BusPosition);
                session.CueBus = bus;
                session.BusFollower = follower;
                // What the show ordered before this injector (re)started is in the book before the first frame.
                follower.PollOnce();
                follower.Start();
            }
            try
            {
                if (parsed.GetValue(Control) is { } listen)
                {
                    var certificate = parsed.GetValue(TlsCert) is { } cert ? PemCertificate.Load(cert, parsed.GetValue(TlsKey)!) : null;
                    control = ControlServer.Start(listen, parsed.GetValue(TokenFile)!, session, audit, TextWriter.Synchronized(log),
                        new ControlServerOptions { Certificate = certificate });
                    log.WriteLine($"sei-inject: control API and operator console on {control.BaseAddress}");
                }
                if (parsed.GetValue(Metrics) is { } metricsListen)
                {
                    metrics = MetricsServer.Start(metricsListen, session.Status, monitor.Latency, follower?.Metrics);
                    log.WriteLine($"sei-inject: metrics on {metrics.BaseAddress}metrics");
                }
            }
            catch (TokenFileException e)
            {
                throw new CliException(ExitCodes.BadFile, e.Message);
            }
            catch (ArgumentException e)
            {
                throw new CliException(ExitCodes.Usage, e.Message);
            }
            catch (IOException e)
            {
                throw new CliException(ExitCodes.Usage, e.Message);
            }

            WarmUp(signer, bookOptions.StreamId, formatVersion);
            var runner = new ReconnectingRunner(options with { Monitor = monitor }, new CueSeiSource(book, signer, formatVersion), session);
            var liveInput = ReconnectingRunner.IsNetworkInput(options.InputUrl) || ReconnectingRunner.IsPipeInput(options.InputUrl);
            runner.Started += (video, number) =>
            {
                if (number == 1) audit?.TimelineStarted(DateTimeOffset.UtcNow);
                // A file is not live: it is read flat out (a newcomer read "live: in.flv" as a mistake).
                var started = number > 1 ? $"live again (session {number})" : liveInput ? "live" : "started";
                log.WriteLine(
                    $"sei-inject: {started}: {options.InputUrl} -> {options.OutputUrl}: " +
                    $"{video.Codec} ({video.Framing}), stream '{bookOptions.StreamId}', heartbeat {bookOptions.Heartbeat}, {book.Snapshot().Pending} cue(s) pending; {FFmpegLibrary.Release}");
                // Live inputs only: a file is read flat out and done in seconds, where a full collection would only add
                // its ~16 ms (benchmarks/injector-vs-ffmpeg.sh).
                if (number == 1 && liveInput) CollectStartUpGarbage();
            };
            var report = runner.Run(stop.Token);
            if (report.Cancelled) reason = "stopped by signal";
            var status = session.Status();
            var cues = status.Cues;
            tally = cues;
            log.WriteLine(
                $"sei-inject: {reason}: {report.Packets} packets written ({report.VideoFrames} video frames), {report.CarrierFrames} carried SEI " +
                $"({report.SeiBytes} bytes), {report.Discontinuities} timestamp discontinuities bridged, {report.SkippedPackets} packets skipped, {report.DroppedPackets} dropped; " +
                $"cues pending {cues.Pending}, active {cues.Active}, delivered {cues.Delivered}, ended {cues.Ended}, " +
                $"expired {cues.Expired}, cancelled {cues.Cancelled}; added latency p50 {status.Latency.P50.TotalMilliseconds:0.###} ms, " +
                $"p99 {status.Latency.P99.TotalMilliseconds:0.###} ms (muxer write p99 {status.WriteTime?.P99.TotalMilliseconds ?? 0:0.###} ms)");
            if (cues.Pending > 0)
            {
                // Named, not only counted (a fresh tester): the operator knows which cues the show never sent.
                var pending = book.Cues().Where(c => c.State == CueState.Pending).Select(c => c.Request.Id).ToList();
                log.WriteLine($"sei-inject: never sent (pending at the end): {string.Join(", ", pending.Take(10))}" +
                    (pending.Count > 10 ? $" and {pending.Count - 10} more" : ""));
            }
            if (book.SpilledMessages > 0)
                log.WriteLine($"sei-inject: {book.SpilledMessages} time(s) a message due on a frame waited for a later one: more was due at once than one frame " +
                    $"holds ({(formatVersion == CatEveningSei.FormatVersion ? "16 messages in format version 1" : "256 messages or 65,453 bytes")})");
            // The input ended with the output never open (a dead ingest, a wrong URL): nothing went out, which is no success.
            // A run stopped by a signal keeps exit 0 (README, exit codes): the operator stopped it.
            if (!report.Cancelled && !session.OutputWasUp && report.Packets == 0)
            {
                reason = "failed: the input ended before the output ever opened";
                throw new CliException(ExitCodes.StreamFailed,
                    $"the input ended before the output ever opened: nothing was written ({report.DroppedPackets} packets read and dropped)");
            }
            // A file read to its end that gave no packet (an empty or cut file) made an output with nothing in it.
            if (!report.Cancelled && !liveInput && report.Packets == 0)
            {
                reason = "failed: the input file ended with no packet written";
                throw new CliException(ExitCodes.StreamFailed,
                    $"{options.InputUrl}: the input file ended with no packet written: {options.OutputUrl} holds no media ({report.DroppedPackets} packets read and dropped)");
            }
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is FFmpegException or InjectionException)
        {
            reason = "failed: " + e.Message;
            throw new CliException(ExitCodes.StreamFailed, e.Message);
        }
        // Anything else is a fault of ours. Caught here, not left unhandled: the runtime runs no finally block for an
        // unhandled exception, so the audit log would never get its stop record (it read "input ended" before).
        catch (Exception e) when (e is not CliException)
        {
            reason = "crashed: " + e.GetType().Name + ": " + e.Message;
            throw new CliException(ExitCodes.InternalError, $"internal error (a bug; please report it with what follows): {e}");
        }
        finally
        {
            control?.Dispose();
            metrics?.Dispose();
            follower?.Dispose();
            bus?.Dispose();
            session?.Dispose();
            if (audit is not null)
            {
                audit.Stopped(reason, tally ?? session?.Status().Cues);
                audit.Dispose();
            }
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }


    // Called on the pipeline thread once, as the output of a live input first goes live. What start-up allocated (the
    // command line, the control API's host, keys, the warm-up) is collected and compacted now, before the first packet
    // is written, instead of by the first collection that its allocations would otherwise trigger ~30 s into the show:
    // a ~16 ms pause of the pipeline thread then (measured with a uprobe on gc_heap::garbage_collect and perf;
    // benchmarks/RESULTS.md, ninth pass). What the run allocates afterwards (~1.2 KB per carrier frame) leaves the next
    // collection minutes away.
    private static void CollectStartUpGarbage() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

    // Runs the per-frame path once (cue and heartbeat signing, SEI writing, splicing) on a throwaway book before going
    // live, so the first frames on air do not pay for just-in-time compilation and the crypto library's set-up.
    private static void WarmUp(MessageSigner signer, string streamId, byte formatVersion)
    {
        var book = new CueBook(new CueBookOptions { StreamId = streamId, Heartbeat = HeartbeatPolicy.OnEveryFrame, Repeat = 1 });
        book.Add(new CueRequest("warm-up", MessageKind.InteractionStart, CueTime.Immediately, TimeSpan.FromSeconds(1), TimeSpan.Zero, "{}"u8.ToArray()));
        var source = new CueSeiSource(book, signer, formatVersion);
        var timeBase = new Rational(1, 1000);
        source.Start(new VideoStreamDescription(0, VideoCodec.H264, NalFraming.LengthPrefixed4, timeBase));
        // One IDR access unit: a 4-byte length prefix and a slice NAL header (nal_unit_type 5).
        byte[] accessUnit = [0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00];
        var spliced = new byte[4096];
        for (var i = 0; i < 3; i++)
        {
            var frame = new VideoFrame(i * 40, i * 40, i == 0, i, timeBase);
            var sei = source.SeiFor(frame);
            AccessUnitSplicer.Splice(accessUnit, VideoCodec.H264, NalFraming.LengthPrefixed4, sei.Span, spliced);
            source.Delivered(frame, sei.Span);
        }
    }
}
