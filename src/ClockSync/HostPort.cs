using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CatEvening.ClockSync;

/// <summary>
/// A <c>HOST:PORT</c> address as written on a command line (<c>studio-clock:5123</c>, <c>127.0.0.1:5123</c>,
/// <c>[::1]:5123</c>): the one parser of <c>sei-inject --clock</c> and every <c>latency-probe</c> address.
/// </summary>
/// <param name="Host">Host name or IP address literal (IPv6 without its brackets).</param>
/// <param name="Port">Port, 1-65535 (0 only where <see cref="TryParse"/> was asked to allow it).</param>
public readonly record struct HostPort(string Host, int Port)
{
    /// <summary>
    /// Splits <paramref name="text"/> into host and port; on failure <paramref name="error"/> says what is wrong in
    /// words a technician can act on (without naming the option: the caller prefixes it).
    /// </summary>
    /// <param name="text">The address as given.</param>
    /// <param name="value">The host and port when the text is well formed.</param>
    /// <param name="error">Why it is not, else null.</param>
    /// <param name="allowPortZero">Whether port 0 (a listener's "any free port") is accepted.</param>
    public static bool TryParse(string? text, out HostPort value, [NotNullWhen(false)] out string? error, bool allowPortZero = false)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty: expected HOST:PORT, for example 127.0.0.1:5123";
            return false;
        }
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            // A bare number is a port without its host ("--listen 5123"), anything else a host without its port.
            var example = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? $"0.0.0.0:{text} or 127.0.0.1:{text}" : $"{text}:5123";
            error = $"'{text}' has no port: expected HOST:PORT, for example {example}";
            return false;
        }
        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 literal without brackets: "::1" would otherwise read as host ":" and port "1".
            error = $"'{text}' is ambiguous: write an IPv6 address in brackets, for example [::1]:5123";
            return false;
        }
        if (host.Length == 0)
        {
            error = $"'{text}' has no host: expected HOST:PORT, for example 127.0.0.1{text}";
            return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535 || (port == 0 && !allowPortZero))
        {
            error = $"'{portText}' in '{text}' is not a port number ({(allowPortZero ? 0 : 1)}-65535)";
            return false;
        }
        if (host.Any(c => char.IsWhiteSpace(c) || c == '/'))
        {
            error = $"'{host}' in '{text}' is not a host name or IP address (give HOST:PORT, not a URL)";
            return false;
        }
        value = new HostPort(host, port);
        error = null;
        return true;
    }

    /// <summary>Resolves the host (an IP literal as is, else by DNS, IPv4 preferred).</summary>
    /// <exception cref="SocketException">The host name does not resolve.</exception>
    public IPEndPoint Resolve()
    {
        if (IPAddress.TryParse(Host, out var literal)) return new IPEndPoint(literal, Port);
        var addresses = Dns.GetHostAddresses(Host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(chosen, Port);
    }

    /// <summary><c>HOST:PORT</c>, IPv6 literals in brackets.</summary>
    public override string ToString() =>
        (Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture);
}
