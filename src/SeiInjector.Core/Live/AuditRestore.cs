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
    /// <param name="Resent">Messages that will go out (again): pending cues, active ones with window left, and cancel messages still in their hold.</param>
    public sealed record Result(int Resent);

    /// <summary>Restores <paramref name="replay"/> into <paramref name="book"/>, logging what it resends or closes.</summary>
    /// <exception cref="CueRejectedException">A cue in the log is no longer valid (a log from another version).</exception>
    public static Result Into(CueBook book, AuditReplay replay, AuditLog log, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(book);
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentNullException.ThrowIfNull(log);
        var micros = (now - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        var resent = 0;
        foreach (var record in replay.Cues)
        {
            var request = record.Request;
            var remaining = record.RemainingWindow(now);
            var transmissions = record.WasDelivered ? 1 + record.Repeats : 0;
            switch (record.State)
            {
                case AuditCueState.Pending:
                    if (request.At.AfterFirstFrame is { } offset && replay.FirstFrameOf(request.Id) is { } anchor)
                        request = request with { At = CueTime.At(AuditCueRecord.Later(anchor, offset)) };
                    break;
                case AuditCueState.Active when remaining > TimeSpan.Zero:
                    // A bus cue keeps its target on the source's clock and its window: the same content as the other
                    // injectors of the show carry, so readers see a repeat (its window ends where it always did).
                    if (request.At.SourcePts is null) request = request with { At = CueTime.Immediately, Duration = remaining };
                    break;
                case AuditCueState.Active:
                {
                    // Its window ran out while the injector was down: it went out, its end is recorded now.
                    var ended = book.Restore(request, record.Sequence, CueState.Ended, transmissions);
                    log.Record(new CueJournalEntry(CueEvent.Ended, micros, ended, null, "window over while the injector was down"));
                    continue;
                }
                case AuditCueState.Cancelled:
                {
                    // A cancel message still in its hold goes out again, same sequence number, for the rest of it.
                    var hold = record.RemainingCancelHold(now, book.Options.CloseHold);
                    book.Restore(request, record.Sequence, CueState.Cancelled, transmissions, record.CancelSequence, hold);
                    if (hold > TimeSpan.Zero)
                    {
                        log.Restored(request.Id, record.CancelSequence!.Value, record.State, hold);
                        resent++;
                    }
                    continue;
                }
                default:
                    book.Restore(request, record.Sequence, record.State == AuditCueState.Ended ? CueState.Ended : CueState.Expired, transmissions);
                    continue;
            }
            book.Restore(request, record.Sequence, CueState.Pending, transmissions);
            log.Restored(request.Id, record.Sequence, record.State, remaining);
            resent++;
        }
        return new Result(resent);
    }
}
