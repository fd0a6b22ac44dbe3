using System.Globalization;

namespace CatEvening.LatencyProbe.Device;

/// <summary>What a line from the photodiode probe says (see <c>docs/probe-protocol.md</c>).</summary>
public enum ProbeLineKind
{
    /// <summary><c>H &lt;name&gt; &lt;version&gt;</c>: the device introduces itself after reset; its clock restarts.</summary>
    Hello,

    /// <summary><c>E &lt;channel&gt; &lt;microseconds&gt;</c>: a light edge on a channel at a device-clock time.</summary>
    Edge,

    /// <summary><c># ...</c>: free text from the device, for humans; carries no data.</summary>
    Comment,
}

/// <summary>One parsed protocol line.</summary>
/// <param name="Kind">Which line it is.</param>
/// <param name="Name">Device name (<see cref="ProbeLineKind.Hello"/>) or the comment text.</param>
/// <param name="Version">Firmware version (<see cref="ProbeLineKind.Hello"/> only).</param>
/// <param name="Channel">Edge channel: 0 the studio flash, 1 the screen sensor (<see cref="ProbeLineKind.Edge"/> only).</param>
/// <param name="Microseconds">Device-clock time of the edge, an unsigned counter that may wrap at 2^32.</param>
public readonly record struct ProbeLine(ProbeLineKind Kind, string? Name, string? Version, int Channel, ulong Microseconds)
{
    /// <summary>Channel number of the studio flash sensor.</summary>
    public const int FlashChannel = 0;

    /// <summary>Channel number of the screen sensor.</summary>
    public const int ScreenChannel = 1;

    /// <summary>Longest line accepted, in characters; anything longer is malformed.</summary>
    public const int MaxLength = 120;

    /// <summary>
    /// Parses one line without its terminator (a trailing <c>\r</c> is ignored). Returns false with a reason
    /// naming the field at fault for anything that is not a well-formed line of the protocol; never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> line, out ProbeLine result, out string? error)
    {
        result = default;
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
        if (line.Length > MaxLength)
        {
            error = $"line is {line.Length} characters long, more than {MaxLength}";
            return false;
        }
        if (line.IsEmpty)
        {
            error = "empty line";
            return false;
        }
        if (line[0] == '#')
        {
            result = new ProbeLine(ProbeLineKind.Comment, line[1..].Trim().ToString(), null, 0, 0);
            error = null;
            return true;
        }
        Span<Range> fields = stackalloc Range[4];
        var count = line.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (line[0] == 'H' && fields[0].GetOffsetAndLength(line.Length).Length == 1)
        {
            if (count != 3)
            {
                error = $"hello line has {count - 1} fields, expected 2 (name, version)";
                return false;
            }
            result = new ProbeLine(ProbeLineKind.Hello, line[fields[1]].ToString(), line[fields[2]].ToString(), 0, 0);
            error = null;
            return true;
        }
        if (line[0] == 'E' && fields[0].GetOffsetAndLength(line.Length).Length == 1)
        {
            if (count != 3)
            {
                error = $"edge line has {count - 1} fields, expected 2 (channel, microseconds)";
                return false;
            }
            if (!int.TryParse(line[fields[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var channel)
                || channel is not (FlashChannel or ScreenChannel))
            {
                error = $"edge channel '{line[fields[1]]}' is not 0 or 1";
                return false;
            }
            if (!ulong.TryParse(line[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
            {
                error = $"edge time '{line[fields[2]]}' is not an unsigned decimal number of microseconds";
                return false;
            }
            result = new ProbeLine(ProbeLineKind.Edge, null, null, channel, micros);
            error = null;
            return true;
        }
        error = $"unknown line type '{line[0]}'";
        return false;
    }
}
