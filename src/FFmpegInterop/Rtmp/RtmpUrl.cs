using System.Globalization;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// The parts of an <c>rtmp://host[:port]/app[/instance]/stream[?query]</c> URL, split as FFmpeg's <c>rtmp_open</c>
/// splits them (libavformat/rtmpproto.c): the application is everything between the host and the last path segment,
/// the stream name (playpath) is the last segment with its query, and tcUrl is <c>rtmp://host:port/app</c>.
/// </summary>
/// <param name="Host">Host name or address (IPv6 without brackets).</param>
/// <param name="Port">TCP port, 1935 when the URL names none.</param>
/// <param name="App">Application, e.g. <c>live</c>.</param>
/// <param name="StreamName">Stream name (playpath), e.g. <c>show?key=1</c>.</param>
/// <param name="TcUrl">The <c>tcUrl</c> of the connect command.</param>
public sealed record RtmpUrl(string Host, int Port, string App, string StreamName, string TcUrl)
{
    /// <summary>RTMP's registered TCP port.</summary>
    public const int DefaultPort = 1935;

    /// <summary>
    /// Splits <paramref name="url"/> when the managed client can take it: plain <c>rtmp://</c> (not rtmps/rtmpt/rtmpe),
    /// no user information, no librtmp options after a space, an application and a stream name. Forms FFmpeg reads with special rules (<c>slist=</c>,
    /// <c>/ondemand/</c>, a playpath with a <c>:</c> prefix or a <c>.flv</c>/<c>.mp4</c>/<c>.f4v</c> name) are left to
    /// FFmpeg's protocol: the answer is false.
    /// </summary>
    public static bool TryParse(string url, out RtmpUrl parsed)
    {
        parsed = null!;
        const string scheme = "rtmp://";
        if (!url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var rest = url[scheme.Length..];
        var slash = rest.IndexOf('/');
        if (slash <= 0) return false;
        var authority = rest[..slash];
        var path = rest[(slash + 1)..];
        // A user and password, or librtmp-style options after a space ("key live=1"), which FFmpeg cuts off.
        if (authority.Contains('@') || url.Contains(' ')) return false;
        string host;
        var port = DefaultPort;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0) return false;
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0 && (!after.StartsWith(':') || !TryPort(after[1..], out port))) return false;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0 && !TryPort(authority[(colon + 1)..], out port)) return false;
        }
        if (host.Length == 0) return false;
        var query = path.IndexOf('?');
        var pathPart = query < 0 ? path : path[..query];
        if (path.Contains("slist=", StringComparison.Ordinal) || path.StartsWith("ondemand/", StringComparison.Ordinal)) return false;
        if (path.Contains(':') || (query >= 0 && path[query..].Contains('/'))) return false;
        var last = pathPart.LastIndexOf('/');
        if (last <= 0 || last == pathPart.Length - 1) return false;
        var app = pathPart[..last];
        var name = path[(last + 1)..];
        var bare = query < 0 ? name : name[..name.IndexOf('?')];
        if (bare.EndsWith(".flv", StringComparison.Ordinal) || bare.EndsWith(".mp4", StringComparison.Ordinal) || bare.EndsWith(".f4v", StringComparison.Ordinal)) return false;
        // FFmpeg takes at most two segments as the application (app/instance); a deeper path it splits differently.
        if (app.Count(c => c == '/') > 1) return false;
        var hostInUrl = host.Contains(':') ? $"[{host}]" : host;
        parsed = new RtmpUrl(host, port, app, name, $"rtmp://{hostInUrl}:{port.ToString(CultureInfo.InvariantCulture)}/{app}");
        return true;
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}
