namespace CatEvening.SeiInjector.Cues;

/// <summary>How often heartbeats ride on video frames.</summary>
public readonly record struct HeartbeatPolicy
{
    private HeartbeatPolicy(bool everyFrame, TimeSpan interval)
    {
        EveryFrame = everyFrame;
        Interval = interval;
    }

    /// <summary>No heartbeats.</summary>
    public static HeartbeatPolicy Off => default;

    /// <summary>A heartbeat on every video frame.</summary>
    public static HeartbeatPolicy OnEveryFrame => new(true, TimeSpan.Zero);

    /// <summary>True when every frame carries one.</summary>
    public bool EveryFrame { get; }

    /// <summary>Media time between heartbeats (wall-clock time when the input has no timestamps); zero when off or every frame.</summary>
    public TimeSpan Interval { get; }

    /// <summary>True when no heartbeats are sent.</summary>
    public bool IsOff => !EveryFrame && Interval == TimeSpan.Zero;

    /// <summary>One heartbeat per <paramref name="interval"/> of media time.</summary>
    public static HeartbeatPolicy Every(TimeSpan interval) =>
        interval <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(interval), interval, "must be > 0") : new(false, interval);

    /// <inheritdoc />
    public override string ToString() => IsOff ? "off" : EveryFrame ? "frame" : Schedule.DurationText.Format(Interval);
}
