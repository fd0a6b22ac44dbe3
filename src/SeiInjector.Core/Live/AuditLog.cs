using System.Buffers;
using System.Globalization;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Messages;
using Microsoft.Win32.SafeHandles;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The audit log: one JSON object per line, appended as each event happens, so that after the show the team can
/// prove which cue went out on which frame, and after a crash the injector can pick up where it stopped.
/// <para>
/// Durability: every line reaches the operating system with one <c>pwrite</c> before the call returns, so it
/// survives the injector being killed (<c>kill -9</c>) at any moment, and the pipeline thread never waits for the disk.
/// A background flusher forces lines to the disk (<c>fsync</c>) within milliseconds; run start, stop, sequence
/// reservations and restorations are forced before the call returns, and the control API calls
/// <see cref="FlushToDisk"/> before it confirms an accepted cue.
/// </para>
/// <para>
/// Opening an existing log replays it (<see cref="Replay"/>) and cuts off a torn last line left by a crash, so the
/// next line starts clean. Record numbers (<c>n</c>) continue above the last one in the file.
/// </para>
/// </summary>
public sealed class AuditLog : ICueJournal, IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly object _gate = new();
    private readonly Thread _flusher;
    private readonly TimeProvider _clock;
    private long _offset;
    private long _lastRecordNumber;
    private long _written;
    private long _flushed;
    private bool _disposed;

    private AuditLog(string path, SafeFileHandle file, long offset, AuditReplay replay, TimeProvider clock)
    {
        Path = path;
        _file = file;
        _offset = offset;
        _clock = clock;
        Replay = replay;
        _lastRecordNumber = replay.LastRecordNumber;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "audit-log flusher" };
        _flusher.Start();
    }

    /// <summary>The file this log appends to.</summary>
    public string Path { get; }

    /// <summary>What the file held when it was opened (empty for a new file).</summary>
    public AuditReplay Replay { get; }

    /// <summary>Number of the last record written (continues across restarts).</summary>
    public long LastRecordNumber
    {
        get
        {
            lock (_gate) return _lastRecordNumber;
        }
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // File.OpenHandle takes no creation mode: create the file 0600 first (never widening an existing one), then open it.
    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(path))
        {
            try
            {
                using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Created by someone else in between: narrowed below like any existing file.
            }
        }
        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~(OwnerOnly | UnixFileMode.UserExecute)) != 0) File.SetUnixFileMode(path, OwnerOnly);
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's file: its owner decides; writing needs only our write permission.
        }
    }

    /// <summary>
    /// Opens (creating if needed) the audit log at <paramref name="path"/>, replays what it holds, and cuts off a torn
    /// last line. The file stays open, readable by others, until <see cref="Dispose"/>. It holds the show's cues, their
    /// data and who was refused: a new file is created with mode 0600, and an existing one readable by group or others
    /// is narrowed to 0600 (as far as its owner lets us).
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or read; the message names it.</exception>
    /// <exception cref="AuditLogException">A complete line in the file is not a valid audit record.</exception>
    public static AuditLog Open(string path, TimeProvider? clock = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        SafeFileHandle file;
        try
        {
            CreateOwnerOnly(full);
            file = File.OpenHandle(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot open the audit log {full}: {e.Message}", e);
        }
        try
        {
            var length = RandomAccess.GetLength(file);
            var content = new byte[length];
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(file, content.AsSpan(read), read);
                if (n == 0) break;
                read += n;
            }
            var replay = AuditReplay.Parse(content.AsSpan(0, read), full);
            var keep = read - replay.TornTailBytes;
            if (replay.TornTailBytes > 0)
            {
                RandomAccess.SetLength(file, keep);
                RandomAccess.FlushToDisk(file);
            }
            return new AuditLog(full, file, keep, replay, clock ?? TimeProvider.System);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The injector started (or restarted after a crash) on this log.</summary>
    public void Started(string streamId, string input, string output, long firstSequenceNumber, int cuesRestored) =>
        Append("started", w =>
        {
            w.WriteString("stream", streamId);
            w.WriteString("input", input);
            w.WriteString("output", output);
            w.WriteNumber("first_seq", firstSequenceNumber);
            w.WriteNumber("cues_restored", cuesRestored);
        }, toDisk: true);

    /// <summary>The run's first video frame passed the injector: the origin of targets such as <c>at: 5s</c>.</summary>
    public void TimelineStarted(DateTimeOffset firstFrameWallClock) =>
        Append("timeline", w => w.WriteString("first_frame_wall", Iso(firstFrameWallClock)), toDisk: false);

    /// <summary>
    /// Message sequence numbers up to <paramref name="through"/> may be used from now on. Written before they are used,
    /// so a restart resumes above every number that may have gone out, heartbeats included.
    /// </summary>
    public void SequenceReserved(long through) =>
        Append("seq_reserved", w => w.WriteNumber("through", through), toDisk: true);

    /// <summary>
    /// The orders of the cue bus up to stream entry <paramref name="entryId"/> (bus number <paramref name="sequence"/>)
    /// are applied to the book: a restart reads on from there. Written to disk before the bus is read further.
    /// </summary>
    public void BusPosition(string entryId, long sequence) =>
        Append("bus_position", w =>
        {
            w.WriteString("entry", entryId);
            w.WriteNumber("seq", sequence);
        }, toDisk: true);

    /// <summary>The cue bus became reachable or unreachable, or refused an order on this injector (<paramref name="state"/>).</summary>
    public void BusState(string state, string detail) =>
        Append("bus", w =>
        {
            w.WriteString("state", state);
            w.WriteString("detail", detail);
        }, toDisk: true);

    /// <summary>A cue left active or pending by a crashed run was put back into the book, to go out again.</summary>
    public void Restored(string cueId, long sequenceNumber, AuditCueState state, TimeSpan remainingWindow) =>
        Append("restored", w =>
        {
            w.WriteString("id", cueId);
            w.WriteNumber("seq", sequenceNumber);
            w.WriteString("was", state.ToString().ToLowerInvariant());
            w.WriteNumber("remaining", remainingWindow.TotalSeconds);
        }, toDisk: true);

    /// <summary>
    /// A cue changed state in the book. Called under the book's lock: one <c>pwrite</c>, no waiting for the disk
    /// (callers that must answer only once an acceptance is durable call <see cref="FlushToDisk"/> afterwards).
    /// </summary>
    public void Record(CueJournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var cue = entry.Cue;
        var wall = DateTimeOffset.UnixEpoch.AddTicks(entry.WallClockMicros * TimeSpan.TicksPerMicrosecond);
        switch (entry.Event)
        {
            case CueEvent.Accepted:
                Append("accepted", w => WriteCue(w, cue), toDisk: false);
                break;
            case CueEvent.Delivered or CueEvent.Repeated when entry.Carrier is { } carrier:
                Append(entry.Event == CueEvent.Delivered ? "delivered" : "repeated", w => WriteDelivery(w, cue, carrier, wall), toDisk: false);
                break;
            case CueEvent.CancelMessageDelivered or CueEvent.CancelMessageRepeated when entry.Carrier is { } carrier:
                Append(entry.Event == CueEvent.CancelMessageDelivered ? "cancel_delivered" : "cancel_repeated",
                    w => WriteDelivery(w, cue, carrier, wall, entry.CloseSequence), toDisk: false);
                break;
            case CueEvent.Cancelled:
                Append("cancelled", w =>
                {
                    w.WriteString("id", cue.Id);
                    w.WriteBoolean("was_active", cue.Transmissions > 0);
                    WriteClose(w, entry);
                    if (entry.Detail is not null) w.WriteString("detail", entry.Detail);
                }, toDisk: false);
                break;
            case CueEvent.Ended or CueEvent.Expired:
                Append(entry.Event == CueEvent.Ended ? "ended" : "expired", w =>
                {
                    w.WriteString("id", cue.Id);
                    WriteClose(w, entry);
                    if (entry.Detail is not null) w.WriteString("reason", entry.Detail);
                }, toDisk: false);
                break;
            default:
                throw new ArgumentException($"journal entry {entry.Event} for cue '{cue.Id}' has no carrier frame", nameof(entry));
        }
    }

    /// <summary>The input or output changed state, as the pipeline reports it.</summary>
    public void Record(StreamStateEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Append("stream", w =>
        {
            w.WriteString("state", entry.Event.ToString());
            w.WriteString("detail", entry.Detail);
        }, toDisk: false);
    }

    /// <summary>The input or output link changed state (drops and reconnections).</summary>
    public void LinkState(LinkSide side, LinkState state, string? detail) =>
        Append(side == LinkSide.Input ? "input" : "output", w =>
        {
            w.WriteString("state", state.ToWireName());
            if (detail is not null) w.WriteString("detail", detail);
        }, toDisk: false);

    /// <summary>
    /// Control API requests were refused for a missing or wrong token: one record a minute at most, whatever the number
    /// (<paramref name="first"/> is the first request's method, path cut short, and address).
    /// </summary>
    public void UnauthorizedSummary(DateTimeOffset since, long refused, long rateLimited, int addresses, string first) =>
        Append("unauthorized_summary", w =>
        {
            w.WriteString("since", Iso(since));
            w.WriteNumber("refused", refused);
            w.WriteNumber("rate_limited", rateLimited);
            w.WriteNumber("addresses", addresses);
            w.WriteString("first", first);
        }, toDisk: false);

    /// <summary>The injector stopped cleanly; <paramref name="cues"/> is the book's tally at the end (the run summary's).</summary>
    public void Stopped(string reason, CueCounts? cues = null) => Append("stopped", w =>
    {
        w.WriteString("reason", reason);
        cues?.WriteJson(w, "cues");
    }, toDisk: true);

    /// <summary>Forces every line written so far to the disk.</summary>
    public void FlushToDisk()
    {
        long target;
        lock (_gate)
        {
            if (_disposed) return;
            target = _written;
        }
        RandomAccess.FlushToDisk(_file);
        lock (_gate)
        {
            if (target > _flushed) _flushed = target;
        }
    }

    /// <summary>Forces what was written to disk and closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        _flusher.Join();
        RandomAccess.FlushToDisk(_file);
        _file.Dispose();
    }

    private void Append(string kind, Action<Utf8JsonWriter> body, bool toDisk)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var n = _lastRecordNumber + 1;
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("n", n);
                w.WriteString("time", Iso(_clock.GetUtcNow()));
                w.WriteString("event", kind);
                body(w);
                w.WriteEndObject();
            }
            buffer.Write("\n"u8);
            RandomAccess.Write(_file, buffer.WrittenSpan, _offset);
            _offset += buffer.WrittenCount;
            _lastRecordNumber = n;
            _written++;
            Monitor.Pulse(_gate);
        }
        if (toDisk) FlushToDisk();
    }

    private void FlushLoop()
    {
        while (true)
        {
            lock (_gate)
            {
                while (_written == _flushed && !_disposed) Monitor.Wait(_gate);
                if (_disposed) return;
            }
            FlushToDisk();
        }
    }

    private static void WriteCue(Utf8JsonWriter w, CueSnapshot cue)
    {
        var r = cue.Request;
        w.WriteString("id", r.Id);
        w.WriteString("kind", r.Kind.ToWireName());
        w.WriteNumber("seq", cue.Sequence);
        if (r.At.AfterFirstFrame is { } offset) w.WriteNumber("at_offset", offset.TotalSeconds);
        if (r.At.WallClock is { } wall) w.WriteString("at_wall", Iso(wall));
        if (r.At.SourcePts is { } pts) w.WriteNumber("at_pts", pts.TotalSeconds);
        w.WriteNumber("duration", r.Duration.TotalSeconds);
        w.WriteNumber("spread", r.Spread.TotalSeconds);
        if (r.TargetCueId is not null) w.WriteString("closes", r.TargetCueId);
        w.WriteBase64String("data", r.AppData.Span);
    }

    private static void WriteClose(Utf8JsonWriter w, CueJournalEntry entry)
    {
        if (entry.CloseSequence is { } seq) w.WriteNumber("close_seq", seq);
        if (entry.ClosedBy is { } by) w.WriteString("closed_by", by);
    }

    // A delivery of the cue's own message, or (closeSequence given) of the cancel message that closes it.
    private static void WriteDelivery(Utf8JsonWriter w, CueSnapshot cue, CarrierFrame carrier, DateTimeOffset wall, long? closeSequence = null)
    {
        w.WriteString("id", cue.Id);
        w.WriteNumber(closeSequence is null ? "seq" : "close_seq", closeSequence ?? cue.Sequence);
        if (cue.Hold is { } hold) w.WriteNumber("hold", hold.TotalSeconds);
        if (carrier.Pts is { } pts)
        {
            w.WriteNumber("pts", pts);
            w.WriteNumber("pts_time", carrier.TimeBase.ToSeconds(pts));
        }
        else
        {
            w.WriteNull("pts");
        }
        if (closeSequence is null && cue.TargetPts is { } target && cue.TimeBase is { } tb) w.WriteNumber("target_time", tb.ToSeconds(target));
        w.WriteNumber("frame", carrier.FrameIndex);
        if (carrier.TransmissionSequence >= 0) w.WriteNumber("transmission_seq", carrier.TransmissionSequence);
        w.WriteString("wall", Iso(wall));
        w.WriteString("sei_sha256", carrier.SeiSha256);
    }

    internal static string Iso(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>The frame that carried a cue, as the audit log tells it.</summary>
/// <param name="Pts">Carrier PTS in its stream's time base, or null when the packet had none.</param>
/// <param name="PtsTime">Carrier PTS in seconds (as ffprobe's <c>pts_time</c>), or null.</param>
/// <param name="TargetTime">The cue's target presentation time in seconds on the same clock, or null before it is known.</param>
/// <param name="FrameIndex">Index of the carrier among the video packets, in decode order, from 0.</param>
/// <param name="WallClock">When the carrier passed the injector.</param>
/// <param name="SeiSha256">Lower-case hex SHA-256 of the whole SEI NAL the frame carried.</param>
/// <param name="TransmissionSequence">The transmission sequence number of the frame's payload (logs written before format
/// version 2 have none).</param>
public readonly record struct AuditCarrier(long? Pts, double? PtsTime, double? TargetTime, long FrameIndex, DateTimeOffset WallClock, string SeiSha256,
    long? TransmissionSequence = null);

/// <summary>Which side of the injector a link is on.</summary>
public enum LinkSide
{
    /// <summary>The feed the injector reads.</summary>
    Input,

    /// <summary>The ingest the injector writes to.</summary>
    Output,
}

/// <summary>State of the input or output link.</summary>
public enum LinkState
{
    /// <summary>Not opened yet.</summary>
    Connecting,

    /// <summary>Open and passing packets.</summary>
    Connected,

    /// <summary>Lost; the injector is waiting before the next attempt.</summary>
    Reconnecting,

    /// <summary>Closed for good (end of input or shutdown).</summary>
    Closed,
}

/// <summary>Helpers for <see cref="LinkState"/>.</summary>
public static class LinkStates
{
    /// <summary>The lower-case name used in the audit log, the status and the metrics.</summary>
    public static string ToWireName(this LinkState state) => state switch
    {
        LinkState.Connecting => "connecting",
        LinkState.Connected => "connected",
        LinkState.Reconnecting => "reconnecting",
        LinkState.Closed => "closed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a link state"),
    };
}

/// <summary>A complete line of an audit log is not a valid record; the message names the file, line and byte offset.</summary>
public sealed class AuditLogException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuditLogException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public AuditLogException() { }

    /// <summary>Creates the exception.</summary>
    public AuditLogException(string message) : base(message) { }
}
