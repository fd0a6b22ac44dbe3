using CatEvening.SeiInjector.Cues;

namespace CatEvening.SeiInjector.Live;

/// <summary>One change of a cue's state as the operator console lists it.</summary>
/// <param name="Number">Position in the run's history, from 1, in the order the changes happened.</param>
/// <param name="Time">When, by the injector's wall clock.</param>
/// <param name="Event">What happened, as the audit log names it (<c>accepted</c>, <c>delivered</c>, <c>repeated</c>,
/// <c>cancel_delivered</c>, <c>cancel_repeated</c>, <c>cancelled</c>, <c>ended</c>, <c>expired</c>).</param>
/// <param name="CueId">The cue.</param>
/// <param name="Sequence">The sequence number of the message concerned (the cancel message's for <c>cancel_*</c>).</param>
/// <param name="Frame">Index of the carrier frame for deliveries and repeats, else null.</param>
/// <param name="Pts">Carrier PTS (its stream's time base), else null.</param>
/// <param name="PtsTime">Carrier PTS in seconds, else null.</param>
/// <param name="Detail">Why it expired or was cancelled, or the cue whose delivery closed it; else null.</param>
public sealed record CueHistoryEntry(long Number, DateTimeOffset Time, string Event, string CueId, long Sequence, long? Frame, long? Pts, double? PtsTime, string? Detail);

/// <summary>
/// Keeps the latest <see cref="Capacity"/> cue state changes in memory for the operator console, and passes every
/// change on to the journal behind it (the audit log), unchanged. The audit log stays the record; this is its tail
/// that a browser can ask for (<c>GET /v1/history</c>) without reading the file.
/// </summary>
public sealed class CueHistory : ICueJournal
{
    /// <summary>Changes kept; older ones are dropped first (the audit log has them all).</summary>
    public const int Capacity = 2000;

    private readonly ICueJournal _inner;
    private readonly Queue<CueHistoryEntry> _entries = new();
    private readonly object _gate = new();
    private long _last;

    /// <summary>Creates the history in front of <paramref name="inner"/> (null: keeps the history only).</summary>
    public CueHistory(ICueJournal? inner) => _inner = inner ?? NullCueJournal.Instance;

    /// <summary>The changes numbered above <paramref name="after"/>, oldest first, at most <paramref name="max"/> (the newest ones when more).</summary>
    public IReadOnlyList<CueHistoryEntry> After(long after, int max = Capacity)
    {
        lock (_gate)
        {
            var found = _entries.Where(e => e.Number > after).ToList();
            return found.Count > max ? found.GetRange(found.Count - max, max) : found;
        }
    }

    /// <inheritdoc/>
    public void Record(CueJournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _inner.Record(entry);
        var name = entry.Event switch
        {
            CueEvent.Accepted => "accepted",
            CueEvent.Delivered => "delivered",
            CueEvent.Repeated => "repeated",
            CueEvent.CancelMessageDelivered => "cancel_delivered",
            CueEvent.CancelMessageRepeated => "cancel_repeated",
            CueEvent.Cancelled => "cancelled",
            CueEvent.Ended => "ended",
            _ => "expired",
        };
        var carrier = entry.Carrier;
        var sequence = entry.Event is CueEvent.CancelMessageDelivered or CueEvent.CancelMessageRepeated && entry.CloseSequence is { } close
            ? close
            : entry.Cue.Sequence;
        var time = DateTimeOffset.UnixEpoch.AddTicks(entry.WallClockMicros * TimeSpan.TicksPerMicrosecond);
        var detail = entry.Detail ?? (entry.ClosedBy is { } by ? $"closed by '{by}'" : null);
        lock (_gate)
        {
            _entries.Enqueue(new CueHistoryEntry(++_last, time, name, entry.Cue.Id, sequence, carrier?.FrameIndex, carrier?.Pts,
                carrier?.Pts is { } pts ? carrier.TimeBase.ToSeconds(pts) : null, detail));
            if (_entries.Count > Capacity) _entries.Dequeue();
        }
    }

    /// <inheritdoc/>
    public void Record(StreamStateEntry entry) => _inner.Record(entry);
}
