using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CatEvening.LatencyProbe;

/// <summary>Parses <c>HOST:PORT</c> (IPv6 literals in brackets: <c>[::1]:123</c>).</summary>
public static class Endpoint
{
    /// <summary>Splits <paramref name="text"/> into host and port.</summary>
    /// <exception cref="FormatException">Not of the form <c>HOST:PORT</c> with a port in 1..65535.</exception>
    public static (string Host, int Port) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new FormatException($"'{text}' is not HOST:PORT");
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new FormatException($"'{text[(colon + 1)..]}' in '{text}' is not a port number 1-65535");
        return (host, port);
    }

    /// <summary>Resolves <c>HOST:PORT</c> to an IP endpoint, preferring IPv4.</summary>
    /// <exception cref="FormatException">Not of the form <c>HOST:PORT</c>.</exception>
    /// <exception cref="SocketException">The host name does not resolve.</exception>
    public static IPEndPoint Resolve(string text)
    {
        var (host, port) = Parse(text);
        if (IPAddress.TryParse(host, out var address)) return new IPEndPoint(address, port);
        var addresses = Dns.GetHostAddresses(host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(chosen, port);
    }
}
