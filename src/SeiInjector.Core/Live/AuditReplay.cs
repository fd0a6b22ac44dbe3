using System.Globalization;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Schedule;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Live;

/// <summary>Where a cue stands according to the audit log.</summary>
public enum AuditCueState
{
    /// <summary>Accepted, not sent yet.</summary>
    Pending,

    /// <summary>Sent, its window may still be open (it is repeated by the carousel).</summary>
    Active,

    /// <summary>Sent and its window ended.</summary>
    Ended,

    /// <summary>Withdrawn before or while it was active.</summary>
    Cancelled,

    /// <summary>Its window closed before it could be sent.</summary>
    Expired,
}

/// <summary>One cue as the audit log tells it.</summary>
/// <param name="Request">The cue as accepted.</param>
/// <param name="Sequence">Its message sequence number.</param>
/// <param name="State">Its state after the last record.</param>
/// <param name="FirstDelivery">The carrier of its first transmission, or null when never sent.</param>
/// <param name="Repeats">How many carousel repeats were logged.</param>
/// <param name="Hold">For a close (interaction-end or cancel) once delivered: how long after its first delivery it rides.</param>
/// <param name="CancelSequence">For a cue the operator cancelled after delivery: sequence number of its cancel message.</param>
/// <param name="CancelDelivery">The carrier of that cancel message's first transmission, or null.</param>
/// <param name="CancelHold">How long after its first delivery that cancel message rides, once delivered.</param>
public sealed record AuditCueRecord(CueRequest Request, long Sequence, AuditCueState State, AuditCarrier? FirstDelivery, int Repeats,
    TimeSpan? Hold = null, long? CancelSequence = null, AuditCarrier? CancelDelivery = null, TimeSpan? CancelHold = null)
{
    /// <summary>The cue id.</summary>
    public string Id => Request.Id;

    /// <summary>True when the cue was sent at least once (whatever happened later).</summary>
    public bool WasDelivered => FirstDelivery is not null;

    /// <summary>
    /// The window left at <paramref name="now"/> for a cue that is <see cref="AuditCueState.Active"/>: its duration
    /// counted from the wall clock of its first transmission. Zero when none is left or the cue is not active.
    /// </summary>
    public TimeSpan RemainingWindow(DateTimeOffset now)
    {
        if (State != AuditCueState.Active || FirstDelivery is not { } first) return TimeSpan.Zero;
        var left = Later(first.WallClock, Hold ?? Request.Duration) - now;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// How long the cancel message of a cue the operator cancelled after delivery still rides at <paramref name="now"/>:
    /// counted from its first transmission once delivered; before that, the rest of the cancelled cue's window, or
    /// <paramref name="closeHold"/> when it has none. Zero when nothing is left or there is no cancel message.
    /// </summary>
    public TimeSpan RemainingCancelHold(DateTimeOffset now, TimeSpan closeHold)
    {
        if (State != AuditCueState.Cancelled || CancelSequence is null) return TimeSpan.Zero;
        var until = CancelDelivery is { } sent ? Later(sent.WallClock, CancelHold ?? TimeSpan.Zero)
            : Request.Duration > TimeSpan.Zero && FirstDelivery is { } first ? Later(first.WallClock, Request.Duration)
            : Later(now, closeHold);
        var left = until - now;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    // A hold may be as long as --close-hold allows (thousands of years): past the calendar's end it is "never".
    internal static DateTimeOffset Later(DateTimeOffset start, TimeSpan span) =>
        span >= DateTimeOffset.MaxValue - start ? DateTimeOffset.MaxValue : start + span;
}

/// <summary>
/// What an audit log holds: every cue and its last state, the last record and sequence numbers, and the run events,
/// read back so a restarted injector forgets nothing it accepted (see <see cref="AuditRestore"/>).
/// </summary>
public sealed class AuditReplay
{
    private readonly Dictionary<string, AuditCueRecord> _cues;
    private readonly List<string> _order;
    private readonly Dictionary<string, int> _runOfCue;
    private readonly Dictionary<int, DateTimeOffset> _firstFrameOfRun;

    private AuditReplay(Dictionary<string, AuditCueRecord> cues, List<string> order, Dictionary<string, int> runOfCue,
        Dictionary<int, DateTimeOffset> firstFrameOfRun, long lastRecordNumber,
        long lastSequenceNumber, int records, int starts, int stops, int tornTailBytes)
    {
        _cues = cues;
        _order = order;
        _runOfCue = runOfCue;
        _firstFrameOfRun = firstFrameOfRun;
        LastRecordNumber = lastRecordNumber;
        LastSequenceNumber = lastSequenceNumber;
        RecordCount = records;
        StartCount = starts;
        StopCount = stops;
        TornTailBytes = tornTailBytes;
    }

    /// <summary>Every cue ever accepted, in order of acceptance.</summary>
    public IEnumerable<AuditCueRecord> Cues => _order.Select(id => _cues[id]);

    /// <summary>The cue with this id, or null.</summary>
    public AuditCueRecord? Find(string id) => _cues.GetValueOrDefault(id);

    /// <summary>
    /// Wall clock at the first video frame of the run that accepted the cue (its timeline's origin, which targets such
    /// as <c>at: 5s</c> count from), or null when that run never got a frame.
    /// </summary>
    public DateTimeOffset? FirstFrameOf(string id) =>
        _runOfCue.TryGetValue(id, out var run) && _firstFrameOfRun.TryGetValue(run, out var wall) ? wall : null;

    /// <summary>Number of the last complete record (0 when none).</summary>
    public long LastRecordNumber { get; }

    /// <summary>The highest message sequence number that may have been used (reserved or seen), or -1.</summary>
    public long LastSequenceNumber { get; }

    /// <summary>The sequence number a restarted injector continues from.</summary>
    public long NextSequenceNumber => LastSequenceNumber + 1;

    /// <summary>Complete records read.</summary>
    public int RecordCount { get; }

    /// <summary>How many runs started on this log.</summary>
    public int StartCount { get; }

    /// <summary>How many runs stopped cleanly.</summary>
    public int StopCount { get; }

    /// <summary>Bytes after the last newline: a line torn by a crash, cut off when the log is reopened.</summary>
    public int TornTailBytes { get; }

    /// <summary>True when the last run did not stop cleanly (it crashed or was killed).</summary>
    public bool LastRunCrashed => StartCount > StopCount;

    /// <summary>The last cue bus position applied (stream entry id and bus number), or null: where the bus is read on from.</summary>
    public (string Entry, long Sequence)? BusPosition { get; private init; }

    /// <summary>Reads the audit log at <paramref name="path"/> without opening it for writing.</summary>
    /// <exception cref="AuditLogException">A complete line is not a valid audit record.</exception>
    public static AuditReplay Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var content = new byte[stream.Length];
        stream.ReadExactly(content);
        return Parse(content, path);
    }

    /// <summary>Parses the bytes of an audit log; <paramref name="name"/> is used in error messages.</summary>
    /// <exception cref="AuditLogException">A complete line is not a valid audit record.</exception>
    public static AuditReplay Parse(ReadOnlySpan<byte> content, string name)
    {
        var cues = new Dictionary<string, AuditCueRecord>(StringComparer.Ordinal);
        var order = new List<string>();
        var runOfCue = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstFrameOfRun = new Dictionary<int, DateTimeOffset>();
        long lastRecord = 0, lastSeq = -1;
        (string Entry, long Sequence)? busPosition = null;
        int records = 0, starts = 0, stops = 0, line = 0, offset = 0;
        while (offset < content.Length)
        {
            var newline = content[offset..].IndexOf((byte)'\n');
            if (newline < 0) break;
            line++;
            var text = content.Slice(offset, newline);
            if (!text.Trim("\r\t "u8).IsEmpty)
            {
                try
                {
                    using var doc = JsonDocument.Parse(text.ToArray());
                    var r = doc.RootElement;
                    lastRecord = Math.Max(lastRecord, WholeNumberField(r, "n"));
                    records++;
                    var kind = r.GetProperty("event").GetString();
                    switch (kind)
                    {
                        case "started": starts++; break;
                        case "stopped": stops++; break;
                        case "timeline": firstFrameOfRun.TryAdd(starts, ParseTime(r.GetProperty("first_frame_wall"))); break;
                        case "seq_reserved": lastSeq = Math.Max(lastSeq, CounterSequence(r, "through")); break;
                        case "accepted":
                        {
                            var (request, seq) = ReadCue(r);
                            lastSeq = Math.Max(lastSeq, seq);
                            if (!cues.ContainsKey(request.Id)) order.Add(request.Id);
                            runOfCue[request.Id] = starts;
                            cues[request.Id] = new AuditCueRecord(request, seq, AuditCueState.Pending, null, 0);
                            break;
                        }
                        case "delivered":
                        case "repeated":
                        {
                            var c = Known(cues, r);
                            var carrier = ReadCarrier(r);
                            cues[c.Id] = c with
                            {
                                State = c.State is AuditCueState.Pending or AuditCueState.Active ? AuditCueState.Active : c.State,
                                FirstDelivery = c.FirstDelivery ?? carrier,
                                Repeats = kind == "repeated" ? c.Repeats + 1 : c.Repeats,
                                Hold = r.TryGetProperty("hold", out var hold) ? Seconds(hold, "hold") : c.Hold,
                            };
                            // A delivered close closes the cue it names (the book logs that too, on the next line).
                            if (kind == "delivered" && c.Request.TargetCueId is { } closedId && c.Request.Kind is MessageKind.InteractionEnd or MessageKind.Cancel
                                && cues.TryGetValue(closedId, out var closed) && closed.State is AuditCueState.Pending or AuditCueState.Active)
                            {
                                cues[closedId] = closed with
                                {
                                    State = c.Request.Kind == MessageKind.InteractionEnd && closed.State == AuditCueState.Active ? AuditCueState.Ended : AuditCueState.Cancelled,
                                };
                            }
                            break;
                        }
                        case "cancel_delivered":
                        case "cancel_repeated":
                        {
                            var c = Known(cues, r);
                            cues[c.Id] = c with
                            {
                                CancelSequence = WholeNumberField(r, "close_seq"),
                                CancelDelivery = c.CancelDelivery ?? ReadCarrier(r),
                                CancelHold = r.TryGetProperty("hold", out var hold) ? Seconds(hold, "hold") : c.CancelHold,
                            };
                            break;
                        }
                        case "cancelled":
                        {
                            var c = Known(cues, r);
                            var operatorCancel = !r.TryGetProperty("closed_by", out _) && r.TryGetProperty("close_seq", out var closeSeq) ? WholeNumber(closeSeq, "close_seq") : (long?)null;
                            cues[c.Id] = c with { State = AuditCueState.Cancelled, CancelSequence = operatorCancel ?? c.CancelSequence };
                            break;
                        }
                        case "ended": Set(cues, r, AuditCueState.Ended); break;
                        case "expired": Set(cues, r, AuditCueState.Expired); break;
                        case "restored": Known(cues, r); break;
                        case "bus_position": busPosition = (r.GetProperty("entry").GetString()!, WholeNumberField(r, "seq")); break;
                        case "input" or "output" or "stream" or "unauthorized" or "unauthorized_summary" or "bus": break;
                        default:
                            throw new AuditLogException($"{name}: line {line} (byte {offset}): unknown event '{kind}'");
                    }
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException
                    or CueRejectedException)
                {
                    throw new AuditLogException($"{name}: line {line} (byte {offset}) is not a valid audit record: {e.Message}", e);
                }
            }
            offset += newline + 1;
        }
        return new AuditReplay(cues, order, runOfCue, firstFrameOfRun, lastRecord, lastSeq, records, starts, stops, content.Length - offset)
        {
            BusPosition = busPosition,
        };
    }

    private static void Set(Dictionary<string, AuditCueRecord> cues, JsonElement r, AuditCueState state)
    {
        var c = Known(cues, r);
        cues[c.Id] = c with { State = state };
    }

    private static AuditCueRecord Known(Dictionary<string, AuditCueRecord> cues, JsonElement r)
    {
        var id = r.GetProperty("id").GetString()!;
        return cues.TryGetValue(id, out var c) ? c : throw new FormatException($"cue '{id}' was never accepted");
    }

    private static (CueRequest Request, long Sequence) ReadCue(JsonElement r)
    {
        var kindText = r.GetProperty("kind").GetString();
        if (!MessageKinds.TryParseWireName(kindText, out var kind)) throw new FormatException($"unknown kind '{kindText}'");
        var at = r.TryGetProperty("at_offset", out var offset) ? CueTime.FromFirstFrame(Seconds(offset, "at_offset"))
            : r.TryGetProperty("at_wall", out var wall) ? CueTime.At(ParseTime(wall))
            : r.TryGetProperty("at_pts", out var pts) ? CueTime.AtSourcePts(Seconds(pts, "at_pts"))
            : CueTime.Immediately;
        var request = new CueRequest(
            r.GetProperty("id").GetString()!,
            kind,
            at,
            Seconds(r.GetProperty("duration"), "duration"),
            Seconds(r.GetProperty("spread"), "spread"),
            r.GetProperty("data").GetBytesFromBase64(),
            r.TryGetProperty("closes", out var closes) ? closes.GetString() : null);
        // What the book would refuse on restore (an id over 64 bytes, a window over 24 h) is refused here, with the line.
        CueBook.Validate(request);
        return (request, CounterSequence(r, "seq"));
    }

    // Every number of a record is checked against what the injector writes, so a corrupt or doctored line is refused
    // here with its line number instead of overflowing later: sequence, record and frame numbers are wire integers
    // (0 to 2^53 - 1, CatEveningSei.MaxSafeInteger; a larger one once failed the run's first signature, exit 70),
    // times in seconds are finite and no longer than a duration the injector reads (TimeSpan.FromSeconds threw
    // OverflowException, unhandled).
    private static long WholeNumberField(JsonElement record, string field) => WholeNumber(record.GetProperty(field), field);

    // A restarted run counts on from the highest sequence number in the log. The counter starts at the Unix time in ms
    // (about 2^40.6 in 2026), so a number this close to 2^53 - 1 is no injector's: the run would fail at its first
    // signature past 2^53 - 1 (exit 70), or a few messages later.
    private static long CounterSequence(JsonElement record, string field)
    {
        var sequence = WholeNumberField(record, field);
        return sequence <= MaxCounterSequence ? sequence
            : throw new FormatException($"{field} {sequence} leaves the next run fewer than 2^32 sequence numbers below 2^53 - 1");
    }

    /// <summary>The highest sequence number an audit log may hold for a restarted run to count on from: 2^53 - 1 - 2^32.</summary>
    public const long MaxCounterSequence = CatEveningSei.MaxSafeInteger - (1L << 32);

    private static long WholeNumber(JsonElement value, string field, bool signed = false)
    {
        var min = signed ? -CatEveningSei.MaxSafeInteger : 0;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n >= min && n <= CatEveningSei.MaxSafeInteger) return n;
        throw new FormatException($"{field} {Shown(value)} is not a whole number from {(signed ? "-(2^53 - 1)" : "0")} to 2^53 - 1");
    }

    private static TimeSpan Seconds(JsonElement value, string field)
    {
        var max = DurationText.Longest.TotalSeconds;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && double.IsFinite(seconds) && seconds >= 0 && seconds <= max)
            return TimeSpan.FromSeconds(seconds);
        throw new FormatException(string.Create(CultureInfo.InvariantCulture,
            $"{field} {Shown(value)} is not a non-negative number of seconds of at most {max:0}"));
    }

    private static double FiniteNumber(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw new FormatException($"{field} {Shown(value)} is not a finite number");

    // The value as the line has it, cut short: a number token may be a megabyte of digits.
    private static string Shown(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "…";
    }

    private static AuditCarrier ReadCarrier(JsonElement r) => new(
        r.GetProperty("pts").ValueKind == JsonValueKind.Null ? null : WholeNumber(r.GetProperty("pts"), "pts", signed: true),
        r.TryGetProperty("pts_time", out var t) ? FiniteNumber(t, "pts_time") : null,
        r.TryGetProperty("target_time", out var target) ? FiniteNumber(target, "target_time") : null,
        WholeNumberField(r, "frame"),
        ParseTime(r.GetProperty("wall")),
        r.GetProperty("sei_sha256").GetString()!,
        r.TryGetProperty("transmission_seq", out var transmission) ? WholeNumber(transmission, "transmission_seq") : null);

    private static DateTimeOffset ParseTime(JsonElement e) =>
        DateTimeOffset.Parse(e.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
