using System.Globalization;

namespace CatEvening.SeiInjector.Bus;

/// <summary>Where a show's cue bus is: <c>redis://HOST:PORT/SHOW</c> (a Redis server and the show's name on it).</summary>
/// <param name="Host">Redis host name or address.</param>
/// <param name="Port">Redis TCP port.</param>
/// <param name="Show">The show: 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'; names the show's keys.</param>
public sealed record CueBusAddress(string Host, int Port, string Show)
{
    /// <summary>Parses <c>redis://HOST:PORT/SHOW</c>; on failure <paramref name="error"/> names the wrong part.</summary>
    public static bool TryParse(string? text, out CueBusAddress? address, out string error)
    {
        address = null;
        const string scheme = "redis://";
        if (text is null || !text.StartsWith(scheme, StringComparison.Ordinal))
        {
            error = $"'{text}' does not start with {scheme} (redis://HOST:PORT/SHOW)";
            return false;
        }
        var rest = text[scheme.Length..];
        var slash = rest.IndexOf('/');
        var hostPort = slash < 0 ? rest : rest[..slash];
        var show = slash < 0 ? "" : rest[(slash + 1)..];
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"'{text}': HOST:PORT '{hostPort}' needs a host and a port 1-65535";
            return false;
        }
        if (show.Length is 0 or > 64 || !show.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            error = $"'{text}': the show '{show}' must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'";
            return false;
        }
        address = new CueBusAddress(hostPort[..colon], port, show);
        error = "";
        return true;
    }

    /// <summary>Parses, or throws <see cref="ArgumentException"/> with the reason.</summary>
    public static CueBusAddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address! : throw new ArgumentException(error, nameof(text));

    /// <summary>The stream of the show's orders.</summary>
    public string OrdersKey => $"catevening:{Show}:orders";

    /// <summary>The counter that numbers the show's cues and cancel messages.</summary>
    public string SequenceKey => $"catevening:{Show}:seq";

    /// <summary>Cue id → bus number of every cue fired on the show (ids are unique in a show).</summary>
    public string CueIdsKey => $"catevening:{Show}:cues";

    /// <summary>Cue ids cancelled through the bus.</summary>
    public string CancelledKey => $"catevening:{Show}:cancelled";

    /// <summary>Names of the show's injectors (each has a heartbeat key, <see cref="InjectorKey"/>).</summary>
    public string InjectorsKey => $"catevening:{Show}:injectors";

    /// <summary>The heartbeat key of one injector: its state as JSON, expiring unless refreshed.</summary>
    public string InjectorKey(string name) => $"catevening:{Show}:injector:{name}";

    /// <inheritdoc/>
    public override string ToString() => $"redis://{Host}:{Port}/{Show}";
}
