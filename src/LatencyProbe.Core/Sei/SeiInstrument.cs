using System.Diagnostics;
using CatEvening.ClockSync;
using CatEvening.FFmpegInterop;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.LatencyProbe.Sei;

/// <summary>Settings of <c>latency-probe sei</c>.</summary>
public sealed record SeiProbeOptions
{
    /// <summary>What to pull: rtmp://, http(s):// (HTTP-FLV, HLS), srt://, udp://, or a file.</summary>
    public required string Input { get; init; }

    /// <summary>FFmpeg demuxer name when it cannot be probed (pipes); null to probe.</summary>
    public string? InputFormat { get; init; }

    /// <summary>Pace a file by its timestamps, as a live viewer would receive it.</summary>
    public bool RealTime { get; init; }

    /// <summary>Fail when the input makes no progress for this long.</summary>
    public TimeSpan IoTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The first wait before reopening a network input (rtmp, srt, http(s), udp, tcp…) that ended or failed after it
    /// had opened; each failed attempt doubles it up to <see cref="MaxReconnectDelay"/>. Files end at their end.
    /// </summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two reconnection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Messages refused for their key (bad signature, unknown key id), with none verified since the start, after which
    /// the run stops with <see cref="KeyMismatchException"/>: nothing signed with a key the probe does not hold can be
    /// measured, and a live input would otherwise be read for ever (100: 4 s of heartbeats on every frame at 25 fps).
    /// </summary>
    public int MaxKeyRejections { get; init; } = 100;
}

/// <summary>
/// Every CatEvening message of the input is refused for its key, <see cref="SeiProbeOptions.MaxKeyRejections"/> of them
/// and none verified: <c>--public-key</c> is not the injector's key. The message says which key id the stream is signed with.
/// </summary>
public sealed class KeyMismatchException(string message, long rejections, int keyId) : InvalidOperationException(message)
{
    /// <summary>Messages refused for their key before the run stopped.</summary>
    public long Rejections { get; } = rejections;

    /// <summary>The key id the refused messages were signed with.</summary>
    public int KeyId { get; } = keyId;
}

/// <summary>One verified heartbeat and the latency it gave.</summary>
/// <param name="Heartbeat">The heartbeat, signature verified.</param>
/// <param name="Received">The (synced) clock when its packet arrived.</param>
/// <param name="LatencyMilliseconds">Received − the heartbeat's injection wall clock.</param>
/// <param name="UncertaintyMilliseconds">The reading clock's uncertainty plus the injector's.</param>
public readonly record struct HeartbeatObservation(HeartbeatMessage Heartbeat, ClockReading Received, double LatencyMilliseconds, double UncertaintyMilliseconds);

/// <summary>
/// Pulls a stream as a viewer would (FFmpeg demuxer, no decoding), finds CatEvening heartbeats in the video's
/// SEI, verifies their signatures and records, per new heartbeat, latency = receive time − the wall clock at
/// which the injector passed its carrier frame. The receive time is when the demuxer hands over the packet: a
/// player shows the frame later, by its decode and jitter buffer.
/// </summary>
/// <remarks>
/// <para>Opening a live input, FFmpeg probes the streams for up to 5 s and hands the packets it read meanwhile
/// over in one burst: their heartbeats would look up to 5 s late. So on a live input, heartbeats are not
/// measured until a read has had to wait for the network (the backlog is drained); they are counted as
/// <c>backlog_heartbeats</c>. Files are not live and are measured from the start.</para>
/// <para>Counters: <c>heartbeats</c>, <c>backlog_heartbeats</c>, <c>cues</c> (other verified messages),
/// <c>repeats</c> (carousel copies), <c>rejected_&lt;reason&gt;</c> per <see cref="RejectionReason"/>, <c>malformed_sei</c>,
/// <c>reconnects</c> (reopenings of a network input that ended or failed).</para>
/// <para>A network input that ends or fails once it has been opened is reopened, after
/// <see cref="SeiProbeOptions.ReconnectDelay"/> doubling up to <see cref="SeiProbeOptions.MaxReconnectDelay"/> (back to
/// the first delay once a connection delivered a new verified message), until cancelled: a viewer keeps watching through a publisher's
/// restart. The first opening is not retried, so a wrong URL fails at once; neither is an input without H.264 or H.265.</para>
/// </remarks>
public sealed class SeiInstrument
{
    /// <summary>A read at least this long waited for the network: the demuxer's probe backlog is drained.</summary>
    private static readonly TimeSpan BacklogReadTime = TimeSpan.FromMilliseconds(2);

    private readonly SeiProbeOptions _options;
    private readonly MessageVerifier _verifier;
    private readonly IClockSource _clock;
    private readonly LatencyRecorder _recorder;
    private readonly TextWriter _log;
    private bool _caughtUp;
    private bool _sessionAccepted;
    private long _videoPackets;
    private long _catEveningPayloads;
    private long _acceptedTotal;
    private long _keyRejections;
    private RejectionReason _keyRejection;
    private int _keyRejectionKeyId;
    private bool _keyWarned;

    /// <summary>Messages refused for their key, with none verified, before the instrument says the key looks wrong.</summary>
    public const int KeyWarningRejections = 3;

    /// <summary>Creates the instrument; heartbeats are verified against <paramref name="keys"/>.</summary>
    public SeiInstrument(SeiProbeOptions options, KeyRing keys, IClockSource clock, LatencyRecorder recorder, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(log);
        _options = options;
        // Latency measurement wants every heartbeat it can verify, however late: age is what it measures.
        // The probe measures whatever clocks the injector and this host have: neither age nor skew is a reason to refuse.
        // Files and start-up backlogs are read faster than real time: no per-second verification budget.
        _verifier = new MessageVerifier(keys, new VerifierOptions
        {
            MaxAge = TimeSpan.FromDays(1), MaxClockSkew = TimeSpan.FromDays(1), MaxVerificationsPerSecond = 1_000_000, VerificationBurst = 100_000_000,
        });
        _clock = clock;
        _recorder = recorder;
        _log = log;
        recorder.SetProperty("input", options.Input);
    }

    /// <summary>Raised for every new verified heartbeat, on the reading thread.</summary>
    public event Action<HeartbeatObservation>? HeartbeatRead;

    /// <summary>
    /// Why no heartbeat could be measured, in words, once the run is over; null when messages verified. In order: every
    /// message was refused for its key ("is --public-key the injector's key? key id N"); no video packet arrived at
    /// all (the stream is not there); video arrived without any CatEvening message.
    /// </summary>
    public string? Diagnosis
    {
        get
        {
            if (Interlocked.Read(ref _acceptedTotal) > 0) return null;
            if (Interlocked.Read(ref _keyRejections) > 0) return KeyProblem();
            var packets = Interlocked.Read(ref _videoPackets);
            if (packets == 0)
                return $"no video packet arrived from {_options.Input}: is the stream published there (stream names are case-sensitive), and is it H.264 or H.265?";
            if (Interlocked.Read(ref _catEveningPayloads) == 0)
                return $"{packets} video packets from {_options.Input} and not one CatEvening message: is sei-inject (with heartbeats on) on the way to this URL, and does every hop keep SEI?";
            return null;
        }
    }

    private string KeyProblem() => _keyRejection == RejectionReason.UnknownKeyId
        ? $"every message is signed with key id {_keyRejectionKeyId}, which --public-key does not hold ({Interlocked.Read(ref _keyRejections)} refused as unknown_key_id): is --public-key the injector's key? key id {_keyRejectionKeyId}"
        : $"every message failed signature verification ({Interlocked.Read(ref _keyRejections)} refused as bad_signature under key id {_keyRejectionKeyId}): is --public-key the injector's key? key id {_keyRejectionKeyId}";

    /// <summary>Reads until <paramref name="cancellationToken"/> fires or, for a file, the file ends.</summary>
    /// <exception cref="FFmpegException">The input cannot be opened, or a file cannot be read (timeouts included).</exception>
    /// <exception cref="InvalidOperationException">The input has no H.264 or H.265 video stream.</exception>
    /// <exception cref="KeyMismatchException"><see cref="SeiProbeOptions.MaxKeyRejections"/> messages were refused for
    /// their key and none verified.</exception>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken cancellationToken)
    {
        var network = IsNetworkUrl(_options.Input);
        var opened = false;
        var delay = _options.ReconnectDelay;
        while (true)
        {
            try
            {
                if (ReadSession(cancellationToken, ref opened)) delay = _options.ReconnectDelay;
                if (!network || cancellationToken.IsCancellationRequested) return;
                _log.WriteLine($"sei: {_options.Input} ended; reconnecting in {delay.TotalMilliseconds:0} ms");
            }
            catch (FFmpegException) when (cancellationToken.IsCancellationRequested)
            {
                return; // cancelled (duration, count, Ctrl+C) while opening or reading: the run's end, not an error
            }
            catch (FFmpegException e) when (network && opened)
            {
                _log.WriteLine($"sei: {e.Message}; reconnecting in {delay.TotalMilliseconds:0} ms");
            }
            if (cancellationToken.WaitHandle.WaitOne(delay)) return;
            _recorder.Increment("reconnects");
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>rtmp(s), srt, http(s) (HTTP-FLV, HLS), udp, tcp…: anything with a scheme FFmpeg reads from the network.</summary>
    private static bool IsNetworkUrl(string input)
    {
        var colon = input.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0) return false;
        var scheme = input[..colon].ToLowerInvariant();
        return scheme is "rtmp" or "rtmps" or "rtmpt" or "rtmpe" or "rtmpte" or "rtmpts" or "srt" or "http" or "https" or "udp" or "tcp" or "rtp" or "rist" or "tls";
    }

    /// <summary>
    /// Opens the input once and reads it until it ends or the token fires; true when it delivered a message not seen
    /// before (an ended HLS playlist read again yields only repeats, and keeps backing off).
    /// </summary>
    private bool ReadSession(CancellationToken cancellationToken, ref bool opened)
    {
        // The token also cancels the opening itself: --duration ends a run still waiting for a publisher.
        using var input = MediaInput.Open(_options.Input, _options.InputFormat, _options.IoTimeout, cancellation: cancellationToken);
        var video = input.Streams.FirstOrDefault(s => s.MediaType == MediaType.Video && s.KnownCodec is KnownCodec.H264 or KnownCodec.Hevc)
            ?? throw new InvalidOperationException($"{_options.Input} has no H.264 or H.265 video stream ({string.Join(", ", input.Streams)})");
        opened = true;
        var codec = video.KnownCodec == KnownCodec.H264 ? VideoCodec.H264 : VideoCodec.H265;
        if (CodecConfiguration.TryParse(codec, video.Extradata, out var configuration, out var error, out var offset) != ReadStatus.Success)
            throw new InvalidOperationException($"{_options.Input}: codec configuration is malformed: {BitstreamException.Describe(error, offset)}");
        var framing = configuration!.Framing;
        _recorder.SetProperty("video", $"{codec} {framing}");
        _log.WriteLine($"sei: reading {_options.Input} ({input.FormatName}, {codec}, {framing})");
        using var packet = new Packet();
        var scratch = Array.Empty<byte>();
        var pace = Stopwatch.StartNew();
        long? firstDts = null;
        _caughtUp = _options.RealTime || File.Exists(_options.Input);
        _sessionAccepted = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            ReadResult result;
            var before = Stopwatch.GetTimestamp();
            try
            {
                result = input.Read(packet);
                // Draining the probe buffer takes microseconds per packet; a read that waited was served by the network.
                if (!_caughtUp && Stopwatch.GetElapsedTime(before) >= BacklogReadTime) _caughtUp = true;
            }
            catch (FFmpegException) when (cancellationToken.IsCancellationRequested)
            {
                return _sessionAccepted;
            }
            if (result == ReadResult.EndOfStream) return _sessionAccepted;
            if (result == ReadResult.TryAgain)
            {
                Thread.Sleep(5);
                continue;
            }
            try
            {
                if (packet.StreamIndex != video.Index) continue;
                Interlocked.Increment(ref _videoPackets);
                if (_options.RealTime) Pace(packet, video.TimeBase, pace, ref firstDts, cancellationToken);
                var received = _clock.Now();
                var data = packet.Data;
                if (scratch.Length < data.Length) scratch = new byte[Math.Max(data.Length, scratch.Length * 2)];
                ReadHeartbeats(data, codec, framing, scratch, received);
            }
            finally
            {
                packet.Unref();
            }
        }
        return _sessionAccepted;
    }

    private void ReadHeartbeats(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing, byte[] scratch, ClockReading received)
    {
        var reader = new UserDataUnregisteredReader(accessUnit, codec, framing, scratch);
        // The per-access-unit rules of CueReader (docs/sei-format.md, "Bounded reader work").
        var scope = default(AccessUnitScope);
        while (true)
        {
            var status = reader.Read(out var payload);
            if (status == ReadStatus.EndOfData) return;
            if (status == ReadStatus.Malformed)
            {
                _recorder.Increment("malformed_sei");
                // Broken NAL framing returns Malformed forever: the rest of the access unit cannot be found.
                if (!reader.CanContinue) return;
                continue;
            }
            if (status != ReadStatus.Success) return;
            var verdict = _verifier.Verify(payload.Payload, received.UnixMicroseconds, ref scope);
            if (verdict.Status != VerificationStatus.NotCatEvening) Interlocked.Increment(ref _catEveningPayloads);
            if (verdict.Status == VerificationStatus.Accepted)
            {
                _sessionAccepted = true;
                Interlocked.Increment(ref _acceptedTotal);
            }
            switch (verdict.Status)
            {
                case VerificationStatus.Accepted:
                    // Format version 2 carries everything due on a frame in one payload: a heartbeat and cues side by side.
                    foreach (var message in verdict.NewMessages) Count(message, received);
                    if (verdict.Messages.Count > verdict.NewMessages.Count) _recorder.Increment("repeats", verdict.Messages.Count - verdict.NewMessages.Count);
                    break;
                case VerificationStatus.Repeat:
                    _recorder.Increment("repeats");
                    break;
                case VerificationStatus.Rejected:
                    _recorder.Increment("rejected_" + ToSnakeCase(verdict.Reason.ToString()));
                    if (verdict.Reason is RejectionReason.BadSignature or RejectionReason.UnknownKeyId) NoteKeyRejection(verdict);
                    break;
                case VerificationStatus.NotCatEvening:
                    break;
            }
            // Nothing later in this access unit can be accepted: stop walking it, as CueReader does.
            if (scope.IsClosed) return;
        }
    }

    private void Count(CatEveningMessage message, ClockReading received)
    {
        switch (message)
        {
            case HeartbeatMessage when !_caughtUp:
                _recorder.Increment("backlog_heartbeats");
                break;
            case HeartbeatMessage heartbeat:
                var latency = (received.UnixMicroseconds - heartbeat.InjectionWallClockMicros) / 1000.0;
                var uncertainty = (received.UncertaintyMicroseconds + heartbeat.ClockUncertaintyMicros) / 1000.0;
                _recorder.Increment("heartbeats");
                _recorder.Add(new LatencySample(received.UnixMicroseconds, latency, uncertainty));
                HeartbeatRead?.Invoke(new HeartbeatObservation(heartbeat, received, latency, uncertainty));
                break;
            default:
                _recorder.Increment("cues");
                break;
        }
    }

    /// <summary>
    /// Counts a message refused for its key; says so once, early, while nothing has verified, and gives up after
    /// <see cref="SeiProbeOptions.MaxKeyRejections"/>.
    /// </summary>
    private void NoteKeyRejection(VerificationResult verdict)
    {
        _keyRejection = verdict.Reason;
        _keyRejectionKeyId = verdict.KeyId;
        var n = Interlocked.Increment(ref _keyRejections);
        if (n >= KeyWarningRejections && !_keyWarned && Interlocked.Read(ref _acceptedTotal) == 0)
        {
            _keyWarned = true;
            _log.WriteLine($"sei: {KeyProblem()}");
        }
        if (n >= _options.MaxKeyRejections && Interlocked.Read(ref _acceptedTotal) == 0)
            throw new KeyMismatchException(KeyProblem(), n, _keyRejectionKeyId);
    }

    /// <summary>Holds a file's packet back until its decode time, counted from the first packet, has come.</summary>
    private static void Pace(Packet packet, Rational timeBase, Stopwatch since, ref long? firstDts, CancellationToken cancellationToken)
    {
        var dts = packet.Dts != Packet.NoTimestamp ? packet.Dts : packet.Pts;
        if (dts == Packet.NoTimestamp) return;
        firstDts ??= dts;
        var due = TimeSpan.FromMicroseconds(timeBase.ToMicroseconds(dts - firstDts.Value));
        var wait = due - since.Elapsed;
        if (wait > TimeSpan.Zero) cancellationToken.WaitHandle.WaitOne(wait);
    }

    private static string ToSnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
