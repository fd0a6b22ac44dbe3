using CatEvening.SeiInjector.Cues;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Puts what an audit log remembers back into a fresh cue book after a crash (or a restart), so nothing accepted is
/// forgotten: finished cues keep their ids and stay finished; pending cues wait for their target again; cues that were
/// active go out again at once, same sequence number, for the rest of their window (counted by the wall clock from
/// their first transmission). A pending cue whose target was relative to the first frame of the run that accepted it
/// is pinned to that run's wall clock, so a restart does not push it later.
/// </summary>
public static class AuditRestore
{
    /// <summary>What a restore did.</summary>
    /// <param name="Resent">Cues that will go out (again): pending ones and active ones with window left.</param>
    /// <param name="DeliveredBefore">Ids of the cues earlier runs delivered, for the status counts.</param>
    public sealed record Result(int Resent, IReadOnlySet<string> DeliveredBefore);

    /// <summary>Restores <paramref name="replay"/> into <paramref name="book"/>, logging what it resends or closes.</summary>
    /// <exception cref="CueRejectedException">A cue in the log is no longer valid (a log from another version).</exception>
    public static Result Into(CueBook book, AuditReplay replay, AuditLog log, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(book);
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentNullException.ThrowIfNull(log);
        var micros = (now - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        var resent = 0;
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in replay.Cues)
        {
            var request = record.Request;
            if (record.WasDelivered) delivered.Add(request.Id);
            var remaining = record.RemainingWindow(now);
            switch (record.State)
            {
                case AuditCueState.Pending:
                    if (request.At.AfterFirstFrame is { } offset && replay.FirstFrameOf(request.Id) is { } anchor)
                        request = request with { At = CueTime.At(anchor + offset) };
                    break;
                case AuditCueState.Active when remaining > TimeSpan.Zero:
                    request = request with { At = CueTime.Immediately, Duration = remaining };
                    break;
                case AuditCueState.Active:
                {
                    // Its window ran out while the injector was down: it went out, its end is recorded now.
                    var ended = book.Restore(request, record.Sequence, CueState.Ended);
                    log.Record(new CueJournalEntry(CueEvent.Ended, micros, ended with { Transmissions = 1 + record.Repeats }, null, "window over while the injector was down"));
                    continue;
                }
                default:
                    book.Restore(request, record.Sequence, record.State switch
                    {
                        AuditCueState.Cancelled => CueState.Cancelled,
                        AuditCueState.Ended => CueState.Ended,
                        _ => CueState.Expired,
                    });
                    continue;
            }
            book.Restore(request, record.Sequence, CueState.Pending);
            log.Restored(request.Id, record.Sequence, record.State, remaining);
            resent++;
        }
        return new Result(resent, delivered);
    }
}
