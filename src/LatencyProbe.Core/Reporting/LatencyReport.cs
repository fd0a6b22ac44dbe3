namespace CatEvening.LatencyProbe.Reporting;

/// <summary>Everything one instrument run measured: the summary, the raw samples and the event counts.</summary>
/// <param name="Instrument">Which instrument made the report (<c>sei</c>, <c>timecode</c>, <c>device</c>).</param>
/// <param name="StartedUtc">When the run started.</param>
/// <param name="EndedUtc">When the report was taken.</param>
/// <param name="Summary">Order statistics of <paramref name="Samples"/>.</param>
/// <param name="Samples">Every sample in the order taken.</param>
/// <param name="Counters">Named event counts, sorted by name (missed edges, undecodable frames, ...).</param>
/// <param name="Properties">Descriptive properties of the run, sorted by name (source, device, ...).</param>
public sealed record LatencyReport(
    string Instrument,
    DateTimeOffset StartedUtc,
    DateTimeOffset EndedUtc,
    LatencySummary Summary,
    IReadOnlyList<LatencySample> Samples,
    IReadOnlyList<KeyValuePair<string, long>> Counters,
    IReadOnlyList<KeyValuePair<string, string>> Properties);
