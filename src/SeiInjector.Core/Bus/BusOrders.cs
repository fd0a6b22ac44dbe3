using System.Globalization;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Schedule;

namespace CatEvening.SeiInjector.Bus;

/// <summary>
/// Puts the control API's orders on a cue bus (what <c>POST /v1/cues</c> and <c>DELETE /v1/cues/ID</c> of an injector
/// on a bus do, and <c>sei-inject cue --cue-bus</c>). Every injector of a feed must place a cue on the same frame, so
/// the target goes on the bus as a presentation time of the source (<c>pts=12.5s</c>) or a wall clock: "now" becomes
/// the latest frame's source PTS plus a lead (or the wall clock plus the lead, where no frame is known); a time from
/// the first frame means a different frame on each injector and is refused.
/// </summary>
public static class BusOrders
{
    /// <summary>Publishes a fire order; the result carries the bus number (the cue's sequence number on every stream).</summary>
    /// <param name="bus">The show's bus.</param>
    /// <param name="order">The order as the control API read it.</param>
    /// <param name="lastPtsSeconds">The source PTS of the latest frame of the injector taking the order, or null.</param>
    /// <param name="lead">How far after that frame (or after now) a cue fired "now" is placed.</param>
    public static ControlResult Fire(CueBus bus, CueOrder order, double? lastPtsSeconds, TimeSpan lead)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(order);
        if (!LiveSession.TryToRequest(order, out _, out var error)) return new ControlResult(ControlOutcome.Rejected, error);
        string at;
        switch (order.At)
        {
            case CueTarget.StreamTime:
                return new ControlResult(ControlOutcome.Rejected,
                    $"field 'at': '{order.AtText}' counts from each injector's own first frame; on a cue bus use pts=SECONDS (the source's clock) or a wall clock");
            case CueTarget.Now:
                at = lastPtsSeconds is { } last
                    ? CueOrderJson.SourcePtsPrefix + DurationText.Format(TimeSpan.FromSeconds(last) + lead)
                    : (DateTimeOffset.UtcNow + lead).ToString("O", CultureInfo.InvariantCulture);
                break;
            default:
                at = order.AtText!;
                break;
        }
        var body = CueOrderJson.Write(order.Id, order.Kind, at, DurationText.Format(order.Duration), DurationText.Format(order.Spread),
            order.AppData.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(order.AppData.Span), order.Closes);
        try
        {
            return bus.PublishFire(order.Id, body) is { } published
                ? new ControlResult(ControlOutcome.Accepted, $"cue '{order.Id}' on the cue bus {bus.Address}, seq {published.Sequence}, target {at} (entry {published.EntryId})", published.Sequence)
                : new ControlResult(ControlOutcome.Rejected, $"the show already has a cue '{order.Id}'");
        }
        catch (CueBusUnavailableException e)
        {
            return new ControlResult(ControlOutcome.Unavailable, e.Message + ": the cue did not reach the show; try again");
        }
    }

    /// <summary>Publishes a cancel order; the result carries the cancel message's bus number.</summary>
    public static ControlResult Cancel(CueBus bus, string cueId)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(cueId);
        try
        {
            var (seq, entry) = bus.PublishCancel(cueId);
            return seq switch
            {
                -1 => new ControlResult(ControlOutcome.NotFound, $"the show has no cue '{cueId}'"),
                -2 => new ControlResult(ControlOutcome.Conflict, $"cue '{cueId}' was already cancelled on the show"),
                _ => new ControlResult(ControlOutcome.Accepted, $"cancel of '{cueId}' on the cue bus {bus.Address}, seq {seq} (entry {entry})", seq),
            };
        }
        catch (CueBusUnavailableException e)
        {
            return new ControlResult(ControlOutcome.Unavailable, e.Message + ": the cancel did not reach the show; try again");
        }
    }
}
