using System.Text;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

/// <summary>
/// Where the program's messages go: standard error, as plain lines, or as JSON lines with <c>--log-format json</c>
/// (<c>{"time": "...", "level": "info", "message": "..."}</c>), so that a log collector gets one object per line.
/// </summary>
internal static class ProbeLog
{
    /// <summary>The format chosen on the command line (text until a command says otherwise).</summary>
    public static LogFormat Format { get; private set; } = LogFormat.Text;

    /// <summary>The writer instruments log to.</summary>
    public static TextWriter Writer { get; private set; } = Console.Error;

    public static void Use(LogFormat format)
    {
        Format = format;
        Writer = format == LogFormat.Json ? new JsonLineWriter(Console.Error, "info") : Console.Error;
    }

    /// <summary>Writes one message at <paramref name="level"/> (info, warning, error).</summary>
    public static void Write(string level, string message)
    {
        if (Format == LogFormat.Json) Console.Error.WriteLine(LiveConsoleView.FormatJsonMessage(level, message, DateTimeOffset.UtcNow));
        else Console.Error.WriteLine(message);
    }

    /// <summary>Turns every line written to it into a JSON line on the inner writer.</summary>
    private sealed class JsonLineWriter(TextWriter inner, string level) : TextWriter
    {
        private readonly StringBuilder _line = new();
        private readonly object _gate = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_gate)
            {
                if (value == '\n') Emit();
                else if (value != '\r') _line.Append(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                _line.Append(value);
                Emit();
            }
        }

        private void Emit()
        {
            inner.WriteLine(LiveConsoleView.FormatJsonMessage(level, _line.ToString(), DateTimeOffset.UtcNow));
            _line.Clear();
        }
    }
}
