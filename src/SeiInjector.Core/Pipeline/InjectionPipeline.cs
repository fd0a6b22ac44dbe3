using System.Diagnostics;
using System.Runtime.ExceptionServices;
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
/// <para>Timestamps: the video's are placed on the source's <see cref="MediaTimeline"/>, every other stream's go through a
/// <see cref="TimestampTrack"/> of the same <see cref="TimestampSession"/> (one per opening of the input). Timestamps
/// that increase go out exactly as they came (the container's raw values: FFmpeg's overflow correction is off, wraps are
/// unwrapped here, and the muxers keep the same low bits); a discontinuity is bridged so the output stays valid, logged
/// once and counted; a packet the muxer still refuses is logged, counted and skipped. A timestamp never ends the run. A
/// raw Annex B input is stamped by <see cref="RawVideoTimestamps"/>. In MPEG-TS input (where a PES may come without PTS)
/// each video packet's picture order count is read (<see cref="PictureOrder"/>), so a missing PTS keeps the display
/// order the encoder meant. Video packets without any timestamp at the start of a session are held (with whatever other
/// streams bring meanwhile, at most <see cref="MaxLeadingFrames"/> video packets or <see cref="MaxLeadingWait"/>) until
/// the first timestamp arrives (and, when they end an earlier GOP, the H.265 leading pictures decoded after it, shown
/// before it), then stamped backwards from it (<see cref="MediaTimeline.StampLeading"/>), as the encoder stamped them;
/// past those bounds, or when the input ends first, they go out stamped from the earliest start FFmpeg found, before
/// program time 0.</para>
/// <para>
/// With <see cref="PipelineOptions.ReconnectLinks"/> each side recovers on its own (with
/// <see cref="PipelineOptions.ReconnectOutput"/> the output alone). An output drop (the ingest restarts,
/// a write fails or stalls) closes only the output: the input is still read, and each video frame still passes the SEI
/// source (<see cref="IFrameSeiSource.Skipped"/>) so the cue timeline runs on. The packets read since the last video
/// keyframe wait in a <see cref="GopCache"/> (those it evicts, and those before the first keyframe, are dropped and
/// counted); the output is opened again in the background after a back-off and starts with what the cache holds,
/// keyframe first, then the live packets, so a player gets a picture at once instead of up to one GOP later. The cached
/// packets go out without our SEI: their frames passed the cue book when they were read, and signing them later
/// would send again what ended meanwhile; what is still active rides the next frames (pending cues) and keyframes
/// (the carousel). With nothing cached (the output came back before a keyframe was read) it resumes at the next
/// keyframe. An input drop (the publisher goes, the input ends or fails) reopens only the input and keeps the output
/// open when the new input's streams match the output's by kind and codec parameters, in whatever order they are
/// announced (each packet goes to its matched output stream): the new input is a new timestamp session that follows
/// what was already written (<see cref="TimestampSession.Follow"/>), and program time runs on across the gap. A file
/// output is never opened again (that would truncate it).</para>
/// </remarks>
public sealed class InjectionPipeline
{
    /// <summary>First wait after a drop.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between attempts to open the input again (a publisher that is gone: about one try a second).</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest wait between attempts to open the output again. The output resumes at most this long after the ingest is
    /// back, plus connect and handshake (the GOP cache removes the wait for a keyframe): 500 ms keeps that well under
    /// 2 s on a loaded machine, where 1 s with a connect of up to a second did not. A refused attempt costs one TCP
    /// connect, two a second.
    /// </summary>
    public static readonly TimeSpan MaxOutputBackoff = TimeSpan.FromMilliseconds(500);

    /// <summary>Most packets of other streams held while waiting for the video stream to appear.</summary>
    public const int MaxHeldPackets = 10_000;

    /// <summary>Most video packets without timestamps held at the start of a session, waiting for the first timestamp.</summary>
    public const int MaxLeadingFrames = 120;

    /// <summary>Longest time video packets without timestamps are held at the start of a session (a live input without
    /// any timestamps pays this delay once).</summary>
    public static readonly TimeSpan MaxLeadingWait = TimeSpan.FromSeconds(2);

    private readonly PipelineOptions _options;
    private readonly IFrameSeiSource _seiSource;
    private readonly ILinkObserver? _links;

    /// <summary>Creates a pipeline; nothing is opened until <see cref="Run"/>.</summary>
    /// <param name="options">What to read and write, and whether to reconnect.</param>
    /// <param name="seiSource">Decides what rides on each video packet.</param>
    /// <param name="links">Told when a side goes up or down; none when null.</param>
    public InjectionPipeline(PipelineOptions options, IFrameSeiSource seiSource, ILinkObserver? links = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(seiSource);
        _options = options;
        _seiSource = seiSource;
        _links = links;
    }

    /// <summary>Raised each time the output header is written, i.e. when the pipeline goes live (again).</summary>
    public event Action<VideoStreamDescription>? Started;

    /// <summary>
    /// Runs until the input ends or <paramref name="cancellation"/> fires; on cancellation the output is still closed
    /// properly (trailer written).
    /// </summary>
    /// <exception cref="FFmpegException">The input or output fails or stalls longer than the I/O timeout (without
    /// <see cref="PipelineOptions.ReconnectLinks"/>; the output without <see cref="PipelineOptions.ReconnectOutput"/> either), or fails in a way no retry mends (<see cref="FFmpegException.IsPermanent"/>).</exception>
    /// <exception cref="InjectionException">The input has no H.264/H.265 video (none appeared within
    /// <see cref="PipelineOptions.VideoStreamWait"/>), or its codec configuration is malformed.</exception>
    public PipelineReport Run(CancellationToken cancellation = default)
    {
        // An output no muxer matches is refused before the input is opened (a live input would be connected for nothing).
        MediaOutput.CheckFormat(_options.OutputUrl, _options.OutputFormat);
        using var run = new Session(this, cancellation);
        return run.Execute();
    }

    /// <summary>The state of one <see cref="Run"/>: the two links, what is held, the counters.</summary>
    private sealed class Session(InjectionPipeline owner, CancellationToken stop) : IDisposable
    {
        private readonly PipelineOptions _options = owner._options;
        private readonly IFrameSeiSource _seiSource = owner._seiSource;
        private readonly Queue<Packet> _held = new();
        private readonly HashSet<int> _lateStreams = [];
        private readonly MediaTimeline _timeline = owner._seiSource.Timeline ?? new MediaTimeline();
        private readonly GopCache _cache = new();
        // Audio streams of the current input whose sample rate the probe missed, as LateStreamProbe completed them (the
        // demuxer's own parameters may be reset while it reads on): every output header is written from these.
        private readonly Dictionary<int, CodecParameters> _completed = [];

        private MediaInput? _input;
        private VideoStreamDescription _video = null!;
        private TimeSpan _inputBackoff = FirstBackoff;
        private int _inputSessions;

        private MediaOutput? _output;
        private MediaOutput? _opening;
        private Task? _openingTask;
        private int _openingFor; // the input session whose streams _opening was made from
        private readonly IdleOutputWatch _idleOutput = new();
        // The output stream each stream of the current input is written to (-1: none), by input index. The identity when
        // the output was opened from this input; after the input was opened again, matched by kind and codec parameters
        // (MatchStreams): a server may announce the same streams in another order. Indexed per packet, never grown then.
        private int[] _outputOf = [];
        private long _nextOutputAttempt;
        private TimeSpan _outputBackoff = FirstBackoff;
        private bool _awaitKeyframe;
        private long _floorMicros = long.MinValue;

        // Timestamps of the current input session; the output's last DTS per stream (output time base).
        private TimestampSession? _stamps;
        private TimestampTrack?[] _tracks = [];
        private RawVideoTimestamps? _rawStamps;
        private PictureOrder? _order;

        // Packets held at the start of a session while its video has no timestamp yet (see MaxLeadingFrames), in read
        // order, with the video packets' picture order counts.
        private readonly List<(Packet Packet, PictureOrderCount? Order)> _leading = [];
        private bool _watchLeading;
        private int _leadingFrames;
        // Once the first video timestamp came after frames of an earlier count epoch: where that frame is in `_leading`
        // (-1 before), the count of its epoch's IRAP, and the lowest count among the IRAP's leading pictures held after it.
        private int _firstAt = -1;
        private long _irapOrder;
        private PictureOrderCount? _earliestLater;
        private long _leadingSince;
        private long[] _lastWritten = [];
        private long _lastEndMicros = long.MinValue;
        private long _lastWriteTimestamp;
        private long _discontinuitiesBefore;

        private long _packets, _frames, _carriers, _seiBytes, _dropped, _skipped;
        private TunedSlice? _tunedSlice;
        private long _tuneAt = long.MaxValue; // Stopwatch ticks: the next window of the slice tuning, checked per packet written
        private long _frameIndex; // video packets that passed the SEI source, written or not

        private bool ReconnectInput => _options.ReconnectLinks;
        // A file output is never opened again: that would truncate what was written (a failed write ends the run instead).
        private bool ReconnectOutput => (_options.ReconnectLinks || _options.ReconnectOutput) && !_fileOutput;
        private readonly bool _fileOutput = MediaOutput.IsFileUrl(owner._options.OutputUrl);

        public PipelineReport Execute()
        {
            TimeSpan? restore = null;
            if (_options.SchedulerSlice is { } slice)
            {
                if (SchedulerSlice.TryApply(slice, out var previous, out var why))
                {
                    restore = previous;
                    _options.Log?.Invoke($"pipeline thread: scheduler slice {slice.TotalMilliseconds:0.###} ms (was {previous.TotalMilliseconds:0.###} ms)");
                    _options.Monitor?.SliceChanged(slice);
                }
                else _options.Log?.Invoke($"pipeline thread: the scheduler slice stays as it was ({why})");
            }
            else if (_options.SchedulerSliceTuning is not null) _tuneAt = 0; // tuning starts with the first packet written
            try
            {
                return ExecuteCore();
            }
            finally
            {
                _tunedSlice?.Restore();
                // The thread is the caller's (a thread-pool worker, for a library user): it gets its slice back.
                if (restore is { } p)
                    SchedulerSlice.TryApply(TimeSpan.FromTicks(Math.Clamp(p.Ticks, SchedulerSlice.Minimum.Ticks, SchedulerSlice.Maximum.Ticks)), out _, out _);
            }
        }

        private PipelineReport ExecuteCore()
        {
            if (!OpenInput()) return Report(cancelled: true);
            OpenOutputNow();

            using var packet = new Packet();
            using var spliced = new Packet();
            var cancelled = false;
            while (true)
            {
                if (stop.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }
                if (_input is null && !OpenInput())
                {
                    cancelled = true;
                    break;
                }
                PollOutput();
                if (_output is not null && !_cache.IsEmpty) SendCached(packet, spliced);
                ReadResult result;
                if (_held.TryDequeue(out var held))
                {
                    held.MoveTo(packet);
                    held.Dispose();
                    result = ReadResult.Packet;
                }
                else
                {
                    try
                    {
                        result = _input!.Read(packet);
                    }
                    catch (FFmpegException e) when (e.WasInterrupted && stop.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }
                    catch (FFmpegException e) when (ReconnectInput && !e.IsPermanent)
                    {
                        DropInput(e.Message);
                        continue;
                    }
                }
                if (result == ReadResult.EndOfStream)
                {
                    ReleaseLeading(spliced, first: null, firstOrder: null);
                    if (!ReconnectInput) break;
                    DropInput("the input ended (publisher gone)");
                    continue;
                }
                if (result == ReadResult.TryAgain)
                {
                    Thread.Sleep(1);
                    continue;
                }
                Pass(packet, spliced);
                packet.Unref();
            }
            Finish();
            return Report(cancelled);
        }

        private PipelineReport Report(bool cancelled) =>
            new(_packets, _frames, _carriers, _seiBytes, cancelled, _dropped, _skipped, _discontinuitiesBefore + (_stamps?.Discontinuities ?? 0));

        // One packet read: written (with the SEI spliced into a video packet); held in the GOP cache while the output is
        // down; or dropped and counted before the keyframe the output resumes at, or for a stream the output does not have.
        private void Pass(Packet packet, Packet spliced)
        {
            var isVideo = packet.StreamIndex == _video.StreamIndex;
            // Read once per access unit, in decode order, as the count's state requires.
            PictureOrderCount? order = isVideo && _order is not null && _order.TryRead(packet.Data, out var count) ? count : null;
            if (_watchLeading && HoldLeading(packet, spliced, isVideo, order)) return;
            PassOn(packet, spliced, order, backfilled: false);
        }

        // At the start of a session: a video packet without timestamps, and everything after it, waits for the first video
        // timestamp; when the frames held end an earlier count epoch, also for the leading pictures decoded after that
        // frame (see LooksAhead). True when the packet was held.
        private bool HoldLeading(Packet packet, Packet spliced, bool isVideo, PictureOrderCount? order)
        {
            var stamped = packet.Pts != Packet.NoTimestamp || packet.Dts != Packet.NoTimestamp;
            if (_leading.Count == 0 && (!isVideo || stamped))
            {
                // Nothing held: other streams pass; a first video packet with a timestamp ends the watch.
                if (isVideo) _watchLeading = false;
                return false;
            }
            if (isVideo && _firstAt >= 0)
            {
                // H.265 7.4.2.2: an IRAP's leading pictures (shown before it) precede its trailing pictures in decode order, so
                // the first picture that is not one ends them.
                if (order is not { Reset: false } o || o.Value >= _irapOrder)
                {
                    ReleaseLeading(spliced, first: null, firstOrder: null);
                    return false;
                }
                if (_earliestLater is not { } e || o.Value < e.Value) _earliestLater = o;
            }
            else if (isVideo && stamped)
            {
                if (!LooksAhead(order))
                {
                    ReleaseLeading(spliced, packet, order);
                    return false;
                }
                _firstAt = _leading.Count;
            }
            if (_leading.Count == 0) _leadingSince = Stopwatch.GetTimestamp();
            var held = new Packet();
            packet.MoveTo(held);
            _leading.Add((held, order));
            if (isVideo) _leadingFrames++;
            if (_leadingFrames > MaxLeadingFrames || _leading.Count >= MaxHeldPackets || Stopwatch.GetElapsedTime(_leadingSince) > MaxLeadingWait)
            {
                if (_firstAt < 0)
                    _options.Log?.Invoke($"{_leadingFrames} video packets without timestamps at the start of the input: stamped from the earliest start, before program time 0");
                ReleaseLeading(spliced, first: null, firstOrder: null);
            }
            return true;
        }

        // Whether the first video frame with a timestamp (count `firstOrder`) comes after frames of an earlier count epoch
        // (the held frames before the last count reset, which may be this frame): their PTS end one spacing before the
        // new epoch's first picture in display order, which may be a leading picture of its IRAP (H.265 RADL or RASL,
        // after the IRAP in decode order and before it in display order) still to come. Then this frame and the pictures
        // after it are held while they are such leading pictures.
        private bool LooksAhead(PictureOrderCount? firstOrder)
        {
            if (firstOrder is not { } first) return false;
            if (first.Reset)
            {
                _irapOrder = first.Value;
                return true;
            }
            var firstVideo = true;
            var found = false;
            foreach (var (p, o) in _leading)
            {
                if (p.StreamIndex != _video.StreamIndex) continue;
                if (o is { Reset: true } reset && !firstVideo)
                {
                    _irapOrder = reset.Value;
                    found = true;
                }
                firstVideo = false;
            }
            // A trailing picture of that IRAP comes after all of the IRAP's leading pictures: they are held already.
            return found && first.Value < _irapOrder;
        }

        // Passes what was held at the start of the session: the video before the first video packet with a timestamp
        // (`first`, not yet passed, or the one held at `_firstAt`) stamped backwards from it, or, without one, as it came
        // (stamped from the earliest start); from the first on, as it came. Ends the watch.
        private void ReleaseLeading(Packet spliced, Packet? first, PictureOrderCount? firstOrder)
        {
            _watchLeading = false;
            if (_leading.Count == 0) return;
            if (_firstAt >= 0) (first, firstOrder) = _leading[_firstAt];
            var before = _firstAt >= 0 ? _firstAt : _leading.Count;
            var frames = 0;
            for (var i = 0; i < before; i++)
                if (_leading[i].Packet.StreamIndex == _video.StreamIndex) frames++;
            var orders = new PictureOrderCount?[frames];
            var pts = new long[frames];
            var dts = new long[frames];
            var k = 0;
            for (var i = 0; i < before; i++)
                if (_leading[i].Packet.StreamIndex == _video.StreamIndex) orders[k++] = _leading[i].Order;
            if (first is not null)
            {
                var firstDts = _timeline.StampLeading(orders, first.Pts, first.Dts, firstOrder, pts, dts, _earliestLater);
                // A PES with PTS only (no DTS, or the PTS copied into it): its DTS is the one the leading frames were
                // stamped back from.
                first.Dts = firstDts;
            }
            k = 0;
            try
            {
                for (var i = 0; i < _leading.Count; i++)
                {
                    var (p, o) = _leading[i];
                    var backfilled = i < before && p.StreamIndex == _video.StreamIndex && first is not null;
                    if (backfilled)
                    {
                        p.Pts = pts[k];
                        p.Dts = dts[k];
                        k++;
                    }
                    PassOn(p, spliced, o, backfilled);
                }
            }
            finally
            {
                DisposeLeading();
            }
        }

        private void DisposeLeading()
        {
            foreach (var (p, _) in _leading) p.Dispose();
            _leading.Clear();
            _leadingFrames = 0;
            _firstAt = -1;
            _earliestLater = null;
        }

        private void PassOn(Packet packet, Packet spliced, PictureOrderCount? order, bool backfilled)
        {
            var readAt = Stopwatch.GetTimestamp();
            var streamIndex = packet.StreamIndex;
            var isVideo = streamIndex == _video.StreamIndex;
            // Every packet read is stamped, written or not: the tracks and the timeline see the input as it is.
            var frame = isVideo ? PlaceVideo(packet, order, backfilled) : default;
            if (!isVideo) StampOther(packet, streamIndex);
            if ((uint)streamIndex >= (uint)_outputOf.Length || _outputOf[streamIndex] < 0)
            {
                // A stream announced after the output header (an MPEG-TS PMT update, an FLV audio tag first seen late),
                // or one of a reopened input that matches no output stream, has no output stream: its packets are
                // counted, and the operator told once.
                if (streamIndex >= _outputOf.Length) NoteLateStream(streamIndex);
                Drop(isVideo, frame);
                return;
            }
            if (_output is null)
            {
                Hold(packet, isVideo, frame);
                return;
            }
            Forward(packet, spliced, isVideo, frame, readAt, cached: false);
        }

        // The output is down: the frame passes the SEI source now, as a skipped one (the cue book decides what ends or
        // expires meanwhile), and the packet waits in the GOP cache; what the cache does not keep is dropped.
        private void Hold(Packet packet, bool isVideo, in VideoFrame frame)
        {
            if (isVideo)
            {
                _seiSource.Skipped(frame);
                _frameIndex++;
            }
            CountDropped(_cache.Offer(packet, isVideo).Dropped);
        }

        // The output is back: what the GOP cache holds goes out first, oldest (the keyframe) first, as it was read. If the
        // output drops again on the way, the rest is dropped: it no longer starts at a keyframe.
        private void SendCached(Packet packet, Packet spliced)
        {
            while (_output is not null && _cache.TryTake(packet))
            {
                Forward(packet, spliced, packet.StreamIndex == _video.StreamIndex, default, readAt: 0, cached: true);
                packet.Unref();
            }
            CountDropped(_cache.Clear());
        }

        // Writes a packet read now, or one from the GOP cache (whose frame already passed the SEI source, so nothing is
        // spliced into it and its frame index is already counted).
        private void Forward(Packet packet, Packet spliced, bool isVideo, in VideoFrame frame, long readAt, bool cached)
        {
            var streamIndex = packet.StreamIndex;
            if (_awaitKeyframe && !(isVideo && packet.IsKeyframe))
            {
                DropForwarded(isVideo, frame, cached);
                return;
            }
            var decodeMicros = DecodeMicros(packet);
            if (_awaitKeyframe)
            {
                // Muxers refuse a stream that starts before the first packet written (FLV: "not in the proper order"):
                // from here on, packets of any stream older than this keyframe are dropped.
                _awaitKeyframe = false;
                _floorMicros = decodeMicros ?? long.MinValue;
            }
            else if (decodeMicros < _floorMicros)
            {
                DropForwarded(isVideo, frame, cached);
                return;
            }

            var toWrite = packet;
            ReadOnlyMemory<byte> sei = default;
            var carried = false;
            if (isVideo && !cached)
            {
                // The cue book states the targets on the carrier's timestamps as the muxer writes them (a copy of a
                // small struct, no allocation).
                sei = _seiSource.SeiFor(frame with { WrittenTimeBase = OutputTimeBase(streamIndex) });
                if (!sei.IsEmpty)
                {
                    carried = TrySplice(packet, sei.Span, spliced, _video, out var splice);
                    if (carried) toWrite = spliced;
                    else _seiSource.NotCarried(frame, splice.ToString());
                }
            }
            // The spliced copy is dropped here, written or not, so the read loop does not call into FFmpeg for an empty one.
            try
            {
                var size = toWrite.Data.Length;
                var handedAt = Stopwatch.GetTimestamp();
                bool written;
                try
                {
                    written = WritePacket(toWrite, streamIndex, decodeMicros);
                }
                catch (FFmpegException e) when (ReconnectOutput && !e.IsPermanent && e.Direction == MediaDirection.Output && !stop.IsCancellationRequested)
                {
                    if (carried) _seiSource.NotCarried(frame, "the output dropped");
                    DropOutput(e.Message);
                    if (cached) CountDropped(1);
                    else Drop(isVideo, frame, passedSource: true);
                    return;
                }
                if (!written)
                {
                    // The muxer refused it even with repaired timestamps (logged): skipped, counted, and the run goes on.
                    _skipped++;
                    if (carried) _seiSource.NotCarried(frame, "the muxer refused the packet");
                    if (isVideo && !cached) _frameIndex++;
                    return;
                }
                // WritePacket read the clock as the write returned (_lastWriteTimestamp): the monitor takes that reading.
                if (cached) _options.Monitor?.WrittenLate(handedAt, _lastWriteTimestamp, size);
                else _options.Monitor?.Written(readAt, handedAt, _lastWriteTimestamp, size);
                if (isVideo)
                {
                    if (carried)
                    {
                        _seiSource.Delivered(frame, sei.Span);
                        _carriers++;
                        _seiBytes += sei.Length;
                    }
                    _frames++;
                    if (!cached) _frameIndex++;
                }
                _packets++;
                if (_lastWriteTimestamp >= _tuneAt) _tuneAt = TuneSlice();
            }
            finally
            {
                if (carried) spliced.Unref();
            }
        }

        // The slice tuning's next window (see PipelineOptions.SchedulerSliceTuning), started at the first packet written.
        private long TuneSlice()
        {
            if (_tunedSlice is null)
            {
                _tunedSlice = TunedSlice.TryStart(_options.SchedulerSliceTuning!, _options.Log, _options.Monitor is { } monitor ? monitor.SliceChanged : null);
                if (_tunedSlice is null) return long.MaxValue;
            }
            return _tunedSlice.Check(_lastWriteTimestamp, _packets);
        }

        private void DropForwarded(bool isVideo, in VideoFrame frame, bool cached)
        {
            if (cached) CountDropped(1);
            else Drop(isVideo, frame);
        }

        private void CountDropped(int count)
        {
            if (count == 0) return;
            _dropped += count;
            _options.Monitor?.Dropped(count);
        }

        // The frame still passes the SEI source, so program time runs on and cues due meanwhile are kept or expired.
        private void Drop(bool isVideo, in VideoFrame frame, bool passedSource = false)
        {
            if (isVideo)
            {
                if (!passedSource) _seiSource.Skipped(frame);
                _frameIndex++;
            }
            CountDropped(1);
        }

        // The video packet placed on the program timeline: its timestamps repaired (or made, for raw Annex B), and the
        // frame the SEI source sees.
        // `backfilled`: the packet came without timestamps and was stamped backwards from the first one (counted as interpolated).
        private VideoFrame PlaceVideo(Packet packet, PictureOrderCount? order, bool backfilled)
        {
            var (rawPts, rawDts) = _rawStamps is null ? (packet.Pts, packet.Dts) : _rawStamps.Next(packet.Data);
            var placed = _timeline.Advance(_video.TimeBase, rawPts, rawDts, packet.Duration, order, backfilled, packet.IsKeyframe);
            packet.Pts = placed.Pts;
            packet.Dts = placed.Dts;
            var repair = backfilled ? placed.Repair | TimestampRepair.Interpolated : placed.Repair;
            if (repair != TimestampRepair.None) Repaired(packet.StreamIndex, repair, rawPts, rawDts, placed.Dts, _video.TimeBase);
            return new VideoFrame(placed.Pts, placed.Dts, packet.IsKeyframe, _frameIndex, _video.TimeBase)
            {
                ProgramTime = placed.ProgramTime,
                ProgramDecodeTime = placed.ProgramDecodeTime,
            };
        }

        private void StampOther(Packet packet, int streamIndex)
        {
            if (TrackOf(streamIndex) is not { } track) return;
            var (rawPts, rawDts) = (packet.Pts, packet.Dts);
            var step = track.Next(rawPts, rawDts, packet.Duration);
            packet.Pts = step.Pts;
            packet.Dts = step.Dts;
            if (step.Repair != TimestampRepair.None) Repaired(streamIndex, step.Repair, rawPts, rawDts, step.Dts, track.TimeBase);
        }

        // The track of a non-video stream of this session; one is added for a stream announced after the session began.
        private TimestampTrack? TrackOf(int streamIndex)
        {
            if (streamIndex < _tracks.Length) return _tracks[streamIndex];
            var streams = _input!.Streams;
            if (streamIndex >= streams.Count) return null;
            var grown = new TimestampTrack?[streams.Count];
            _tracks.CopyTo(grown, 0);
            for (var i = _tracks.Length; i < grown.Length; i++) grown[i] = AddTrack(streams[i]);
            _tracks = grown;
            return _tracks[streamIndex];
        }

        // A new session of timestamps for the input just opened: the video on the timeline, one track for every other
        // stream. A session that follows an earlier one on the same output starts where that one ended plus the time
        // the input was away, every stream moved by the same amount.
        private void BeginStamps(bool followPrevious)
        {
            var streams = _input!.Streams;
            var videoStream = streams[_video.StreamIndex];
            _rawStamps = null;
            _order = null;
            DisposeLeading();
            long spacing = 0;
            if (RawVideoTimestamps.ForRawInput(_input, _video, _options.FrameRate) is { } raw)
            {
                // FFmpeg's raw h264/hevc demuxers give no timestamps: stamp the frames in picture order.
                _rawStamps = raw;
                var rate = raw.FrameRate;
                spacing = new Rational(rate.Denominator, rate.Numerator).Rescale(1, _video.TimeBase);
                var source = raw.FrameRateSource switch { "option" => "--frame-rate", "sps" => "SPS timing", "vps" => "VPS timing", _ => "default; give --frame-rate" };
                _options.Log?.Invoke($"raw {_video.Codec} input: frames stamped at {rate.Numerator / (double)rate.Denominator:0.###} fps ({source}), in picture order");
            }
            else if (_input.FormatName == "mpegts")
            {
                // A PES may come without PTS: each access unit's picture order count places it in display order.
                _order = new PictureOrder(_video.Codec, _video.Framing);
                _order.ReadParameterSets(videoStream.Extradata);
                if (_order.FrameRate is { } rate) spacing = new Rational(rate.Denominator, rate.Numerator).Rescale(1, _video.TimeBase);
            }
            _discontinuitiesBefore += _stamps?.Discontinuities ?? 0;
            _stamps = _timeline.BeginSession(_video.TimeBase, spacing, LeadingStart(streams, _video),
                openedAgo: Stopwatch.GetElapsedTime(_input.OpenedTimestamp));
            // A PES with PTS only, before any DTS, gets its DTS from the stream's reorder depth.
            if (_order is { Reorder: >= 0 } withReorder) _stamps.Lead?.SetReorderDepth(withReorder.Reorder);
            var follows = followPrevious && _lastEndMicros != long.MinValue;
            if (follows)
                _stamps.Follow(_lastEndMicros + (long)Stopwatch.GetElapsedTime(_lastWriteTimestamp).TotalMicroseconds);
            // A session that follows an earlier one stamps its leading frames after what was written; a first one holds
            // them until its first timestamp.
            _watchLeading = _rawStamps is null && !follows;
            _tracks = new TimestampTrack?[streams.Count];
            for (var i = 0; i < streams.Count; i++)
                if (i != _video.StreamIndex) _tracks[i] = AddTrack(streams[i]);
        }

        // A non-video stream's track. An audio packet that comes without timestamps or duration (the frames after the
        // first of an MPEG-TS PES before FFmpeg's parser knew the frame size: a short --analyze-duration) is stamped one
        // coded frame after the last, as ffmpeg stamps it; other streams one learnt step, or 40 ms until one is learnt.
        private TimestampTrack AddTrack(MediaStream stream) =>
            (_completed.TryGetValue(stream.Index, out var completed) ? completed.AudioFrameDuration : stream.AudioFrameDuration) is { } frame
                ? _stamps!.AddTrack(stream.TimeBase, frame)
                : _stamps!.AddTrack(stream.TimeBase);

        private void Repaired(int streamIndex, TimestampRepair repair, long rawPts, long rawDts, long dts, Rational timeBase)
        {
            _options.Monitor?.Repaired(repair);
            if ((repair & (TimestampRepair.Discontinuity | TimestampRepair.Wrap)) == 0 || _options.Log is not { } log) return;
            var what = (repair & TimestampRepair.Discontinuity) != 0
                ? $"timestamp discontinuity {_discontinuitiesBefore + _stamps!.Discontinuities}: the input jumped to DTS {Show(rawDts, timeBase)}; from here the stream is shifted to follow on at {Show(dts, timeBase)}"
                : $"the input's timestamp counter wrapped (DTS {Show(rawDts, timeBase)}); unwrapped to {Show(dts, timeBase)}";
            log($"stream #{streamIndex}: {what} (PTS was {Show(rawPts, timeBase)})");
        }

        // Rescales to the output time base, keeps the DTS strictly increasing there (a coarser time base can make two
        // neighbours equal), and writes to the output stream the input stream `streamIndex` maps to. False when the muxer
        // still refused the packet: it is logged and skipped.
        private bool WritePacket(Packet packet, int streamIndex, long? decodeMicros)
        {
            var outputIndex = _outputOf[streamIndex];
            var to = OutputTimeBase(outputIndex);
            // Same time base in and out (FLV to FLV, TS to TS): nothing to rescale, and one native call saved per packet.
            if (InputTimeBase(streamIndex) is var from && from != to) packet.RescaleTimestamps(from, to);
            packet.Position = -1;
            if (outputIndex != streamIndex) packet.StreamIndex = outputIndex;
            var last = _lastWritten[outputIndex];
            if (packet.Dts != Packet.NoTimestamp && packet.Dts <= last)
            {
                packet.Dts = last + 1;
                if (packet.Pts != Packet.NoTimestamp && packet.Pts < packet.Dts) packet.Pts = packet.Dts;
            }
            if (!_output!.TryWrite(packet, out var refusal))
            {
                _options.Monitor?.Refused();
                _options.Log?.Invoke($"stream #{streamIndex}: the {_output.FormatName} muxer refused a packet (PTS {Show(packet.Pts, to)}, " +
                    $"DTS {Show(packet.Dts, to)}): {refusal}; skipped");
                return false;
            }
            if (packet.Dts != Packet.NoTimestamp) _lastWritten[outputIndex] = packet.Dts;
            if (decodeMicros is { } d)
            {
                var end = d + to.ToMicroseconds(packet.Duration);
                if (end > _lastEndMicros) _lastEndMicros = end;
            }
            _lastWriteTimestamp = Stopwatch.GetTimestamp();
            return true;
        }

        // Decode time of a packet (its repaired timestamps), microseconds.
        private long? DecodeMicros(Packet packet)
        {
            var raw = packet.Dts != Packet.NoTimestamp ? packet.Dts : packet.Pts;
            if (raw == Packet.NoTimestamp) return null;
            return InputTimeBase(packet.StreamIndex).ToMicroseconds(raw);
        }

        // The streams' time bases of the current input and output, read once per link instead of through the native
        // structs three times per packet (a list lookup, a handle check and a layout lookup each). They do not change
        // while a link lasts: the demuxer sets them when it opens (a stream that appears later gets a higher index),
        // the muxer when it writes the header, before the output is used.
        private object? _inputBasesOf, _outputBasesOf;
        private Rational[] _inputBases = [], _outputBases = [];

        private Rational InputTimeBase(int streamIndex) => TimeBase(_input!, _input!.Streams, ref _inputBasesOf, ref _inputBases, streamIndex);

        private Rational OutputTimeBase(int streamIndex) => TimeBase(_output!, _output!.Streams, ref _outputBasesOf, ref _outputBases, streamIndex);

        // The time base of stream streamIndex of link (an input or output), from bases, which is refilled when the link
        // is not the one it was read from (basesOf).
        private static Rational TimeBase(object link, IReadOnlyList<MediaStream> streams, ref object? basesOf, ref Rational[] bases, int streamIndex)
        {
            if (!ReferenceEquals(basesOf, link))
            {
                bases = TimeBases(streams);
                basesOf = link;
            }
            return streamIndex < bases.Length ? bases[streamIndex] : streams[streamIndex].TimeBase;
        }

        private static Rational[] TimeBases(IReadOnlyList<MediaStream> streams)
        {
            var bases = new Rational[streams.Count];
            for (var i = 0; i < bases.Length; i++) bases[i] = streams[i].TimeBase;
            return bases;
        }

        private void NoteLateStream(int streamIndex)
        {
            if (!_lateStreams.Add(streamIndex)) return;
            _input!.UpdateStreams();
            var stream = streamIndex < _input.Streams.Count ? _input.Streams[streamIndex].ToString() : $"#{streamIndex}";
            _options.Log?.Invoke($"stream {stream} of {_input.Url} appeared after the output header was written: its packets are dropped (counted)");
        }

        // Opens the input (again, after a back-off, when reconnecting) and begins its timestamp session. False when
        // stopped meanwhile.
        private bool OpenInput()
        {
            // While the input is down nothing is written, so an output whose destination dropped meanwhile would say
            // "connected" until the first packet after the input is back failed: it is watched instead (IdleOutputWatch).
            var watched = _inputSessions != 0 && ReconnectOutput ? _output : null;
            if (watched is not null) _idleOutput.Start(watched, IdleOutputLost);
            bool opened;
            try
            {
                opened = WaitForInput();
            }
            finally
            {
                if (watched is not null) EndIdleWatch(watched);
            }
            if (!opened) return false;
            var reopened = _inputSessions != 0;
            _inputSessions++;
            _inputBackoff = FirstBackoff;
            _seiSource.Start(_video);
            var follow = reopened;
            if (reopened && _output is not null && !KeepOutput(_input!, _output)) follow = false;
            BeginStamps(follow);
            owner._links?.Up(MediaDirection.Input, _options.InputUrl, reopened);
            return true;
        }

        // Opens the input, after a back-off when reconnecting, until one opens with its video stream found. False when
        // stopped meanwhile.
        private bool WaitForInput()
        {
            var first = _inputSessions == 0;
            var listening = _options.ListenInput || MediaInput.IsListeningUrl(_options.InputUrl);
            while (true)
            {
                // A listener has nothing to wait for: the sooner it listens again, the sooner the publisher gets in.
                if (!first && !listening && stop.WaitHandle.WaitOne(_inputBackoff)) return false;
                first = false;
                MediaInput? input = null;
                try
                {
                    if (listening) _options.Log?.Invoke($"waiting for a publisher on {_options.InputUrl}");
                    input = MediaInput.Open(_options.InputUrl, _options.InputFormat, _options.IoTimeout, _options.AnalyzeDuration, stop, _options.ListenInput,
                        rawTimestamps: true, rtmpClient: _options.RtmpClient);
                    var video = WaitForVideo(input);
                    WaitForAudioParameters(input);
                    _input = input;
                    _video = video;
                    break;
                }
                catch (FFmpegException e) when (e.WasInterrupted && stop.IsCancellationRequested)
                {
                    input?.Dispose();
                    return false;
                }
                catch (FFmpegException e) when (ReconnectInput && !e.IsPermanent && e.Direction == MediaDirection.Input)
                {
                    input?.Dispose();
                    ClearHeld();
                    var wait = _inputBackoff;
                    _inputBackoff = Next(_inputBackoff, MaxBackoff);
                    owner._links?.Down(MediaDirection.Input, e.Message, wait);
                }
                catch
                {
                    input?.Dispose();
                    throw;
                }
            }
            return true;
        }

        // Called on the watch's thread, as soon as the idle output's link is found gone: counted and shown at once (not
        // when the run is being stopped: a link closing then is no outage). The pipeline's thread is inside WaitForInput
        // meanwhile and touches neither the backoff nor the output.
        private void IdleOutputLost(FFmpegException e)
        {
            if (!stop.IsCancellationRequested) ScheduleOutput($"{e.Message} (found while the input is down; opened again once it is back)");
        }

        // The input is back (or the run ends): an output the watch found gone is let go of here, on the pipeline's
        // thread, and reopened as any dropped output is (PollOutput, from the next keyframe).
        private void EndIdleWatch(MediaOutput watched)
        {
            if (_idleOutput.Stop() is null) return;
            watched.Dispose();
            _output = null;
        }

        // FLV and MPEG-TS announce a stream when its first packet arrives: a live input whose audio comes first may
        // open (after a short probe) with no video yet, or with a video stream announced by its sequence header (FLV's
        // AVC configuration tag, written at 0) but no frame of it, so no picture size, which every muxer wants. Packets
        // are held, in order, until the video stream is there and its first frames gave its size.
        private VideoStreamDescription WaitForVideo(MediaInput input)
        {
            if (VideoStreamDescription.TryFind(input) is { } found && input.Streams[found.StreamIndex].VideoSize is not null) return found;
            var started = Stopwatch.GetTimestamp();
            var said = false;
            while (true)
            {
                if (_held.Count >= MaxHeldPackets || Stopwatch.GetElapsedTime(started) > _options.VideoStreamWait)
                {
                    // A video stream whose frames came but gave no size (no keyframe yet): the output's header decides (an
                    // MPEG-TS output takes it); one that sent no frame at all is no video to go live with.
                    if (VideoStreamDescription.TryFind(input) is { } sizeless && _held.Any(p => p.StreamIndex == sizeless.StreamIndex))
                    {
                        _options.Log?.Invoke($"video stream #{sizeless.StreamIndex} of {input.Url}: no picture size after waiting " +
                            $"{_options.VideoStreamWait.TotalSeconds:0.###} s; going on (an output that needs it will say so)");
                        return sizeless;
                    }
                    throw NoVideo(input, $"after waiting {_options.VideoStreamWait.TotalSeconds:0.###} s");
                }
                var result = HoldNext(input, out var packet);
                if (result == ReadResult.EndOfStream)
                {
                    // A live input that ends before its video came (a publisher gone within its first GOP, or one that sent
                    // only audio) is a drop like any other: the next publisher may bring it. A file is what it is.
                    if (ReconnectInput)
                        throw new FFmpegException($"{input.Url}: the input ended before its first video frame ({_held.Count} packets of other streams read)",
                            AvError.EndOfFile, "end of stream", MediaDirection.Input);
                    throw NoVideo(input, "before the input ended");
                }
                if (result == ReadResult.TryAgain) continue;
                input.UpdateStreams();
                var kind = packet!.StreamIndex < input.Streams.Count ? input.Streams[packet.StreamIndex].MediaType : MediaType.Unknown;
                if (!said && kind != MediaType.Video)
                {
                    // Said once: otherwise a start-up that waits here for seconds looks like a hang.
                    said = true;
                    var first = kind == MediaType.Unknown ? "another stream" : kind.ToString().ToLowerInvariant();
                    var awaited = VideoStreamDescription.TryFind(input) is { } announced ? $"the first frames of video stream #{announced.StreamIndex}" : "a video stream";
                    _options.Log?.Invoke($"waiting for {awaited} on {input.Url} ({first} came first; up to {_options.VideoStreamWait.TotalSeconds:0.###} s)");
                }
                // Only a packet of the video stream can tell its size: other packets do not probe it again.
                if (VideoStreamDescription.TryFind(input) is { } video && packet.StreamIndex == video.StreamIndex)
                {
                    // The stream comes with what its first packet told the demuxer (codec, configuration, time base);
                    // its picture size, which every muxer wants, comes from decoding its first packets.
                    var stream = input.Streams[video.StreamIndex];
                    if (stream.VideoSize is not null || LateStreamProbe.TryCompleteVideo(stream, _held)) return video;
                }
            }
        }

        // No video to go live with: none announced, or one announced (FLV sequence header) whose frames never gave its size.
        private InjectionException NoVideo(MediaInput input, string when)
        {
            var streams = string.Join(", ", input.Streams);
            if (VideoStreamDescription.TryFind(input) is { } announced)
            {
                var own = _held.Count(p => p.StreamIndex == announced.StreamIndex);
                return new InjectionException($"{input.Url}: video stream #{announced.StreamIndex} gave no picture size {when} " +
                    $"({_held.Count} packets read, {own} of them its own; streams: {streams})");
            }
            return new InjectionException($"{input.Url} has no H.264 or H.265 video stream {when} ({_held.Count} packets of other streams read; streams: {streams})");
        }

        // Start-up's read-ahead: reads one packet and holds it, in order, for the main loop (which takes _held first).
        // TryAgain (a non-blocking input with nothing yet) waits a millisecond; nothing is held unless a packet was read.
        private ReadResult HoldNext(MediaInput input, out Packet? held)
        {
            var packet = new Packet();
            var result = input.Read(packet);
            if (result != ReadResult.Packet)
            {
                packet.Dispose();
                if (result == ReadResult.TryAgain) Thread.Sleep(1);
                held = null;
                return result;
            }
            _held.Enqueue(packet);
            held = packet;
            return result;
        }

        // An audio stream whose first frames came after a short --analyze-duration ended has no sample rate, and the muxer
        // would refuse the output header ("sample rate not set"): packets are read on and held, in order, until each such
        // stream's first frames give it (LateStreamProbe), within the same bounds as the wait for the video stream. What
        // was completed is kept (_completed): libavformat may empty the stream's own parameters again meanwhile. A stream
        // that says nothing by then is named, and left as it is: the output's header then refuses it.
        private void WaitForAudioParameters(MediaInput input)
        {
            ClearCompleted();
            var pending = input.Streams.Where(s => s.MediaType == MediaType.Audio && s.AudioSampleRate is null).ToList();
            pending.RemoveAll(TryComplete);
            if (pending.Count == 0) return;
            var (streams, their) = pending.Count == 1 ? ("stream", "its") : ("streams", "their");
            _options.Log?.Invoke($"audio {streams} {string.Join(", ", pending.Select(Name))} of {input.Url} came without a sample rate ({their} first frames came after the " +
                $"probe ended: --analyze-duration); reading on until they give it (up to {_options.VideoStreamWait.TotalSeconds:0.###} s)");
            var started = Stopwatch.GetTimestamp();
            while (pending.Count > 0)
            {
                if (_held.Count >= MaxHeldPackets || Stopwatch.GetElapsedTime(started) > _options.VideoStreamWait)
                {
                    _options.Log?.Invoke($"audio stream {string.Join(", ", pending.Select(Name))}: no sample rate after {_held.Count} packets; the output may refuse it");
                    return;
                }
                var result = HoldNext(input, out var held);
                if (result == ReadResult.EndOfStream) return;
                if (result == ReadResult.TryAgain) continue;
                var index = held!.StreamIndex;
                if (pending.Find(s => s.Index == index) is { } stream && TryComplete(stream)) pending.Remove(stream);
            }

            // True when the stream needs no more waiting: completed, or it cannot be (no decoder in this FFmpeg: the output's
            // header then says what it lacks; a stream is not worth a failed start-up or a reconnect loop).
            bool TryComplete(MediaStream stream)
            {
                try
                {
                    if (!LateStreamProbe.TryCompleteAudio(stream, _held)) return false;
                }
                catch (FFmpegException e)
                {
                    _options.Log?.Invoke($"audio stream {Name(stream)}: its sample rate cannot be read ({e.Message})");
                    return true;
                }
                _completed[stream.Index] = CodecParameters.CopyOf(stream);
                return true;
            }
            static string Name(MediaStream s) => $"#{s.Index} ({s.CodecName})";
        }

        private void ClearCompleted()
        {
            foreach (var parameters in _completed.Values) parameters.Dispose();
            _completed.Clear();
        }

        // The output stays open for a reopened input whose streams it carries: each input stream is matched to an output
        // stream of the same kind and codec parameters (StreamsMatch), not by index, as nginx-rtmp announces audio
        // first to a player that joins a publisher already sending and video first to one that waited for it. When some
        // stream matches none, a network output is opened again with the new streams; a file output is never (a new
        // header would truncate it): it keeps what it has, and the streams that match none are dropped (counted), or,
        // when that is the video, the run stops with the file intact. False when the output was closed.
        private bool KeepOutput(MediaInput input, MediaOutput output)
        {
            var map = MatchStreams(input.Streams, output.Streams);
            var unmatched = Array.IndexOf(map, -1);
            if (unmatched < 0)
            {
                UseStreamMap(map, input);
                return true;
            }
            var why = $"the reopened input's streams differ from the output's (input {string.Join(", ", input.Streams)}; output {string.Join(", ", output.Streams)})";
            if (!_fileOutput)
            {
                CloseOutput($"{why}: the output is opened again with them", TimeSpan.Zero);
                return false;
            }
            if (map[_video.StreamIndex] < 0)
            {
                // The file is closed properly (trailer, index) before the run stops.
                Finish();
                _output!.Dispose();
                _output = null;
                throw new InjectionException($"{why}: the file output {_options.OutputUrl} cannot take the new video stream, and opening it again would " +
                    "overwrite it; the run stops with what was written (write each session to a file of its own, or to a network output)");
            }
            var dropped = string.Join(", ", input.Streams.Where(s => map[s.Index] < 0));
            _options.Log?.Invoke($"{why}: the file output {_options.OutputUrl} is kept (opening it again would overwrite it); the packets of {dropped} are dropped (counted)");
            UseStreamMap(map, input);
            return true;
        }

        private void UseStreamMap(int[] map, MediaInput input)
        {
            var moved = false;
            for (var i = 0; i < map.Length; i++) moved |= map[i] >= 0 && map[i] != i;
            if (moved)
                _options.Log?.Invoke($"the reopened input announces its streams in another order: written to the output's by kind and codec " +
                    $"({string.Join(", ", input.Streams.Where(s => map[s.Index] >= 0).Select(s => $"#{s.Index} {s.CodecName} -> #{map[s.Index]}"))})");
            _outputOf = map;
        }

        // For each input stream, the output stream it is written to (-1: none): the stream at the same index when it
        // matches, else the first output stream not taken that does.
        private static int[] MatchStreams(IReadOnlyList<MediaStream> inputs, IReadOnlyList<MediaStream> outputs)
        {
            var map = new int[inputs.Count];
            var taken = new bool[outputs.Count];
            Array.Fill(map, -1);
            for (var i = 0; i < inputs.Count; i++)
            {
                if (i < outputs.Count && StreamsMatch(inputs[i], outputs[i]))
                {
                    map[i] = i;
                    taken[i] = true;
                }
            }
            for (var i = 0; i < inputs.Count; i++)
            {
                if (map[i] >= 0) continue;
                for (var j = 0; j < outputs.Count; j++)
                {
                    if (taken[j] || !StreamsMatch(inputs[i], outputs[j])) continue;
                    map[i] = j;
                    taken[j] = true;
                    break;
                }
            }
            return map;
        }

        // Whether packets of `input` can go on in the output stream `output` was made from: the same kind and codec, and
        // for video the same configuration where the packets depend on it: length-prefixed packets (AVCC, hvcC) on the
        // same extradata (NAL length size and parameter sets, which the output header and its bitstream filter use);
        // Annex B packets carry their parameter sets in-band, so only the picture size counts (an MPEG-TS input's
        // extradata is whatever the parser had extracted when the probe ended). Audio: the same sample rate and
        // configuration (AAC AudioSpecificConfig) where both are known.
        internal static bool StreamsMatch(MediaStream input, MediaStream output)
        {
            if (input.MediaType != output.MediaType || input.CodecId != output.CodecId) return false;
            var a = input.Extradata;
            var b = output.Extradata;
            if (input.MediaType == MediaType.Video)
            {
                var prefixedIn = IsLengthPrefixed(a);
                if (prefixedIn != IsLengthPrefixed(b)) return false;
                if (prefixedIn) return a.SequenceEqual(b);
                return input.VideoSize is not { } sizeIn || output.VideoSize is not { } sizeOut || sizeIn == sizeOut;
            }
            if (input.MediaType == MediaType.Audio)
            {
                if (input.AudioSampleRate is { } rateIn && output.AudioSampleRate is { } rateOut && rateIn != rateOut) return false;
                return a.IsEmpty || b.IsEmpty || a.SequenceEqual(b);
            }
            return true;
        }

        // ISO/IEC 14496-15: an AVCDecoderConfigurationRecord or HEVCDecoderConfigurationRecord starts with
        // configurationVersion 1; Annex B extradata starts with a start code (00 00 01 or 00 00 00 01).
        private static bool IsLengthPrefixed(ReadOnlySpan<byte> extradata) => extradata.Length > 0 && extradata[0] == 1;

        private void DropInput(string reason)
        {
            _tunedSlice?.Interrupted();
            if (_input is not null)
            {
                using var spliced = new Packet();
                ReleaseLeading(spliced, first: null, firstOrder: null);
            }
            _input?.Dispose();
            _input = null;
            ClearHeld();
            // What the cache holds is on the old session's timestamps, which the next session only approximately follows.
            CountDropped(_cache.Clear());
            owner._links?.Down(MediaDirection.Input, reason, _inputBackoff);
        }

        // The first open happens before the first packet is read: a file output gets every packet from the start.
        private void OpenOutputNow()
        {
            var output = CreateOutput();
            try
            {
                output.WriteHeader();
            }
            catch (FFmpegException e) when (ReconnectOutput && !e.IsPermanent && !stop.IsCancellationRequested)
            {
                output.Dispose();
                ScheduleOutput(e.Message);
                return;
            }
            catch
            {
                output.Dispose();
                throw;
            }
            OutputUp(output, awaitKeyframe: false);
        }

        private MediaOutput CreateOutput()
        {
            var output = MediaOutput.Create(_options.OutputUrl, _options.OutputFormat, _options.IoTimeout, _options.RtmpClient);
            try
            {
                foreach (var stream in _input!.Streams) output.AddCopyOf(stream, _completed.GetValueOrDefault(stream.Index));
            }
            catch
            {
                output.Dispose();
                throw;
            }
            _outputOf = new int[_input.Streams.Count];
            for (var i = 0; i < _outputOf.Length; i++) _outputOf[i] = i;
            _lastWritten = new long[_outputOf.Length];
            Array.Fill(_lastWritten, long.MinValue);
            return output;
        }

        private void OutputUp(MediaOutput output, bool awaitKeyframe)
        {
            _output = output;
            _awaitKeyframe = awaitKeyframe;
            _outputBackoff = FirstBackoff;
            owner._links?.Up(MediaDirection.Output, _options.OutputUrl, awaitKeyframe);
            owner.Started?.Invoke(_video);
        }

        // Completes a background open that finished, and starts the next one when its time has come. Opening (connect,
        // handshake, header) runs on another thread so that the input is read on time meanwhile.
        private void PollOutput()
        {
            if (_openingTask is { IsCompleted: true } task)
            {
                var output = _opening!;
                _openingTask = null;
                _opening = null;
                if (task.IsCompletedSuccessfully)
                {
                    OutputUp(output, awaitKeyframe: true);
                    // Opened from the streams of an input that was opened again meanwhile: matched to this input's.
                    if (_openingFor != _inputSessions && _input is not null) KeepOutput(_input, output);
                }
                else
                {
                    output.Dispose();
                    var error = task.Exception!.InnerException!;
                    if (error is FFmpegException e && !e.IsPermanent && !stop.IsCancellationRequested) ScheduleOutput(e.Message);
                    else ExceptionDispatchInfo.Throw(error);
                }
            }
            if (_output is null && _openingTask is null && _input is not null && Stopwatch.GetTimestamp() >= _nextOutputAttempt)
            {
                var output = CreateOutput();
                _opening = output;
                _openingFor = _inputSessions;
                _openingTask = Task.Run(output.WriteHeader, CancellationToken.None);
            }
        }

        private void ScheduleOutput(string reason)
        {
            var wait = _outputBackoff;
            _outputBackoff = Next(_outputBackoff, MaxOutputBackoff);
            _nextOutputAttempt = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
            owner._links?.Down(MediaDirection.Output, reason, wait);
        }

        private void DropOutput(string reason)
        {
            _tunedSlice?.Interrupted();
            _output?.Dispose();
            _output = null;
            ScheduleOutput(reason);
        }

        private void CloseOutput(string reason, TimeSpan wait)
        {
            try
            {
                _output?.WriteTrailer();
            }
            catch (FFmpegException)
            {
                // The old output is being replaced: a trailer it cannot take changes nothing.
            }
            _output?.Dispose();
            _output = null;
            CountDropped(_cache.Clear());
            _lastEndMicros = long.MinValue;
            _nextOutputAttempt = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
            owner._links?.Down(MediaDirection.Output, reason, wait);
        }

        private void Finish()
        {
            if (_input is not null && _leading.Count > 0)
            {
                // Stopped while the start of the video still waited for a timestamp.
                using var spliced = new Packet();
                ReleaseLeading(spliced, first: null, firstOrder: null);
            }
            // Packets still waiting for an output that never came back were read and never written.
            CountDropped(_cache.Clear());
            if (_openingTask is not null)
            {
                AbandonOpening();
                _opening = null;
                _openingTask = null;
            }
            if (_output is null) return;
            try
            {
                _output.WriteTrailer();
            }
            catch (FFmpegException e) when (ReconnectOutput && !e.IsPermanent)
            {
                // The output dropped as the run ended: nothing left to close properly.
            }
        }

        // The output being opened in the background is cancelled and freed once its header call has returned: a call that
        // the interrupt cannot stop (a name lookup inside avio_open) may outlast the bounded wait, and freeing the context
        // under it would be a use after free. It is then freed when that call returns.
        private void AbandonOpening()
        {
            var opening = _opening!;
            var task = _openingTask!;
            opening.Cancel();
            if (task.ContinueWith(_ => { }, TaskScheduler.Default).Wait(_options.IoTimeout + TimeSpan.FromSeconds(5))) opening.Dispose();
            else task.ContinueWith(_ => opening.Dispose(), TaskScheduler.Default);
        }

        private void ClearHeld()
        {
            while (_held.TryDequeue(out var p)) p.Dispose();
        }

        private static TimeSpan Next(TimeSpan backoff, TimeSpan max) => backoff * 2 > max ? max : backoff * 2;

        public void Dispose()
        {
            ClearHeld();
            DisposeLeading();
            ClearCompleted();
            _cache.Dispose();
            if (_openingTask is not null) AbandonOpening();
            _output?.Dispose();
            _input?.Dispose();
        }
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

    private static string Show(long timestamp, Rational timeBase) =>
        timestamp == Packet.NoTimestamp ? "none" : $"{timestamp} ({timeBase.ToSeconds(timestamp):0.######} s)";

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
