using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The audit log: one JSON object per line, appended as each event happens, so that after the show the team can
/// prove which cue went out on which frame, and after a crash the injector can pick up where it stopped.
/// <para>
/// Durability: every line reaches the operating system with one <c>pwrite</c> before the call returns, so it
/// survives the injector being killed (<c>kill -9</c>) at any moment. Acceptances are also forced to the disk
/// (<c>fsync</c>) before the call returns, because the control API answers only after that; the other events are
/// forced to disk by a background flusher within milliseconds, so the pipeline thread never waits for the disk.
/// </para>
/// <para>
/// Opening an existing log replays it (<see cref="Replay"/>) and cuts off a torn last line left by a crash, so the
/// next line starts clean. Record numbers (<c>n</c>) continue above the last one in the file.
/// </para>
/// </summary>
public sealed class AuditLog : IDisposable
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

    /// <summary>
    /// Opens (creating if needed) the audit log at <paramref name="path"/>, replays what it holds, and cuts off a torn
    /// last line. The file stays open, readable by others, until <see cref="Dispose"/>.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or read; the message names it.</exception>
    /// <exception cref="AuditLogException">A complete line in the file is not a valid audit record.</exception>
    public static AuditLog Open(string path, TimeProvider? clock = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        SafeFileHandle file;
        try
        {
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
    public void Started(string streamId, string input, string output, long nextSequenceNumber, int cuesRestored) =>
        Append("started", w =>
        {
            w.WriteString("stream", streamId);
            w.WriteString("input", input);
            w.WriteString("output", output);
            w.WriteNumber("next_seq", nextSequenceNumber);
            w.WriteNumber("cues_restored", cuesRestored);
        }, toDisk: true);

    /// <summary>
    /// Message sequence numbers up to <paramref name="through"/> may be used from now on. Written before they are used,
    /// so a restart resumes above every number that may have gone out, heartbeats included.
    /// </summary>
    public void SequenceReserved(long through) =>
        Append("seq_reserved", w => w.WriteNumber("through", through), toDisk: true);

    /// <summary>A cue was accepted (from the schedule or the control API). Forced to disk before returning.</summary>
    public void Accepted(AuditCue cue) => Append("accepted", w => WriteCue(w, cue), toDisk: true);

    /// <summary>A cue went out for the first time, on the given frame.</summary>
    public void Delivered(string cueId, long sequenceNumber, AuditCarrier carrier) =>
        Append("delivered", w => WriteDelivery(w, cueId, sequenceNumber, carrier), toDisk: false);

    /// <summary>An active cue went out again (carousel), on the given frame.</summary>
    public void Repeated(string cueId, long sequenceNumber, AuditCarrier carrier) =>
        Append("repeated", w => WriteDelivery(w, cueId, sequenceNumber, carrier), toDisk: false);

    /// <summary>A cue was cancelled: a pending one will never go out; an active one ends with a signed cancel message.</summary>
    public void Cancelled(string cueId, bool wasActive, long? cancelSequenceNumber) =>
        Append("cancelled", w =>
        {
            w.WriteString("id", cueId);
            w.WriteBoolean("was_active", wasActive);
            if (cancelSequenceNumber is { } s) w.WriteNumber("cancel_seq", s);
        }, toDisk: true);

    /// <summary>An active cue's window ended after it was delivered.</summary>
    public void Ended(string cueId) => Append("ended", w => w.WriteString("id", cueId), toDisk: false);

    /// <summary>A cue could not go out before its window closed (for instance during an outage).</summary>
    public void Expired(string cueId, string reason) =>
        Append("expired", w =>
        {
            w.WriteString("id", cueId);
            w.WriteString("reason", reason);
        }, toDisk: true);

    /// <summary>The input or output link changed state.</summary>
    public void LinkState(LinkSide side, LinkState state, string? detail) =>
        Append(side == LinkSide.Input ? "input" : "output", w =>
        {
            w.WriteString("state", state.ToWireName());
            if (detail is not null) w.WriteString("detail", detail);
        }, toDisk: false);

    /// <summary>A control API request was refused for a missing or wrong token.</summary>
    public void Unauthorized(string remote, string method, string path) =>
        Append("unauthorized", w =>
        {
            w.WriteString("remote", remote);
            w.WriteString("method", method);
            w.WriteString("path", path);
        }, toDisk: false);

    /// <summary>The injector stopped cleanly.</summary>
    public void Stopped(string reason) => Append("stopped", w => w.WriteString("reason", reason), toDisk: true);

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

    /// <summary>Lower-case hex SHA-256 of the SEI bytes a frame carried, as written in the log.</summary>
    public static string HashSei(ReadOnlySpan<byte> sei) => Convert.ToHexStringLower(SHA256.HashData(sei));

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
                w.WriteString("time", _clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
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

    private static void WriteCue(Utf8JsonWriter w, AuditCue cue)
    {
        w.WriteString("id", cue.Id);
        w.WriteString("kind", cue.Kind);
        w.WriteNumber("seq", cue.SequenceNumber);
        w.WriteString("source", cue.Source);
        if (cue.At is not null) w.WriteString("at", cue.At);
        if (cue.TargetWallClock is { } wall)
            w.WriteString("target_wall", wall.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        w.WriteNumber("duration", cue.Duration.TotalSeconds);
        w.WriteNumber("spread", cue.Spread.TotalSeconds);
        w.WriteBase64String("data", cue.AppData.Span);
    }

    private static void WriteDelivery(Utf8JsonWriter w, string cueId, long sequenceNumber, AuditCarrier carrier)
    {
        w.WriteString("id", cueId);
        w.WriteNumber("seq", sequenceNumber);
        if (carrier.Pts is { } pts) w.WriteNumber("pts", pts);
        else w.WriteNull("pts");
        if (carrier.PtsTime is { } t) w.WriteNumber("pts_time", t);
        w.WriteNumber("frame", carrier.FrameIndex);
        w.WriteString("wall", carrier.WallClock.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        w.WriteString("sei_sha256", carrier.SeiSha256);
    }
}

/// <summary>A cue as the audit log records its acceptance.</summary>
/// <param name="Id">Cue id.</param>
/// <param name="Kind">Wire name of the kind (<c>interaction-start</c>, ...).</param>
/// <param name="SequenceNumber">Message sequence number assigned to the cue.</param>
/// <param name="Source"><c>schedule</c>, <c>api</c> or <c>restored</c>.</param>
/// <param name="At">The target as requested (<c>5s</c>, a wall clock), or null for "now".</param>
/// <param name="TargetWallClock">The wall clock the target corresponds to, when known.</param>
/// <param name="Duration">How long the interaction stays open.</param>
/// <param name="Spread">Peak-shaving spread.</param>
/// <param name="AppData">Application data bytes (JSON as sent), at most 1 KiB.</param>
public sealed record AuditCue(
    string Id, string Kind, long SequenceNumber, string Source, string? At, DateTimeOffset? TargetWallClock,
    TimeSpan Duration, TimeSpan Spread, ReadOnlyMemory<byte> AppData);

/// <summary>The frame that carried a message.</summary>
/// <param name="Pts">Carrier PTS in its stream's time base, or null when the packet had none.</param>
/// <param name="PtsTime">Carrier PTS in seconds (as ffprobe's <c>pts_time</c>), or null.</param>
/// <param name="FrameIndex">Index of the carrier among the video packets, in decode order, from 0.</param>
/// <param name="WallClock">When the carrier passed the injector.</param>
/// <param name="SeiSha256">Lower-case hex SHA-256 of the whole SEI NAL the frame carried (<see cref="AuditLog.HashSei"/>).</param>
public readonly record struct AuditCarrier(long? Pts, double? PtsTime, long FrameIndex, DateTimeOffset WallClock, string SeiSha256);

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
