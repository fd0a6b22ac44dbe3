using System.Globalization;

namespace CatEvening.SeiInjector.Schedule;

/// <summary>Durations as operators write them: <c>500ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>, <c>1h</c>.</summary>
public static class DurationText
{
    /// <summary>Parses a duration; false when the text is not a non-negative number followed by ms, s, m or h.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        (string unit, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? ("ms", 1e-3)
            : t.EndsWith('s') ? ("s", 1.0)
            : t.EndsWith('m') ? ("m", 60.0)
            : t.EndsWith('h') ? ("h", 3600.0)
            : ("", 0);
        if (scale == 0) return false;
        var number = t[..^unit.Length];
        if (number.Length == 0 || number.StartsWith('-') || number.StartsWith('+')
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return false;
        var seconds = value * scale;
        if (double.IsNaN(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds / 2) return false;
        duration = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        return true;
    }

    /// <summary>Writes a duration the way <see cref="TryParse"/> reads it.</summary>
    public static string Format(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerSecond == 0
            ? duration.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s"
            : duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
}
