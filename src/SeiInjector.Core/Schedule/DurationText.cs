using System.Globalization;

namespace CatEvening.SeiInjector.Schedule;

/// <summary>Durations as operators write them: <c>500ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>, <c>1h</c>.</summary>
public static class DurationText
{
    /// <summary>Parses a duration; false when the text is not a non-negative number followed by ms, s, m or h, or is
    /// longer than <see cref="Longest"/> (<see cref="IsTooLong"/>).</summary>
    public static bool TryParse(string? text, out TimeSpan duration) => Parse(text, out duration) == Outcome.Duration;

    /// <summary>The longest duration read: half of <see cref="TimeSpan.MaxValue"/> (about 14,600 years).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromTicks(TimeSpan.MaxValue.Ticks / 2);

    /// <summary>True when the text is written as a duration but is longer than <see cref="Longest"/> (e.g.
    /// <c>99999999999999h</c>): errors then say "too long", not "not a duration".</summary>
    public static bool IsTooLong(string? text) => Parse(text, out _) == Outcome.TooLong;

    private enum Outcome { NotDuration, TooLong, Duration }

    private static Outcome Parse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return Outcome.NotDuration;
        var t = text.Trim();
        (string unit, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? ("ms", 1e-3)
            : t.EndsWith('s') ? ("s", 1.0)
            : t.EndsWith('m') ? ("m", 60.0)
            : t.EndsWith('h') ? ("h", 3600.0)
            : ("", 0);
        if (scale == 0) return Outcome.NotDuration;
        var number = t[..^unit.Length];
        if (number.Length == 0 || number.StartsWith('-') || number.StartsWith('+')
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return Outcome.NotDuration;
        var seconds = value * scale;
        if (double.IsNaN(seconds)) return Outcome.NotDuration;
        if (seconds > Longest.TotalSeconds) return Outcome.TooLong;
        duration = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        return Outcome.Duration;
    }

    /// <summary>What is wrong with a text that <see cref="TryParse"/> refused, for an error message: "is too long a
    /// duration (at most ~14,600 years)" or <paramref name="otherwise"/>.</summary>
    public static string Fault(string? text, string otherwise) =>
        IsTooLong(text) ? string.Create(CultureInfo.InvariantCulture, $"is too long a duration (at most {Longest.TotalDays / 365.25:N0} years)") : otherwise;

    /// <summary>Writes a duration the way <see cref="TryParse"/> reads it.</summary>
    public static string Format(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerSecond == 0
            ? duration.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s"
            : duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
}
