using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Cues;

/// <summary>
/// When a cue fires: an offset from the first video frame, a wall-clock instant, a presentation time of the source, or
/// as soon as possible.
/// </summary>
public readonly record struct CueTime
{
    private CueTime(TimeSpan? afterFirstFrame, DateTimeOffset? wallClock, TimeSpan? sourcePts = null)
    {
        AfterFirstFrame = afterFirstFrame;
        WallClock = wallClock;
        SourcePts = sourcePts;
    }

    /// <summary>
    /// A presentation time on the source's own clock (the input's PTS, unwrapped, as seconds), or null: the same frame
    /// on every injector that reads the same feed (renditions, main and backup), whenever each of them started.
    /// </summary>
    public TimeSpan? SourcePts { get; }

    /// <summary>Offset from the presentation time of the first video frame, or null.</summary>
    public TimeSpan? AfterFirstFrame { get; }

    /// <summary>Wall-clock instant, mapped to a presentation time through the wall clock at the latest video frame when the cue is added (the first frame for cues added before it); or null.</summary>
    public DateTimeOffset? WallClock { get; }

    /// <summary>True for "on the next video frame".</summary>
    public bool IsImmediate => AfterFirstFrame == null && WallClock == null && SourcePts == null;

    /// <summary>An offset from the first video frame (≥ 0).</summary>
    public static CueTime FromFirstFrame(TimeSpan offset) =>
        offset < TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(offset), offset, "must be ≥ 0") : new(offset, null);

    /// <summary>A wall-clock instant.</summary>
    public static CueTime At(DateTimeOffset instant) => new(null, instant);

    /// <summary>The frame whose PTS on the source's clock is <paramref name="pts"/> (≥ 0), or the first one after it.</summary>
    public static CueTime AtSourcePts(TimeSpan pts) =>
        pts < TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(pts), pts, "must be ≥ 0") : new(null, null, pts);

    /// <summary>The next video frame.</summary>
    public static CueTime Immediately => default;

    /// <inheritdoc />
    public override string ToString() =>
        AfterFirstFrame is { } o ? $"+{o.TotalSeconds:0.######}s" : SourcePts is { } s ? $"pts={s.TotalSeconds.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}s" : WallClock is { } w ? w.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "now";
}

/// <summary>A cue as the schedule file or the control API asks for it.</summary>
/// <param name="Id">Cue id, 1-64 UTF-8 bytes, unique in the book.</param>
/// <param name="Kind">interaction-start, interaction-end, cancel or custom.</param>
/// <param name="At">Target presentation time.</param>
/// <param name="Duration">How long the interaction stays open (≥ 0); the carousel repeats the cue on keyframes until it ends.</param>
/// <param name="Spread">Peak-shaving spread clients apply to their requests (≥ 0).</param>
/// <param name="AppData">Opaque application data (the schedule's <c>data</c>, as compact JSON), at most 1024 bytes.</param>
/// <param name="TargetCueId">For interaction-end and cancel: the cue they close; null for the other kinds.</param>
public sealed record CueRequest(
    string Id,
    MessageKind Kind,
    CueTime At,
    TimeSpan Duration,
    TimeSpan Spread,
    ReadOnlyMemory<byte> AppData,
    string? TargetCueId = null);
